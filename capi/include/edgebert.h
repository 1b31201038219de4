/*
 * edgebert.h — the C interface of edgebert, an on-device inference engine for BERT-family
 * encoders (text classification and sentence embeddings from a converted `.ebq` blob).
 *
 * Link with libedgebert.so (or libedgebert.a plus the system libraries that
 * `cargo rustc -p edgebert-capi --crate-type staticlib -- --print native-static-libs` names:
 * on Linux `-lpthread -ldl -lm -lgcc_s -lc`).
 *
 * Conventions (every function below follows them):
 *  - Every function returns an int status: EDGEBERT_OK (0), or a negative EDGEBERT_E_* code.
 *    Exceptions: edgebert_last_error() returns the message itself.
 *  - After every call, edgebert_last_error() on the same thread gives a message: "" after
 *    success, a sentence naming the problem (and the file) after a failure.
 *  - Outputs go through pointer arguments named out_*; on failure they are left untouched
 *    unless a function says otherwise.
 *  - The caller owns every buffer it passes (texts, float and id buffers) and keeps ownership:
 *    edgebert never keeps a pointer to one after the call returns — except the blob buffer of
 *    edgebert_model_open_buffer(), borrowed for the model's lifetime.
 *  - Strings returned through `const char **` (version, backend, label names) are owned by
 *    edgebert and stay valid as stated on each function; never free them.
 *  - Texts are NUL-terminated UTF-8; invalid UTF-8 gives EDGEBERT_E_INVALID_UTF8.
 *  - Handles are opaque. A handle that was freed, never came from edgebert, or is of the other
 *    type gives EDGEBERT_E_BAD_HANDLE (handles are never reused, so this is always detected).
 *  - No call aborts or unwinds into C: an internal failure returns EDGEBERT_E_INTERNAL.
 *
 * Threads: an edgebert_model is immutable and shared — every function taking a
 * `const edgebert_model *` is thread-safe. An edgebert_session holds one thread's scratch
 * memory: create one per thread. Using one session from two threads at once is detected and
 * gives EDGEBERT_E_BUSY to the second caller. Work inside one call may also use the engine's own
 * worker threads (all cores by default; set RAYON_NUM_THREADS before the first call to limit).
 */
#ifndef EDGEBERT_H
#define EDGEBERT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDGEBERT_VERSION_MAJOR 0
#define EDGEBERT_VERSION_MINOR 1
#define EDGEBERT_VERSION_PATCH 0
#define EDGEBERT_VERSION_STRING "0.1.0"

/* Status codes. */
#define EDGEBERT_OK 0
/* A required pointer argument is NULL. */
#define EDGEBERT_E_NULL_POINTER (-1)
/* A text or path is not valid UTF-8. */
#define EDGEBERT_E_INVALID_UTF8 (-2)
/* An output buffer is shorter than needed; the message says how long it must be. */
#define EDGEBERT_E_BUFFER_TOO_SMALL (-3)
/* A handle that is freed, unknown, or of the wrong type (a session passed as a model ...). */
#define EDGEBERT_E_BAD_HANDLE (-4)
/* The file cannot be opened or mapped (missing, unreadable, region past its end). */
#define EDGEBERT_E_IO (-5)
/* The bytes are not a usable edgebert blob: garbage, truncated, corrupted, newer format. */
#define EDGEBERT_E_INVALID_BLOB (-6)
/* An argument is out of range: a misaligned buffer, a negative fd, a count that overflows. */
#define EDGEBERT_E_INVALID_ARGUMENT (-7)
/* The model cannot do this: classify on a model without a classification head. */
#define EDGEBERT_E_UNSUPPORTED (-8)
/* The engine refused the input (the tokenizer failed on the text). */
#define EDGEBERT_E_INPUT (-9)
/* The session is in use by another thread right now. */
#define EDGEBERT_E_BUSY (-10)
/* A bug inside edgebert (a caught panic); the message has the details. Please report it. */
#define EDGEBERT_E_INTERNAL (-11)

/* A loaded model: immutable, shared by every thread. */
typedef struct edgebert_model edgebert_model;
/* One thread's working state over a model. */
typedef struct edgebert_session edgebert_session;

/* The message of the last edgebert call on this thread ("" after a success). Never NULL.
 * Owned by edgebert; valid until the next edgebert call on this thread. */
const char *edgebert_last_error(void);

/* The library's version, e.g. "0.1.0" (equal to EDGEBERT_VERSION_STRING of the header it was
 * built with). *out_version is static. Thread-safe. */
int edgebert_version(const char **out_version);

/* Opens the blob file at `path` (UTF-8), mapped read-only: opening costs well under a
 * millisecond, weights are paged in on first use. On success *out_model is a new handle the
 * caller frees with edgebert_model_free(). Thread-safe. */
