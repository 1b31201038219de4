//! The blob fuzz target's body (fuzz/fuzz_targets/exercise.rs) as an ordinary test, for machines
//! without nightly Rust and `cargo fuzz`: every seed in fuzz/seeds (and the fuzzer's corpus,
//! when one exists) as it is, then a fixed set of mutations of each — truncations, single-bit
//! flips, bytes set to 0x00 / 0xFF / 0x7F, u64 fields set to extremes, spliced ranges — each of
//! which must give Ok or Err without a panic. `.ci/run` runs the real fuzzer when it can.

#[path = "../../fuzz/fuzz_targets/exercise.rs"]
mod exercise;

use exercise::{exercise, Reached};
use std::path::{Path, PathBuf};

fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in [root.join("seeds"), root.join("corpus/parse")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.expect("readable directory").path();
            if path.is_file() {
                let bytes = std::fs::read(&path).expect("readable seed");
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    assert!(files.len() >= 3, "fuzz/seeds must hold the seed blobs; found {}", files.len());
    files
}

/// A small deterministic generator, so every run replays the same mutations.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// The fixed mutations of one seed.
fn mutations(seed: &[u8], rng: &mut Lcg) -> Vec<Vec<u8>> {
    let n = seed.len();
    let mut out = Vec::new();
    // Truncations: every length through the header and index region, then a spread over the data.
    for len in (0..n.min(512)).chain((512..n).step_by(97)) {
        out.push(seed[..len].to_vec());
    }
    // Every bit of the 64-byte header, and single bytes forced to boundary values in the index.
    for bit in 0..(64 * 8).min(n * 8) {
        let mut m = seed.to_vec();
        m[bit / 8] ^= 1 << (bit % 8);
        out.push(m);
    }
    for at in (64..n.min(2048)).step_by(3) {
        for value in [0x00, 0xFF, 0x7F] {
            let mut m = seed.to_vec();
            m[at] = value;
            out.push(m);
        }
    }
    // Little-endian u64 fields (lengths, offsets, shapes) set to extremes at random places.
    for _ in 0..400 {
        let at = rng.below(n.saturating_sub(8));
        for value in [u64::MAX, 1 << 40, 0, n as u64 + 1] {
            let mut m = seed.to_vec();
            if let Some(field) = m.get_mut(at..at + 8) {
                field.copy_from_slice(&value.to_le_bytes());
            }
            out.push(m);
        }
    }
    // One range copied over another (duplicated names, overlapping entries).
    for _ in 0..200 {
        let (from, to, len) = (rng.below(n), rng.below(n), 1 + rng.below(64));
        let mut m = seed.to_vec();
        let piece: Vec<u8> = seed[from..(from + len).min(n)].to_vec();
        let end = (to + piece.len()).min(n);
        m[to..end].copy_from_slice(&piece[..end - to]);
        out.push(m);
    }
    out
}

#[test]
fn the_fuzz_target_survives_mutated_seeds() {
    let mut rng = Lcg(0x5EED);
    let (mut inputs, mut opened, mut described, mut rejected) = (0usize, 0usize, 0usize, 0usize);
    for (path, seed) in seeds() {
        let whole = exercise(&seed);
        assert!(whole.parsed && whole.opened, "{}: the seed itself must open", path.display());
        for m in mutations(&seed, &mut rng) {
            let r: Reached = exercise(&m);
            inputs += 1;
            opened += usize::from(r.opened);
            described += usize::from(r.described);
            rejected += usize::from(!r.parsed);
        }
    }
    println!("{inputs} mutated blobs: {rejected} rejected as they were, {opened} opened once resealed, {described} with a usable model description");
    // The mutations must reach past the header checks, and must also break things.
    assert!(inputs > 10_000, "{inputs} mutations");
    assert!(
        opened > inputs / 10,
        "only {opened} of {inputs} opened once resealed: the replay stays at the header"
    );
    assert!(described > 0, "no mutation kept a usable model description");
    assert!(rejected > inputs / 2, "only {rejected} of {inputs} rejected: the mutations are too mild");
}
