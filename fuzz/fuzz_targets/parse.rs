//! Arbitrary bytes into the blob reader: it must return Ok or Err, never panic or read out of
//! bounds. Each input is tried as is (header, limits, checksum) and once more with its checksum
//! recomputed, so that mutations reach the index parser instead of dying at H8. What opens is
//! then fully exercised: verify, model metadata, every typed view.
#![no_main]

use edgebert_engine::blob::{encode, parse, Blob};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = parse(data);
    let mut sealed = data.to_vec();
    encode::seal(&mut sealed);
    if let Ok(blob) = Blob::from_bytes(&sealed) {
        let _ = blob.verify();
        let _ = blob.model_info();
        let _ = blob.tokenizer_spec();
        for t in blob.tensors() {
            let _ = blob.view(t);
        }
    }
});
