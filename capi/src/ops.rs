//! The calls of the API in safe Rust, shared by the C functions (`ffi`) and the JNI ones (`jni`):
//! arguments arrive here as Rust values; pointers were checked and converted at the boundary.

use crate::handles::{self, ModelEntry, SessionEntry};
use crate::status::{Failure, Outcome, E_BUFFER_TOO_SMALL, E_INVALID_ARGUMENT};
use edgebert_engine::Model;

/// Texts per engine batch: the command line's batch size, so C callers get its exact numbers
/// and a huge batch never needs more scratch memory than 32 texts do.
const BATCH: usize = 32;

pub fn open_path(path: &str) -> Outcome<usize> {
    Ok(handles::add_model(Model::open(path)?))
}

/// A blob the caller keeps alive for the model's lifetime (C: the documented borrow).
pub fn open_borrowed(bytes: &'static [u8]) -> Outcome<usize> {
    Ok(handles::add_model(Model::from_static(bytes)?))
}

/// A copy of `bytes` (JNI: a Java byte[] may move, so it cannot be borrowed).
#[cfg(feature = "jni")]
pub fn open_copy(bytes: &[u8]) -> Outcome<usize> {
    let blob = edgebert_engine::blob::Blob::from_bytes(bytes).map_err(edgebert_engine::EngineError::from)?;
    Ok(handles::add_model(Model::from_blob(blob)?))
}

pub fn open_fd(fd: std::os::fd::BorrowedFd<'_>, offset: u64, len: u64) -> Outcome<usize> {
    Ok(handles::add_model(Model::open_fd_region(fd, offset, len)?))
}

/// `count * per` elements, or an error naming the overflow.
pub fn product(count: usize, per: usize, what: &str) -> Outcome<usize> {
    count.checked_mul(per).ok_or_else(|| {
        Failure::new(
            E_INVALID_ARGUMENT,
            format!("{count} texts of {per} {what} each overflow the address space"),
        )
    })
}

/// Fails unless a buffer of `have` elements holds the `need` the call writes.
pub fn require_len(have: usize, need: usize, what: &str) -> Outcome<()> {
    if have < need {
        return Err(Failure::new(
            E_BUFFER_TOO_SMALL,
            format!("{what} holds {have} elements, the call writes {need}"),
        ));
    }
    Ok(())
}

/// Classifies `texts`: `texts.len() * labels` probabilities (label order per text) and each
/// text's best label index.
pub fn classify(session: &SessionEntry, texts: &[&str]) -> Outcome<(Vec<f32>, Vec<usize>)> {
    let labels = session.model().require_classifier()?;
    let mut s = session.lock()?;
    let (mut probs, mut best) = (Vec::with_capacity(texts.len() * labels), Vec::with_capacity(texts.len()));
    for chunk in texts.chunks(BATCH) {
        for c in s.classify(chunk)? {
            probs.extend_from_slice(&c.probs);
            best.push(c.label_id);
        }
    }
    Ok((probs, best))
}

/// Embeds `texts`: `texts.len() * embedding_dim` floats.
pub fn embed(session: &SessionEntry, texts: &[&str]) -> Outcome<Vec<f32>> {
    let mut s = session.lock()?;
    let mut out = Vec::with_capacity(texts.len() * embedding_dim(session.model()));
    for chunk in texts.chunks(BATCH) {
        s.embed(chunk)?.iter().for_each(|e| out.extend_from_slice(e));
    }
    Ok(out)
}

pub fn embedding_dim(model: &ModelEntry) -> usize {
    model.model.info().config.hidden_size
}

/// The ids of `text`, for the caller to copy out.
pub fn tokenize(model: &ModelEntry, text: &str) -> Outcome<Vec<u32>> {
    Ok(model.model.tokenize(text)?.ids)
}
