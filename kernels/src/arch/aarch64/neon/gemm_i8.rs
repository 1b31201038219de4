//! int8 GEMM by widening multiply-accumulate, for every ARMv8-A core (Cortex-A53/A55/A72/A76,
//! Apple, Graviton).
//!
//! Tile: 2 rows × 16 columns (one panel). Each 16-byte weight register holds 4 columns ×
//! 4 inputs; `smull`/`smull2` against the row's 4 activation bytes (replicated) give i16
//! products (|q · w| ≤ 127², exact) and `sadalp` adds adjacent pairs into i32 lanes
//! (column, input pair), folded by `addp` at the end. 16 i32 accumulators. The layout and the
//! blocking are `frame::int8::PlainRows`'.
//! Epilogue: NEON (`neon::math::finish_i32`) on each finished tile row, O(m·n) beside O(m·n·k).
//! Tolerance: i32 exact.

use crate::arch::aarch64::neon::math::finish_i32;
use crate::arch::aarch64::Neon;
use crate::frame::int8::{PlainTiles, Sink};
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::aarch64::*;

impl PlainTiles for Neon {
    const MR: usize = 2;

    #[inline(always)]
    fn tile(self, rows: usize, q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
        // SAFETY: a `Neon` token exists (this is its GEMM), so NEON is present.
        unsafe { tiles!(rows rows, tile_i8 (q, i0, p, w, sink); 1 2) }
    }
}

/// One R × 16 int8 tile: widening multiply-accumulate into 8 accumulators per row, folded
/// pairwise by `addp`.
#[target_feature(enable = "neon")]
fn tile_i8<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let mac = |acc: &mut [int32x4_t; 8], wv: &[int8x16_t; 4], av: int8x16_t| {
        for (c, wc) in wv.iter().enumerate() {
            acc[2 * c] = vpadalq_s16(acc[2 * c], vmull_s8(vget_low_s8(*wc), vget_low_s8(av)));
            acc[2 * c + 1] = vpadalq_s16(acc[2 * c + 1], vmull_high_s8(*wc, av));
        }
    };
    let fold = |acc: &[int32x4_t; 8]| core::array::from_fn(|c| vpaddq_s32(acc[2 * c], acc[2 * c + 1]));
    plain_tile::<R, 8>(q, i0, p, w, sink, mac, fold)
}

/// The loop nest of a plain-layout int8 tile (`frame::int8::PlainRows`), shared with the
/// dot-product backend: per group of four inputs, four 16-byte weight registers (4 columns ×
/// 4 inputs each) and each row's 4 activation bytes replicated go through `mac` into the row's
/// `A` accumulators; `fold` turns them into 4 registers of 4 column sums, finished into `sink`.
/// Called from each backend's `#[target_feature]` tile, whose features include NEON, so it
/// inlines there (the closures inherit the tile's features).
#[inline]
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn plain_tile<const R: usize, const A: usize>(
    q: &[i8],
    i0: usize,
    p: usize,
    w: &PackedI8<'_>,
    sink: &mut Sink<'_, '_>,
    mac: impl Fn(&mut [int32x4_t; A], &[int8x16_t; 4], int8x16_t),
    fold: impl Fn(&[int32x4_t; A]) -> [int32x4_t; 4],
) {
    let k4 = k4(w.k());
    assert!(q.len() >= (i0 + R) * k4 && p * PANEL < w.n());
    let ap = q[i0 * k4..].as_ptr();
    let wp = w.data()[p * PANEL * k4..].as_ptr();
    let mut acc = [[vdupq_n_s32(0); A]; R];
    for g in 0..k4 / 4 {
        let mut wv = [vdupq_n_s8(0); 4];
        for (c, v) in wv.iter_mut().enumerate() {
            // SAFETY: panel p holds k4 / 4 groups of 64 bytes (asserted; PackedI8's lengths).
            *v = unsafe { vld1q_s8(wp.add(g * 64 + c * 16)) };
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            // SAFETY: rows i0..i0+R of `q` hold k4 bytes each (asserted).
            let word = unsafe { (ap.add(r * k4 + g * 4) as *const u32).read_unaligned() };
            mac(acc_r, &wv, vreinterpretq_s8_u32(vdupq_n_u32(word)));
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let mut vals = [0i32; 16];
        for (v, out) in fold(acc_r).iter().zip(vals.chunks_exact_mut(4)) {
            // SAFETY: `out` holds the 4 i32 written.
            unsafe { vst1q_s32(out.as_mut_ptr(), *v) };
        }
        finish_i32(&vals, i0 + r, p * PANEL, w, sink);
    }
}
