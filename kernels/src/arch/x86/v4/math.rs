//! zmm vector math: exp and the fused GEMM epilogue (the zmm GELU is table-based, `v4::gelu`).
//!
//! Target cores: any AVX-512F x86-64 (Skylake-SP, Ice Lake, Zen 4).
//! Tolerance: exp within 2 ulp over [-87, 88].

use crate::linear::Epilogue;
use core::arch::x86_64::*;

pub(crate) use super::gelu::gelu;

/// exp on 16 lanes; inputs below -104 (including -inf) give 0.
///
/// # Safety
/// The CPU must support AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn exp(x: __m512) -> __m512 {
    let x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7)), _mm512_set1_ps(-104.0));
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm512_mul_ps(
        x,
        _mm512_set1_ps(std::f32::consts::LOG2_E),
    ));
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_145_75), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428_606_8e-6), r);
    let mut p = _mm512_set1_ps(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    _mm512_scalef_ps(p, n)
}

/// Lane mask for the columns `j0..min(j0 + 16, n)`.
#[inline]
pub(crate) fn col_mask(j0: usize, n: usize) -> __mmask16 {
    let valid = n.saturating_sub(j0).min(16);
    ((1u32 << valid) - 1) as __mmask16
}

/// Finishes 16 outputs `y` of row `i`, columns `j0..j0 + 16` (masked to `n`): bias, GELU,
/// residual, store into `out` (`[m, n]` row-major).
///
/// # Safety
/// The CPU must support AVX-512F; `out` (and `ep.residual`) must hold row `i` of an `n`-wide
/// matrix, `ep.bias` must have `n` elements, and `j0 < n`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store_epilogue(
    mut y: __m512,
    i: usize,
    j0: usize,
    n: usize,
    ep: &Epilogue<'_>,
    out: *mut f32,
) {
    debug_assert!(j0 < n);
    // Whole panels (all but a ragged last one) use plain loads and stores: no mask to build.
    let full = j0 + 16 <= n;
    let mask = col_mask(j0, n);
    let load = |p: *const f32| if full { _mm512_loadu_ps(p) } else { _mm512_maskz_loadu_ps(mask, p) };
    if let Some(b) = ep.bias {
        y = _mm512_add_ps(y, load(b.as_ptr().add(j0)));
    }
    if ep.gelu {
        y = gelu(y);
    }
    if let Some(r) = ep.residual {
        y = _mm512_add_ps(y, load(r.as_ptr().add(i * n + j0)));
    }
    if full {
        _mm512_storeu_ps(out.add(i * n + j0), y);
    } else {
        _mm512_mask_storeu_ps(out.add(i * n + j0), mask, y);
    }
}

/// GELU (erf form) in place over a slice.
pub(crate) fn gelu_slice(_t: crate::arch::x86::V4, x: &mut [f32]) {
    // SAFETY: the V4 token proves AVX-512F; every access is masked to `x`.
    unsafe { gelu_slice_impl(x) }
}

#[target_feature(enable = "avx512f")]
unsafe fn gelu_slice_impl(x: &mut [f32]) {
    for j0 in (0..x.len()).step_by(16) {
        let mask = col_mask(j0, x.len());
        let p = x.as_mut_ptr().add(j0);
        _mm512_mask_storeu_ps(p, mask, gelu(_mm512_maskz_loadu_ps(mask, p)));
    }
}
