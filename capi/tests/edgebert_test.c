/*
 * The C ABI's test: a plain C program against include/edgebert.h, linked once with
 * libedgebert.so and once with libedgebert.a (and cross-compiled for aarch64) by .ci/capi.
 *
 *   edgebert_test SENTIMENT.ebq MINILM.ebq TEXTS.txt CLASSIFY.txt EMBED.txt
 *
 * TEXTS.txt has one text per line; CLASSIFY.txt and EMBED.txt are the command line's answers for
 * the same texts (`edgebert classify/embed --json`, flattened by .ci/capi to one line per text:
 * "LABEL_INDEX P0 P1 ..." resp. "E0 E1 ..."). Every value must agree within 1e-6: C and the CLI
 * run the same engine. Then every error path of the header, hostile inputs, and 8 threads
 * sharing one model. Exit status 0 only when every check passed.
 */
#include "edgebert.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOL 1e-6f
#define MAX_TEXTS 64
#define THREADS 8
/* The batch one thread runs while another tries the same session: long enough (tens of ms
 * natively, seconds under valgrind or qemu) that the second call lands inside it. */
#define BUSY_TEXTS 64

static int checks, failures;

#define CHECK(cond, ...)                                      \
    do {                                                      \
        checks++;                                             \
        if (!(cond)) {                                        \
            failures++;                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                     \
            fprintf(stderr, " (last error: %s)\n", edgebert_last_error()); \
        }                                                     \
    } while (0)

