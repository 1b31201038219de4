//! Arbitrary bytes into the blob reader (see `exercise.rs`, shared with the engine's replay test).
#![no_main]

mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = exercise::exercise(data);
});
