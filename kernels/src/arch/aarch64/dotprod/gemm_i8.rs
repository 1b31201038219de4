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

use crate::arch::aarch64::NeonDot;
use crate::frame::int8::{finish_i32, PlainTiles, Sink};
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::aarch64::*;
use core::arch::asm;

impl PlainTiles for NeonDot {
    const MR: usize = 4;

    #[inline(always)]
    fn tile(self, rows: usize, q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
        // SAFETY: a `NeonDot` token exists (this is its GEMM), so NEON and dotprod are present.
        unsafe { tiles!(rows rows, tile (q, i0, p, w, sink); 1 2 3 4) }
    }
}

/// `acc += sdot(w, a)` lane-wise (four i8 products per i32 lane).
#[inline]
#[target_feature(enable = "neon,dotprod")]
fn sdot(acc: int32x4_t, w: int8x16_t, a: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: `sdot` only reads and writes the declared vector registers; dotprod is enabled.
    unsafe {
        asm!(
            "sdot {acc:v}.4s, {w:v}.16b, {a:v}.16b",
            acc = inout(vreg) acc, w = in(vreg) w, a = in(vreg) a,
            options(pure, nomem, nostack),
        );
    }
    acc
}

/// One R × 16 tile.
#[target_feature(enable = "neon,dotprod")]
fn tile<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let k4 = k4(w.k());
    assert!(q.len() >= (i0 + R) * k4 && p * PANEL < w.n());
    let ap = q[i0 * k4..].as_ptr();
    let wp = w.data()[p * PANEL * k4..].as_ptr();
    let mut acc = [[vdupq_n_s32(0); 4]; R];
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
            for (acc_rc, wc) in acc_r.iter_mut().zip(&wv) {
                *acc_rc = sdot(*acc_rc, *wc, av);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let mut vals = [0i32; 16];
        for (v, out) in acc_r.iter().zip(vals.chunks_exact_mut(4)) {
            // SAFETY: `out` holds the 4 i32 written.
            unsafe { vst1q_s32(out.as_mut_ptr(), *v) };
        }
        finish_i32(&vals, i0 + r, p * PANEL, w, sink);
    }
}
