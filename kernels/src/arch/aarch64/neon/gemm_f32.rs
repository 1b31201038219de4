//! f32 and f16-weight GEMM by `fmla`, for every ARMv8-A core.
//!
//! Tile: 4 rows × 16 columns (4 q registers per row), 16 accumulators; f16 weights are
//! widened with `fcvtl`/`fcvtl2` (through `asm!`: the f16 vector types are unstable in Rust).
//! Blocking: `frame::gemm::linear_float`. Epilogue: NEON (`neon::math::finish_f32`) on each
//! finished tile row, O(m·n) beside O(m·n·k).
//! Tolerance: f32 relative error ≤ 1e-6 · √k against the generic twin.

use crate::arch::aarch64::neon::math::finish_f32;
use crate::arch::aarch64::Neon;
use crate::frame::gemm::{FloatGemm, FloatLinear, FloatTiles};
use crate::packed::PANEL;
use core::arch::aarch64::*;
use core::arch::asm;
use half::f16;

/// Packed weights the f32 GEMM reads: f32 as is, f16 widened by `fcvtl`.
pub(crate) trait Widen: Copy {
    /// 16 consecutive weights as f32; the token proves NEON.
    fn load16(t: Neon, w: &[Self; 16]) -> [float32x4_t; 4];
}

impl Widen for f32 {
    #[inline(always)]
    fn load16(_: Neon, w: &[f32; 16]) -> [float32x4_t; 4] {
        let p = w.as_ptr();
        // SAFETY: `w` holds the 64 bytes read; the token proves NEON.
        unsafe { [vld1q_f32(p), vld1q_f32(p.add(4)), vld1q_f32(p.add(8)), vld1q_f32(p.add(12))] }
    }
}

impl Widen for f16 {
    #[inline(always)]
    fn load16(_: Neon, w: &[f16; 16]) -> [float32x4_t; 4] {
        let p = w.as_ptr() as *const u16;
        // SAFETY: `w` holds the 32 bytes read; the token proves NEON.
        let (h0, h1) = unsafe { (vld1q_u16(p), vld1q_u16(p.add(8))) };
        let (a, b, c, d): (float32x4_t, float32x4_t, float32x4_t, float32x4_t);
        // SAFETY: `fcvtl`/`fcvtl2` only read and write the declared vector registers.
        unsafe {
            asm!(
            "fcvtl {a:v}.4s, {h0:v}.4h",
            "fcvtl2 {b:v}.4s, {h0:v}.8h",
            "fcvtl {c:v}.4s, {h1:v}.4h",
            "fcvtl2 {d:v}.4s, {h1:v}.8h",
            h0 = in(vreg) h0, h1 = in(vreg) h1,
            a = out(vreg) a, b = out(vreg) b, c = out(vreg) c, d = out(vreg) d,
            options(pure, nomem, nostack),
            );
        }
        [a, b, c, d]
    }
}

/// The f32 GEMM's tiles over weights of type `T` (f32 or f16), driven by
/// [`crate::frame::gemm::linear_float`]: 4 × 16 tiles, one depth block.
impl<T: Widen> FloatTiles<T> for Neon {
    const MR: usize = 4;

    #[inline(always)]
    fn tile(g: &mut FloatGemm<'_, '_, Neon, T>, rows: usize, i0: usize, p: usize) {
        // SAFETY: the Neon token proves NEON.
        unsafe { tiles!(rows rows, tile_float[T] (g.tiles, &mut g.l, i0, p); 1 2 3 4) }
    }
}

/// One R × 16 f32 tile.
#[target_feature(enable = "neon")]
fn tile_float<T: Widen, const R: usize>(t: Neon, l: &mut FloatLinear<'_, '_, T>, i0: usize, p: usize) {
    let FloatLinear { a, w, ep, ref mut out, .. } = *l;
    let (n, k) = (w.n(), w.k());
    assert!((i0 + R) * k <= a.len() && p * PANEL < n);
    let ap = a[i0 * k..].as_ptr();
    let wp = w.data()[p * PANEL * k..].as_ptr();
    let mut acc = [[vdupq_n_f32(0.0); 4]; R];
    for kk in 0..k {
        // SAFETY: panel p holds 16 · k weights (asserted; PackedFloat's length).
        let wv = T::load16(t, unsafe { &*(wp.add(kk * PANEL) as *const [T; 16]) });
        for (r, acc_r) in acc.iter_mut().enumerate() {
            // SAFETY: rows i0..i0+R of `a` hold k values each (asserted).
            let av = unsafe { *ap.add(r * k + kk) };
            for (acc_rc, wc) in acc_r.iter_mut().zip(&wv) {
                *acc_rc = vfmaq_n_f32(*acc_rc, *wc, av);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let mut vals = [0f32; 16];
        for (v, out) in acc_r.iter().zip(vals.chunks_exact_mut(4)) {
            // SAFETY: `out` holds the 4 floats written.
            unsafe { vst1q_f32(out.as_mut_ptr(), *v) };
        }
        finish_f32(&vals, i0 + r, p * PANEL, n, ep, out);
    }
}
