//! int8 GEMM with the ARMv8.2 dot-product extension (`sdot`): Cortex-A55/A75/A76/A78/X1,
//! Neoverse N1/V1, Apple M1+. f32/f16 GEMM is the plain NEON one.
//!
//! Tile: 4 rows × 16 columns (one panel), 16 i32 accumulators. A 16-byte weight register holds
//! 4 columns × 4 inputs, exactly `sdot`'s shape: `acc[c] += Σ_t w[c][t] · a[t]` with the row's
//! 4 activation bytes replicated in every lane. Activations stay i8 (no u8 shift, no column
//! sums). `sdot` goes through `asm!` (its intrinsic is unstable) inside a
//! `#[target_feature(enable = "dotprod")]` function so the assembler accepts it.
//! The layout and the blocking are `frame::int8::PlainRows`'.
//! Tolerance: i32 exact.

use crate::arch::aarch64::neon::gemm_i8::plain_tile;
use crate::arch::aarch64::{asm_plain_tiles, NeonDot};
use crate::frame::int8::Sink;
use crate::packed::PackedI8;
use core::arch::aarch64::*;

asm_plain_tiles!(NeonDot:
    /// `acc += sdot(w, a)` lane-wise (four i8 products per i32 lane).
    sdot = "sdot", "neon,dotprod"
);

/// One R × 16 tile: `sdot` into 4 accumulators per row (one per 4 columns), no fold.
#[target_feature(enable = "neon,dotprod")]
fn tile<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let mac = |acc: &mut [int32x4_t; 4], wv: &[int8x16_t; 4], av: int8x16_t| {
        for (acc_c, wc) in acc.iter_mut().zip(wv) {
            *acc_c = sdot(*acc_c, *wc, av);
        }
    };
    plain_tile::<R, 4>(q, i0, p, w, sink, mac, |acc| *acc)
}