/* A call that must fail with `code` and leave a message; prints the pair for the CI log. */
#define EXPECT_CODE(call, code, what)                                                         \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        const char *msg_ = edgebert_last_error();                                             \
        CHECK(rc_ == (code), "%s: got %d, want %s (%d)", what, rc_, #code, code);            \
        CHECK(msg_ != NULL && msg_[0] != '\0', "%s: no message", what);                       \
        if (rc_ == (code)) printf("ok %-44s -> %-28s %s\n", what, #code, msg_);               \
    } while (0)

#define EXPECT_OK(call, what)                                                               \
    do {                                                                                    \
        int rc_ = (call);                                                                   \
        CHECK(rc_ == EDGEBERT_OK, "%s: status %d", what, rc_);                              \
        CHECK(edgebert_last_error()[0] == '\0', "%s: message after success", what);         \
    } while (0)

static char *texts_buf;
static char *texts[MAX_TEXTS];
static size_t n_texts;
static size_t want_label[MAX_TEXTS];
static float want_probs[MAX_TEXTS][8];
static size_t n_labels_file;
static float *want_embed[MAX_TEXTS];
static size_t dim_file;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Splits `buf` into lines in place; returns the count. */
static size_t lines(char *buf, char **out, size_t max) {
    size_t n = 0;
    for (char *p = buf; *p && n < max;) {
        out[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    return n;
}

static void load_expected(const char *texts_path, const char *classify_path, const char *embed_path) {
    size_t len;
    texts_buf = read_file(texts_path, &len);
    n_texts = lines(texts_buf, texts, MAX_TEXTS);
    char *rows[MAX_TEXTS];
    char *classify_buf = read_file(classify_path, &len);
    size_t n = lines(classify_buf, rows, MAX_TEXTS);
    if (n != n_texts) { fprintf(stderr, "%s: %zu lines for %zu texts\n", classify_path, n, n_texts); exit(2); }
    for (size_t i = 0; i < n; i++) {
        char *p = rows[i], *end;
        want_label[i] = strtoul(p, &end, 10);
        size_t k = 0;
        for (p = end; k < 8; k++, p = end) {
            float v = strtof(p, &end);
            if (end == p) break;
            want_probs[i][k] = v;
        }
        n_labels_file = k;
    }
    free(classify_buf);
    char *embed_buf = read_file(embed_path, &len);
    n = lines(embed_buf, rows, MAX_TEXTS);
    if (n != n_texts) { fprintf(stderr, "%s: %zu lines for %zu texts\n", embed_path, n, n_texts); exit(2); }
    for (size_t i = 0; i < n; i++) {
        want_embed[i] = malloc(4096 * sizeof(float));
        char *p = rows[i], *end;
        size_t k = 0;
        for (; k < 4096; k++, p = end) {
            float v = strtof(p, &end);
            if (end == p) break;
            want_embed[i][k] = v;
        }
        dim_file = k;
    }
    free(embed_buf);
}

static float max_diff(const float *a, const float *b, size_t n) {
    float worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmaxf(worst, fabsf(a[i] - b[i]));
    return worst;
}

/* Classifies every text with `s` and compares with the CLI's answers; returns the worst |dp|. */
static float classify_all(edgebert_session *s, const char *what) {
    float worst = 0;
    for (size_t i = 0; i < n_texts; i++) {
        float p[8];
        size_t label = 99;
        EXPECT_OK(edgebert_classify(s, texts[i], p, 8, &label), what);
        CHECK(label == want_label[i], "%s: text %zu label %zu, CLI %zu", what, i, label, want_label[i]);
        worst = fmaxf(worst, max_diff(p, want_probs[i], n_labels_file));
    }
    CHECK(worst <= TOL, "%s: max |dp| %g > %g", what, worst, TOL);
    return worst;
}

static void test_classify(const char *path) {
    const char *version = NULL;
    EXPECT_OK(edgebert_version(&version), "version");
    CHECK(version && strcmp(version, EDGEBERT_VERSION_STRING) == 0, "version %s, header %s", version,
          EDGEBERT_VERSION_STRING);

    edgebert_model *m = NULL;
    EXPECT_OK(edgebert_model_open(path, &m), "open sentiment");
    size_t count = 0, max_len = 0, dim = 0;
    const char *backend = NULL, *neg = NULL, *pos = NULL;
    EXPECT_OK(edgebert_model_label_count(m, &count), "label_count");
    CHECK(count == 2 && count == n_labels_file, "label count %zu (CLI gave %zu probabilities)", count, n_labels_file);
    EXPECT_OK(edgebert_model_label_name(m, 0, &neg), "label 0");
    EXPECT_OK(edgebert_model_label_name(m, 1, &pos), "label 1");
    CHECK(neg && strcmp(neg, "negative") == 0, "label 0 is %s", neg);
    CHECK(pos && strcmp(pos, "positive") == 0, "label 1 is %s", pos);
    EXPECT_OK(edgebert_model_max_seq_len(m, &max_len), "max_seq_len");
    CHECK(max_len == 512, "max_seq_len %zu", max_len);
    EXPECT_OK(edgebert_model_embedding_dim(m, &dim), "embedding_dim");
    CHECK(dim == 384, "embedding dim %zu", dim);
    EXPECT_OK(edgebert_model_backend(m, &backend), "backend");
    CHECK(backend && backend[0], "backend name empty");

    edgebert_session *s = NULL;
    EXPECT_OK(edgebert_session_new(m, &s), "session");
    float worst = classify_all(s, "classify");

    /* The batch call gives the same numbers. */
    float *probs = malloc(n_texts * count * sizeof(float));
    size_t labels[MAX_TEXTS];
    EXPECT_OK(edgebert_classify_batch(s, (const char *const *)texts, n_texts, probs, n_texts * count, labels),
              "classify_batch");
    float batch_worst = 0;
    for (size_t i = 0; i < n_texts; i++) {
        CHECK(labels[i] == want_label[i], "batch text %zu label %zu", i, labels[i]);
        batch_worst = fmaxf(batch_worst, max_diff(probs + i * count, want_probs[i], count));
    }
    CHECK(batch_worst <= TOL, "batch max |dp| %g", batch_worst);
    /* Labels only. */
    size_t only = 99;
    EXPECT_OK(edgebert_classify(s, texts[0], NULL, 0, &only), "classify labels only");
    CHECK(only == want_label[0], "labels-only label %zu", only);
    free(probs);
    printf("classify (%s backend): %zu texts, labels equal the CLI's, max |dp| %.3g single, %.3g batch\n",
           backend, n_texts, worst, batch_worst);

    /* Tokenize: size query, then the ids. */
    size_t n_ids = 0;
    EXPECT_CODE(edgebert_tokenize(m, "a gem of a film.", NULL, 0, &n_ids), EDGEBERT_E_BUFFER_TOO_SMALL,
                "tokenize size query (capacity 0)");
    CHECK(n_ids == 8, "tokenize needs %zu ids, want 8", n_ids);
    uint32_t ids[8];
    const uint32_t want_ids[8] = {101, 1037, 17070, 1997, 1037, 2143, 1012, 102};
    EXPECT_OK(edgebert_tokenize(m, "a gem of a film.", ids, 8, &n_ids), "tokenize");
    CHECK(memcmp(ids, want_ids, sizeof ids) == 0, "tokenize ids differ");

    EXPECT_OK(edgebert_session_free(s), "session free");
    EXPECT_OK(edgebert_model_free(m), "model free");
}

static void test_embed(const char *path) {
    size_t len = 0;
    /* malloc'd memory is aligned enough; the buffer is borrowed until the model is freed. */
    char *blob = read_file(path, &len);
    edgebert_model *m = NULL;
    EXPECT_OK(edgebert_model_open_buffer(blob, len, &m), "open MiniLM from a buffer");
    size_t dim = 0, count = 99;
    EXPECT_OK(edgebert_model_embedding_dim(m, &dim), "embedding_dim");
    CHECK(dim == 384 && dim == dim_file, "dim %zu (CLI %zu)", dim, dim_file);
    EXPECT_OK(edgebert_model_label_count(m, &count), "label_count of an embedding model");
    CHECK(count == 0, "embedding model has %zu labels", count);
    edgebert_session *s = NULL;
    EXPECT_OK(edgebert_session_new(m, &s), "session");
    float *e = malloc(dim * sizeof(float)), worst = 0;
    for (size_t i = 0; i < n_texts; i++) {
        EXPECT_OK(edgebert_embed(s, texts[i], e, dim), "embed");
        worst = fmaxf(worst, max_diff(e, want_embed[i], dim));
    }
    CHECK(worst <= TOL, "embed max |de| %g", worst);
    float *all = malloc(n_texts * dim * sizeof(float)), batch_worst = 0;
    EXPECT_OK(edgebert_embed_batch(s, (const char *const *)texts, n_texts, all, n_texts * dim), "embed_batch");
    for (size_t i = 0; i < n_texts; i++) batch_worst = fmaxf(batch_worst, max_diff(all + i * dim, want_embed[i], dim));
    CHECK(batch_worst <= TOL, "embed batch max |de| %g", batch_worst);
    printf("embed: %zu texts x %zu, max |de| vs the CLI %.3g single, %.3g batch\n", n_texts, dim, worst, batch_worst);

    float p[2];
    EXPECT_CODE(edgebert_classify(s, "hello", p, 2, NULL), EDGEBERT_E_UNSUPPORTED, "classify on an embedding model");
    EXPECT_CODE(edgebert_embed(s, "hello", e, dim - 1), EDGEBERT_E_BUFFER_TOO_SMALL, "embed into dim-1 floats");
    EXPECT_CODE(edgebert_embed(s, "hello", NULL, dim), EDGEBERT_E_NULL_POINTER, "embed into NULL");
    EXPECT_CODE(edgebert_embed_batch(s, (const char *const *)texts, SIZE_MAX / 2, all, SIZE_MAX),
                EDGEBERT_E_INVALID_ARGUMENT, "embed_batch count*dim overflows");
    EXPECT_OK(edgebert_embed_batch(s, NULL, 0, NULL, 0), "embed_batch of 0 texts");
    free(e);
    free(all);
    EXPECT_OK(edgebert_session_free(s), "session free");
    EXPECT_OK(edgebert_model_free(m), "model free");
    free(blob);
}

/* A file holding `prefix` junk bytes, then the blob: the blob opened by fd + offset + length. */
static void test_fd(const char *path) {
    size_t len = 0;
    char *blob = read_file(path, &len);
    char tmp[] = "/tmp/edgebert-capi-XXXXXX";
    int fd = mkstemp(tmp);
    CHECK(fd >= 0, "mkstemp");
    unlink(tmp);
    char junk[100];
    memset(junk, 0xA5, sizeof junk);
    CHECK(write(fd, junk, sizeof junk) == (ssize_t)sizeof junk && write(fd, blob, len) == (ssize_t)len, "write");
    edgebert_model *m = NULL;
    EXPECT_OK(edgebert_model_open_fd(fd, sizeof junk, len, &m), "open by fd at offset 100");
    edgebert_session *s = NULL;
    EXPECT_OK(edgebert_session_new(m, &s), "session");
    close(fd); /* the mapping outlives the descriptor */
    float worst = classify_all(s, "classify (fd)");
    printf("classify from fd + offset 100 + length: max |dp| vs the CLI %.3g\n", worst);

    int fd2 = open(path, O_RDONLY);
    edgebert_model *bad = NULL;
    EXPECT_CODE(edgebert_model_open_fd(fd2, 2, len - 2, &bad), EDGEBERT_E_INVALID_ARGUMENT, "fd offset not a multiple of 4");
    EXPECT_CODE(edgebert_model_open_fd(fd2, 0, len + 1, &bad), EDGEBERT_E_IO, "fd region past the end of the file");
    EXPECT_CODE(edgebert_model_open_fd(fd2, 0, 0, &bad), EDGEBERT_E_INVALID_BLOB, "fd region of 0 bytes");
    EXPECT_CODE(edgebert_model_open_fd(fd2, 0, len / 2, &bad), EDGEBERT_E_INVALID_BLOB, "fd region of half the blob");
    EXPECT_CODE(edgebert_model_open_fd(fd2, UINT64_MAX - 3, 8, &bad), EDGEBERT_E_IO, "fd offset + length overflows");
    close(fd2);
    EXPECT_CODE(edgebert_model_open_fd(fd2, 0, len, &bad), EDGEBERT_E_IO, "closed fd");
    EXPECT_CODE(edgebert_model_open_fd(-1, 0, len, &bad), EDGEBERT_E_INVALID_ARGUMENT, "fd -1");
    CHECK(bad == NULL, "a failed open wrote a handle");
    EXPECT_OK(edgebert_session_free(s), "session free");
    EXPECT_OK(edgebert_model_free(m), "model free");
    free(blob);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_hostile(const char *path) {
    edgebert_model *m = NULL, *none = NULL;
    edgebert_session *s = NULL;
    float p[2];
    size_t n = 0;
    const char *str = NULL;

    /* NULL pointers. */
    EXPECT_CODE(edgebert_model_open(NULL, &m), EDGEBERT_E_NULL_POINTER, "open(NULL path)");
    EXPECT_CODE(edgebert_model_open(path, NULL), EDGEBERT_E_NULL_POINTER, "open(out_model NULL)");
    EXPECT_CODE(edgebert_model_open_buffer(NULL, 100, &m), EDGEBERT_E_NULL_POINTER, "open_buffer(NULL data)");
    EXPECT_CODE(edgebert_version(NULL), EDGEBERT_E_NULL_POINTER, "version(NULL)");
    EXPECT_CODE(edgebert_model_label_count(NULL, &n), EDGEBERT_E_NULL_POINTER, "label_count(NULL model)");
    EXPECT_CODE(edgebert_session_new(NULL, &s), EDGEBERT_E_NULL_POINTER, "session_new(NULL model)");
    EXPECT_CODE(edgebert_classify(NULL, "x", p, 2, NULL), EDGEBERT_E_NULL_POINTER, "classify(NULL session)");
    EXPECT_OK(edgebert_model_free(NULL), "model_free(NULL) is a no-op");
    EXPECT_OK(edgebert_session_free(NULL), "session_free(NULL) is a no-op");

    /* Files that are missing or not blobs. */
    EXPECT_CODE(edgebert_model_open("/nonexistent/model.ebq", &m), EDGEBERT_E_IO, "open a missing file");
    CHECK(strstr(edgebert_last_error(), "/nonexistent/model.ebq") != NULL, "message names the file");
    EXPECT_CODE(edgebert_model_open("/etc/passwd", &m), EDGEBERT_E_INVALID_BLOB, "open a text file");
    EXPECT_CODE(edgebert_model_open("/tmp", &m), EDGEBERT_E_IO, "open a directory");
    EXPECT_CODE(edgebert_model_open("\xff\xfe.ebq", &m), EDGEBERT_E_INVALID_UTF8, "open an invalid UTF-8 path");

    EXPECT_OK(edgebert_model_open(path, &m), "open sentiment");
    EXPECT_OK(edgebert_session_new(m, &s), "session");

    /* NULLs and sizes in calls on a good model. */
    EXPECT_CODE(edgebert_classify(s, NULL, p, 2, NULL), EDGEBERT_E_NULL_POINTER, "classify(NULL text)");
    EXPECT_CODE(edgebert_classify(s, "x", NULL, 2, NULL), EDGEBERT_E_NULL_POINTER, "classify(NULL probs, len 2)");
    EXPECT_CODE(edgebert_classify(s, "x", p, 1, NULL), EDGEBERT_E_BUFFER_TOO_SMALL, "classify into 1 float");
    EXPECT_CODE(edgebert_classify(s, "bad \xc3\x28 utf-8", p, 2, NULL), EDGEBERT_E_INVALID_UTF8, "classify invalid UTF-8");
    EXPECT_CODE(edgebert_classify(s, "\xed\xa0\x80 surrogate", p, 2, NULL), EDGEBERT_E_INVALID_UTF8, "classify a UTF-8 surrogate");
    EXPECT_CODE(edgebert_classify_batch(s, NULL, 3, p, 6, NULL), EDGEBERT_E_NULL_POINTER, "classify_batch(NULL texts)");
    const char *with_null[3] = {"fine", NULL, "fine"};
    EXPECT_CODE(edgebert_classify_batch(s, with_null, 3, p, SIZE_MAX, NULL), EDGEBERT_E_NULL_POINTER, "classify_batch(texts[1] NULL)");
    EXPECT_CODE(edgebert_classify_batch(s, with_null, SIZE_MAX, p, SIZE_MAX, NULL), EDGEBERT_E_INVALID_ARGUMENT,
                "classify_batch(count SIZE_MAX)");
    EXPECT_CODE(edgebert_classify_batch(s, with_null, SIZE_MAX / 4, p, SIZE_MAX, NULL), EDGEBERT_E_INVALID_ARGUMENT,
                "classify_batch(count larger than any array)");
    EXPECT_CODE(edgebert_classify_batch(s, with_null, 3, p, 5, NULL), EDGEBERT_E_BUFFER_TOO_SMALL, "classify_batch into 5 floats");
    EXPECT_OK(edgebert_classify_batch(s, NULL, 0, NULL, 0, NULL), "classify_batch of 0 texts");
    EXPECT_OK(edgebert_classify(s, "", p, 2, NULL), "classify the empty text");
    EXPECT_CODE(edgebert_model_label_name(m, 2, &str), EDGEBERT_E_INVALID_ARGUMENT, "label_name(index 2 of 2)");
    EXPECT_CODE(edgebert_model_label_name(m, SIZE_MAX, &str), EDGEBERT_E_INVALID_ARGUMENT, "label_name(SIZE_MAX)");
    EXPECT_CODE(edgebert_model_label_name(m, 0, NULL), EDGEBERT_E_NULL_POINTER, "label_name(out NULL)");
    EXPECT_CODE(edgebert_tokenize(m, "x", NULL, 0, NULL), EDGEBERT_E_NULL_POINTER, "tokenize(out_len NULL)");
    EXPECT_CODE(edgebert_tokenize(m, "x", NULL, 5, &n), EDGEBERT_E_NULL_POINTER, "tokenize(NULL ids, capacity 5)");
    EXPECT_CODE(edgebert_tokenize(m, "\x80", NULL, 0, &n), EDGEBERT_E_INVALID_UTF8, "tokenize invalid UTF-8");

    /* A long text is truncated to the model's length, not refused. */
    size_t big = 200000;
    char *longtext = malloc(big + 1);
    for (size_t i = 0; i < big; i++) longtext[i] = (i % 5 == 4) ? ' ' : 'a' + (char)(i % 7);
    longtext[big] = '\0';
    uint32_t *ids = malloc(1024 * sizeof(uint32_t));
    EXPECT_OK(edgebert_tokenize(m, longtext, ids, 1024, &n), "tokenize 200 kB of text");
    CHECK(n == 512, "a long text gives %zu ids, want max_seq_len 512", n);
    EXPECT_OK(edgebert_classify(s, longtext, p, 2, NULL), "classify 200 kB of text");
    free(ids);
    free(longtext);

    /* Wrong, forged, freed handles. */
    EXPECT_CODE(edgebert_session_new((edgebert_model *)s, &s), EDGEBERT_E_BAD_HANDLE, "a session passed as a model");
    EXPECT_CODE(edgebert_classify((edgebert_session *)m, "x", p, 2, NULL), EDGEBERT_E_BAD_HANDLE, "a model passed as a session");
    EXPECT_CODE(edgebert_model_label_count((edgebert_model *)(uintptr_t)0x1234, &n), EDGEBERT_E_BAD_HANDLE, "a forged model pointer");
    EXPECT_CODE(edgebert_classify((edgebert_session *)(uintptr_t)p, "x", p, 2, NULL), EDGEBERT_E_BAD_HANDLE,
                "a stack address as a session");
    EXPECT_OK(edgebert_model_free(m), "free the model (its session lives on)");
    EXPECT_OK(edgebert_classify(s, "still works", p, 2, NULL), "classify after the model handle was freed");
    EXPECT_CODE(edgebert_model_label_count(m, &n), EDGEBERT_E_BAD_HANDLE, "a freed model");
    EXPECT_CODE(edgebert_model_free(m), EDGEBERT_E_BAD_HANDLE, "a model freed twice");
    EXPECT_CODE(edgebert_session_new(m, &s), EDGEBERT_E_BAD_HANDLE, "a session from a freed model");
    EXPECT_OK(edgebert_session_free(s), "session free");
    EXPECT_CODE(edgebert_classify(s, "x", p, 2, NULL), EDGEBERT_E_BAD_HANDLE, "a freed session");
    EXPECT_CODE(edgebert_session_free(s), EDGEBERT_E_BAD_HANDLE, "a session freed twice");

    /* Blobs from buffers: empty, misaligned, truncated at many lengths, random, corrupted. */
    size_t len = 0;
    char *blob = read_file(path, &len);
    EXPECT_CODE(edgebert_model_open_buffer(blob, 0, &m), EDGEBERT_E_INVALID_BLOB, "open_buffer of 0 bytes");
    EXPECT_CODE(edgebert_model_open_buffer(blob, SIZE_MAX, &m), EDGEBERT_E_INVALID_ARGUMENT, "open_buffer of SIZE_MAX bytes");
    char *shifted = malloc(len + 8);
    memcpy(shifted + 1, blob, len);
    EXPECT_CODE(edgebert_model_open_buffer(shifted + 1, len, &m), EDGEBERT_E_INVALID_ARGUMENT, "open_buffer misaligned by 1");
    free(shifted);
    size_t cuts[] = {1, 8, 63, 64, 65, 100, 1000, 4096, len / 3, len / 2, len - 64, len - 1};
    int refused = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char *copy = malloc(cuts[i]);
        memcpy(copy, blob, cuts[i]);
        int rc = edgebert_model_open_buffer(copy, cuts[i], &none);
        CHECK(rc == EDGEBERT_E_INVALID_BLOB, "a blob cut to %zu bytes: status %d", cuts[i], rc);
        refused += rc == EDGEBERT_E_INVALID_BLOB;
        free(copy);
    }
    printf("ok %d truncations of the blob (1 byte .. len-1) -> EDGEBERT_E_INVALID_BLOB\n", refused);
    int random_refused = 0;
    for (int i = 0; i < 200; i++) {
        size_t n_bytes = (size_t)(next_random() % 8192);
        uint8_t *junk = malloc(n_bytes + 8);
        for (size_t k = 0; k < n_bytes; k++) junk[k] = (uint8_t)next_random();
        if (i % 2 && n_bytes >= 8) memcpy(junk, blob, 8); /* half of them with the real magic */
        int rc = edgebert_model_open_buffer(junk, n_bytes, &none);
        CHECK(rc == EDGEBERT_E_INVALID_BLOB, "random blob %d (%zu bytes): status %d", i, n_bytes, rc);
        random_refused += rc == EDGEBERT_E_INVALID_BLOB;
        free(junk);
    }
    printf("ok %d random buffers (0..8 kB, half with the real magic) -> EDGEBERT_E_INVALID_BLOB\n", random_refused);
    /* One byte flipped in the header or index: the checksum catches every one. */
    uint64_t index_len = 0;
    memcpy(&index_len, blob + 24, 8); /* FORMAT.md: header byte 24, little-endian like this host */
    int flipped_refused = 0;
    char *copy = malloc(len);
    for (int i = 0; i < 100; i++) {
        memcpy(copy, blob, len);
        size_t at = (size_t)(next_random() % (64 + index_len));
        copy[at] ^= (char)(1 + next_random() % 255);
        int rc = edgebert_model_open_buffer(copy, len, &none);
        CHECK(rc == EDGEBERT_E_INVALID_BLOB, "byte %zu flipped: status %d", at, rc);
        flipped_refused += rc == EDGEBERT_E_INVALID_BLOB;
    }
    free(copy);
    printf("ok %d single-byte corruptions of the header and index -> EDGEBERT_E_INVALID_BLOB\n", flipped_refused);
    CHECK(none == NULL, "a failed open wrote a handle");
    free(blob);
}

struct worker {
    edgebert_model *model;
    int rounds;
    int ok;
    float worst;
};

/* One thread: its own session over the shared model, every text `rounds` times. */
static void *worker_main(void *arg) {
    struct worker *w = arg;
    edgebert_session *s = NULL;
    w->ok = 0;
    w->worst = 0;
    if (edgebert_session_new(w->model, &s) != EDGEBERT_OK) return NULL;
    for (int r = 0; r < w->rounds; r++) {
        for (size_t i = 0; i < n_texts; i++) {
            float p[8];
            size_t label;
            if (edgebert_classify(s, texts[i], p, 8, &label) != EDGEBERT_OK || label != want_label[i]) {
                edgebert_session_free(s);
                return NULL;
            }
            w->worst = fmaxf(w->worst, max_diff(p, want_probs[i], n_labels_file));
        }
    }
    w->ok = edgebert_session_free(s) == EDGEBERT_OK;
    return NULL;
}

struct busy {
    edgebert_session *session;
    volatile int started;
    int rc;
};

static void *busy_main(void *arg) {
    struct busy *b = arg;
    const char *many[BUSY_TEXTS];
    for (size_t i = 0; i < BUSY_TEXTS; i++) many[i] = texts[i % n_texts];
    __atomic_store_n(&b->started, 1, __ATOMIC_SEQ_CST);
    b->rc = edgebert_classify_batch(b->session, many, BUSY_TEXTS, NULL, 0, NULL);
    return NULL;
}

static void test_threads(const char *path, int rounds) {
    edgebert_model *m = NULL;
    EXPECT_OK(edgebert_model_open(path, &m), "open sentiment");
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){m, rounds, 0, 0};
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0, "pthread_create");
    }
    float worst = 0;
    int good = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        good += w[i].ok;
        worst = fmaxf(worst, w[i].worst);
    }
    CHECK(good == THREADS, "%d of %d threads matched the CLI", good, THREADS);
    CHECK(worst <= TOL, "threads: max |dp| %g", worst);
    printf("threads: %d threads x %d rounds x %zu texts on one model, own sessions: %d matched the CLI, max |dp| %.3g\n",
           THREADS, rounds, n_texts, good, worst);

    /* One session used by two threads at once: the second caller is told, not corrupted. */
    struct busy b = {NULL, 0, -100};
    EXPECT_OK(edgebert_session_new(m, &b.session), "session");
    pthread_t bt;
    pthread_create(&bt, NULL, busy_main, &b);
    while (!__atomic_load_n(&b.started, __ATOMIC_SEQ_CST)) {
    }
    usleep(5000); /* the batch takes far longer */
    float p[2];
    EXPECT_CODE(edgebert_classify(b.session, "x", p, 2, NULL), EDGEBERT_E_BUSY, "a session used by two threads at once");
    pthread_join(bt, NULL);
    CHECK(b.rc == EDGEBERT_OK, "the first thread's batch: status %d", b.rc);
    EXPECT_OK(edgebert_session_free(b.session), "session free");
    EXPECT_OK(edgebert_model_free(m), "model free");
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s SENTIMENT.ebq MINILM.ebq TEXTS.txt CLASSIFY.txt EMBED.txt\n", argv[0]);
        return 2;
    }
    load_expected(argv[3], argv[4], argv[5]);
    const char *rounds_env = getenv("EDGEBERT_TEST_ROUNDS");
    int rounds = rounds_env ? atoi(rounds_env) : 3;
    test_classify(argv[1]);
    test_embed(argv[2]);
    test_fd(argv[1]);
    test_hostile(argv[1]);
    test_threads(argv[1], rounds > 0 ? rounds : 1);
    for (size_t i = 0; i < n_texts; i++) free(want_embed[i]);
    free(texts_buf);
    printf("%s: %d checks, %d failed\n", failures ? "FAIL" : "PASS", checks, failures);
    return failures ? 1 : 0;
}
