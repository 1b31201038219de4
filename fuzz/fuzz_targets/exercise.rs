//! The body of the `parse` fuzz target, shared with the engine's ordinary test
//! `engine/tests/fuzz_replay.rs` (which runs it over fixed mutations of the seeds when
//! `cargo fuzz` is not available): arbitrary bytes into the blob reader must give Ok or Err,
//! never a panic or an out-of-bounds read. Each input is tried as is (header, limits, checksum)
//! and once more with its checksum recomputed, so that mutations reach the index parser instead
//! of dying at H8. What opens is then fully exercised: verify, model metadata, every typed view.

use edgebert_engine::blob::{encode, parse, Blob};

/// What an input reached, for the replay test's proof that it exercised more than the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    /// The input parsed as it was.
    pub parsed: bool,
    /// With its checksum recomputed, it opened as a blob.
    pub opened: bool,
    /// It opened and its model metadata was complete and consistent.
    pub described: bool,
}

pub fn exercise(data: &[u8]) -> Reached {
    let mut reached = Reached { parsed: parse(data).is_ok(), ..Reached::default() };
    let mut sealed = data.to_vec();
    encode::seal(&mut sealed);
    if let Ok(blob) = Blob::from_bytes(&sealed) {
        reached.opened = true;
        let _ = blob.verify();
        reached.described = blob.model_info().is_ok();
        let _ = blob.tokenizer_spec();
        for t in blob.tensors() {
            let _ = blob.view(t);
        }
    }
    reached
}
