//! The synthetic corpus of the search bar (issue 19): 100,000 rows of 384 values, each value
//! `splitmix64(i) >> 40` scaled to [-0.5, 0.5), so that `scripts/search_reference.py` builds the
//! very same matrix in numpy and checks the top-10 by brute force.

#![allow(dead_code)]

pub const ROWS: usize = 100_000;
pub const DIM: usize = 384;
/// Queries are the values from this index on (after the corpus).
pub const QUERIES: usize = 8;

pub fn splitmix64(i: u64) -> u64 {
    let mut z = i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Values `first .. first + count` of the sequence.
pub fn values(first: usize, count: usize) -> Vec<f32> {
    (first..first + count).map(|i| (splitmix64(i as u64) >> 40) as f32 / (1u64 << 24) as f32 - 0.5).collect()
}

pub fn corpus() -> Vec<f32> {
    values(0, ROWS * DIM)
}

pub fn queries() -> Vec<f32> {
    values(ROWS * DIM, QUERIES * DIM)
}
