//! f32 GEMM over packed f32 or f16 weights on ymm (f16 widened with F16C `vcvtph2ps`).
//!
//! Target cores: Haswell…Raptor Lake, Zen 1–4 (two 256-bit FMA pipes).
//! Tile: 6 rows × 16 columns (one panel = two ymm), 12 ymm accumulators; per input `kk`:
//! 2 weight loads, 6 broadcasts, 12 FMAs (the classic 6×16 AVX2 shape).
//! Tolerance: f32 relative error ≤ 1e-6 · √k against the generic twin.

use super::math::{store_epilogue, Span8};
use crate::arch::x86::{Widen, V3};
use crate::frame::gemm::{FloatGemm, FloatLinear, FloatTiles};
use crate::packed::PANEL;
use core::arch::x86_64::*;

/// The f32 GEMM's tiles over weights of type `T` (f32 or f16), driven by
/// [`crate::frame::gemm::linear_float`]: one panel per tile, no depth blocking (the tile's 6
/// rows of `a` and its panel stream from L2).
impl<T: Widen> FloatTiles<T> for V3 {
    const MR: usize = 6;

    #[inline(always)]
    fn tile(g: &mut FloatGemm<'_, '_, V3, T>, rows: usize, i0: usize, p: usize) {
        // SAFETY: the V3 token proves AVX2/FMA/F16C.
        unsafe { tiles!(rows rows, tile[T] (g.tiles, &mut g.l, i0, p); 1 2 3 4 5 6) }
    }
}

/// One R × 16 tile: rows `i0..i0+R`, panel `p`.
#[target_feature(enable = "avx2,fma,f16c")]
fn tile<T: Widen, const R: usize>(t: V3, l: &mut FloatLinear<'_, '_, T>, i0: usize, p: usize) {
    let FloatLinear { a, w, ep, ref mut out, .. } = *l;
    let (n, k) = (w.n(), w.k());
    assert!((i0 + R) * k <= a.len() && p * PANEL < n && (i0 + R) * n <= out.len());
    let ap = a[i0 * k..].as_ptr();
    let wp = w.data()[p * PANEL * k..].as_ptr();
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    // SAFETY: rows i0..i0+R of `a` hold k values each and panel p holds 16 · k weights
    // (asserted; PackedFloat's length is panels(n) · 16 · k).
    unsafe {
        for kk in 0..k {
            let w0 = T::widen8(t, &*(wp.add(kk * PANEL) as *const [T; 8]));
            let w1 = T::widen8(t, &*(wp.add(kk * PANEL + 8) as *const [T; 8]));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_ps(*ap.add(r * k + kk));
                acc_r[0] = _mm256_fmadd_ps(w0, av, acc_r[0]);
                acc_r[1] = _mm256_fmadd_ps(w1, av, acc_r[1]);
            }
        }
    }
    for h in 0..2 {
        let j0 = p * PANEL + h * 8;
        if j0 >= n {
            break;
        }
        let cols = Span8::new(j0, n);
        for (r, acc_r) in acc.iter().enumerate() {
            store_epilogue(acc_r[h], i0 + r, cols, ep, out);
        }
    }
}