int edgebert_model_open(const char *path, edgebert_model **out_model);

/* Opens a blob from the caller's memory, used in place (no copy). BORROWED: the `len` bytes at
 * `data` must stay valid and unchanged until edgebert_model_free() of this model and of every
 * session made from it. `data` must be 4-byte aligned (malloc'd memory is); otherwise
 * EDGEBERT_E_INVALID_ARGUMENT. Thread-safe. */
int edgebert_model_open_buffer(const void *data, size_t len, edgebert_model **out_model);

/* Opens a blob stored at bytes [offset, offset + len) of the open file `fd`, mapped read-only:
 * how Android reads an asset stored uncompressed in an APK (AssetFileDescriptor's fd,
 * getStartOffset(), getLength()). `offset` must be a multiple of 4 (zipalign's default). The
 * caller keeps `fd` and may close it as soon as this returns. Thread-safe. */
int edgebert_model_open_fd(int fd, uint64_t offset, uint64_t len, edgebert_model **out_model);

/* Frees a model handle; NULL is a no-op (returns EDGEBERT_OK). The handle is invalid at once;
 * sessions made from it keep working and the model's memory is released with the last one. */
int edgebert_model_free(edgebert_model *model);

/* The number of labels of a classification model (0 for an embedding model). Thread-safe. */
int edgebert_model_label_count(const edgebert_model *model, size_t *out_count);

/* The name of label `index` (0-based, in the order of classify's probabilities). *out_name is
 * owned by the model and valid until edgebert_model_free(). Thread-safe. */
int edgebert_model_label_name(const edgebert_model *model, size_t index, const char **out_name);

/* The longest input in tokens, [CLS] and [SEP] included; longer texts are truncated. */
int edgebert_model_max_seq_len(const edgebert_model *model, size_t *out_len);

/* The length of one embedding (the hidden size, e.g. 384): the float count edgebert_embed()
 * writes per text. Thread-safe. */
int edgebert_model_embedding_dim(const edgebert_model *model, size_t *out_dim);

/* The kernel backend the model runs on ("avx512-vnni", "avx-vnni", "avx2", "neon-i8mm",
 * "neon-dotprod", "neon", "armv7-neon", "generic", ...). *out_name is owned by the model,
 * valid until edgebert_model_free(). Thread-safe. */
int edgebert_model_backend(const edgebert_model *model, const char **out_name);

/* Token ids of `text` as the model sees it ([CLS] ... [SEP], truncated to max_seq_len).
 * *out_len receives the number of ids, also when the status is EDGEBERT_E_BUFFER_TOO_SMALL, so
 * a first call with ids = NULL, capacity = 0 asks for the size. Thread-safe. */
int edgebert_tokenize(const edgebert_model *model, const char *text, uint32_t *ids, size_t capacity,
                      size_t *out_len);

/* A new session over `model`, freed by the caller with edgebert_session_free(). */
int edgebert_session_new(const edgebert_model *model, edgebert_session **out_session);

/* Frees a session; NULL is a no-op (returns EDGEBERT_OK). */
int edgebert_session_free(edgebert_session *session);

/* Classifies one text: writes the probability of each label (softmax, label order) into
 * probs[0 .. label_count) and the most probable label's index into *out_label (either output may
 * be NULL when not wanted; probs = NULL needs probs_len = 0). probs_len < label_count gives
 * EDGEBERT_E_BUFFER_TOO_SMALL. A model without a classification head gives
 * EDGEBERT_E_UNSUPPORTED. One thread per session. */
int edgebert_classify(edgebert_session *session, const char *text, float *probs, size_t probs_len,
                      size_t *out_label);

/* Classifies `count` texts in one batch (faster than one by one): text i's probabilities at
 * probs[i * label_count ...], its best label at out_labels[i] (out_labels may be NULL).
 * probs_len must be at least count * label_count. One thread per session. */
int edgebert_classify_batch(edgebert_session *session, const char *const *texts, size_t count,
                            float *probs, size_t probs_len, size_t *out_labels);

/* The sentence embedding of `text` (the blob's pooling: mean of the last hidden state and L2
 * normalisation for sentence-transformers models) into out[0 .. embedding_dim).
 * out_len < embedding_dim gives EDGEBERT_E_BUFFER_TOO_SMALL. One thread per session. */
int edgebert_embed(edgebert_session *session, const char *text, float *out, size_t out_len);

/* Embeds `count` texts in one batch: text i's embedding at out[i * embedding_dim ...];
 * out_len must be at least count * embedding_dim. One thread per session. */
int edgebert_embed_batch(edgebert_session *session, const char *const *texts, size_t count, float *out,
                         size_t out_len);

#ifdef __cplusplus
}
#endif

#endif /* EDGEBERT_H */
