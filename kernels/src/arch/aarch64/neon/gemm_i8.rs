//! int8 GEMM by widening multiply-accumulate, for every ARMv8-A core (Cortex-A53/A55/A72/A76,
//! Apple, Graviton).
//!
//! Tile: 2 rows × 16 columns (one panel). Each 16-byte weight register holds 4 columns ×
//! 4 inputs; `smull`/`smull2` against the row's 4 activation bytes (replicated) give i16
//! products (|q · w| ≤ 127², exact) and `sadalp` adds adjacent pairs into i32 lanes
//! (column, input pair), folded by `addp` at the end. 16 i32 accumulators. The layout and the
//! blocking are `frame::int8::PlainRows`'.
//! Epilogue: scalar (`frame::int8::finish_i32`) on each finished tile, O(m·n) beside O(m·n·k).
//! Tolerance: i32 exact.

use crate::arch::aarch64::Neon;
use crate::frame::int8::{finish_i32, PlainTiles, Sink};
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

/// One R × 16 int8 tile.
#[target_feature(enable = "neon")]
fn tile_i8<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let k4 = k4(w.k());
    assert!(q.len() >= (i0 + R) * k4 && p * PANEL < w.n());
    let ap = q[i0 * k4..].as_ptr();
    let wp = w.data()[p * PANEL * k4..].as_ptr();
    let mut acc = [[vdupq_n_s32(0); 8]; R];
    for g in 0..k4 / 4 {
        let mut wv = [vdupq_n_s8(0); 4];
        for (c, v) in wv.iter_mut().enumerate() {
            // SAFETY: panel p holds k4 / 4 groups of 64 bytes (asserted; PackedI8's lengths).
            *v = unsafe { vld1q_s8(wp.add(g * 64 + c * 16)) };
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            // SAFETY: rows i0..i0+R of `q` hold k4 bytes each (asserted).
            let word = unsafe { (ap.add(r * k4 + g * 4) as *const u32).read_unaligned() };
            let av = vreinterpretq_s8_u32(vdupq_n_u32(word));
            for (c, wc) in wv.iter().enumerate() {
                acc_r[2 * c] = vpadalq_s16(acc_r[2 * c], vmull_s8(vget_low_s8(*wc), vget_low_s8(av)));
                acc_r[2 * c + 1] = vpadalq_s16(acc_r[2 * c + 1], vmull_high_s8(*wc, av));
            }
        }
    }
    let j0 = p * PANEL;
    for (r, acc_r) in acc.iter().enumerate() {
        let mut vals = [0i32; 16];
        for (c, out) in vals.chunks_exact_mut(4).enumerate() {
            // SAFETY: `out` holds the 4 i32 written.
            unsafe { vst1q_s32(out.as_mut_ptr(), vpaddq_s32(acc_r[2 * c], acc_r[2 * c + 1])) };
        }
        finish_i32(&vals, i0 + r, j0, w, sink);
    }
}
