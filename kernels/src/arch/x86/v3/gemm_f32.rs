//! f32 GEMM over packed f32 or f16 weights on ymm (f16 widened with F16C `vcvtph2ps`).
//!
//! Target cores: Haswell…Raptor Lake, Zen 1–4 (two 256-bit FMA pipes).
//! Tile: 6 rows × 16 columns (one panel = two ymm), 12 ymm accumulators; per input `kk`:
//! 2 weight loads, 6 broadcasts, 12 FMAs (the classic 6×16 AVX2 shape).
//! Tolerance: f32 relative error ≤ 1e-6 · √k against the generic twin.

use super::math::store_epilogue;
use crate::arch::x86::{Widen, V3};
use crate::frame::gemm::{drive, Depth, MicroKernel};
use crate::linear::{check_linear, Epilogue};
use crate::packed::{PackedFloat, PANEL};
use core::arch::x86_64::*;

/// The f32 GEMM over weights of type `T` (f32 or f16) as a [`MicroKernel`]: one panel per
/// tile, no depth blocking (the tile's 6 rows of `a` and its panel stream from L2).
pub(crate) struct F32Gemm<'a, 'w, T> {
    pub t: V3,
    pub a: &'a [f32],
    pub w: &'a PackedFloat<'w, T>,
    pub ep: &'a Epilogue<'w>,
    pub out: &'a mut [f32],
}

impl<T: Widen> F32Gemm<'_, '_, T> {
    /// The linear layer: `out = ep(a · Wᵀ)` over `m` rows.
    pub(crate) fn run(mut self, m: usize) {
        let (k, n) = (self.w.k(), self.w.n());
        check_linear(self.a.len(), m, k, n, self.out.len(), self.ep);
        drive(&mut self, m, n, k);
    }
}

impl<T: Widen> MicroKernel for F32Gemm<'_, '_, T> {
    const MR: usize = 6;
    const NP: usize = 1;
    const NR: usize = PANEL;

    #[inline(always)]
    fn tile(&mut self, rows: usize, _units: usize, i0: usize, p: usize, _d: Depth) {
        let Self { t, a, w, ep, .. } = *self;
        // SAFETY: the V3 token proves AVX2/FMA/F16C; `run` checked that `a` is [m, k] and
        // `out` [m, n], `PackedFloat` holds np·16·k weights, and the driver's tiles keep rows
        // i0..i0+rows and panel p in bounds.
        unsafe { tiles!(rows rows, tile[T] (t, a, i0, p, w, ep, self.out); 1 2 3 4 5 6) }
    }
}

/// One R × 16 tile: rows `i0..i0+R`, panel `p`.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C; `a` must be `[m, k]` and `out` `[m, n]` with
/// `i0 + R ≤ m`; panel `p` must exist in `w`; the epilogue slices must match.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn tile<T: Widen, const R: usize>(
    t: V3,
    a: &[f32],
    i0: usize,
    p: usize,
    w: &PackedFloat<'_, T>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    let (n, k) = (w.n(), w.k());
    let ap = a.as_ptr().add(i0 * k);
    let wp = w.data().as_ptr().add(p * PANEL * k);
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    for kk in 0..k {
        let w0 = T::widen8(t, &*(wp.add(kk * PANEL) as *const [T; 8]));
        let w1 = T::widen8(t, &*(wp.add(kk * PANEL + 8) as *const [T; 8]));
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = _mm256_set1_ps(*ap.add(r * k + kk));
            acc_r[0] = _mm256_fmadd_ps(w0, av, acc_r[0]);
            acc_r[1] = _mm256_fmadd_ps(w1, av, acc_r[1]);
        }
    }
    for h in 0..2 {
        let j0 = p * PANEL + h * 8;
        if j0 >= n {
            break;
        }
        for (r, acc_r) in acc.iter().enumerate() {
            store_epilogue(acc_r[h], i0 + r, j0, n, ep, out.as_mut_ptr());
        }
    }
}
