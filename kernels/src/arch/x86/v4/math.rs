//! zmm vector math: exp, the fused GEMM epilogue, and the row kernels (GELU over a slice, masked
//! softmax, LayerNorm; the zmm GELU itself is table-based, `v4::gelu`). Rows are processed 16
//! lanes at a time with a masked tail.
//!
//! Target cores: any AVX-512F x86-64 (Skylake-SP, Ice Lake, Zen 4).
//! Tolerance: exp within 2 ulp over [-87, 88]; softmax within 1e-6 relative (vector exp, 2 ulp);
//! LayerNorm within 1e-5 relative (different summation order for mean and variance).

use crate::arch::x86::V4;
use crate::linear::Epilogue;
use core::arch::x86_64::*;

pub(crate) use super::gelu::gelu;

/// exp on 16 lanes; inputs below -104 (including -inf) give 0.
/// Compiled for (and callable from code compiled for) its target features.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn exp(x: __m512) -> __m512 {
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

/// Lanes `j0..j0 + 16` of `s` (zero past its end), by a masked load.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn load16(s: &[f32], j0: usize) -> __m512 {
    // SAFETY: the mask enables only lanes `j0 + c < s.len()`; masked-off lanes are not read.
    unsafe { _mm512_maskz_loadu_ps(col_mask(j0, s.len()), s.as_ptr().wrapping_add(j0)) }
}

/// Stores the lanes of `v` that fall inside `s`, at `s[j0..]`, by a masked store.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn store16(s: &mut [f32], j0: usize, v: __m512) {
    // SAFETY: the mask enables only lanes `j0 + c < s.len()`; masked-off lanes are not written.
    unsafe { _mm512_mask_storeu_ps(s.as_mut_ptr().wrapping_add(j0), col_mask(j0, s.len()), v) }
}

/// Finishes 16 outputs `y` of row `i`, columns `j0..j0 + 16` (clipped to `n`): bias, GELU,
/// residual, store into `out` (`[m, n]` row-major).
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn store_epilogue(
    mut y: __m512,
    i: usize,
    j0: usize,
    n: usize,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    debug_assert!(j0 < n);
    // Whole panels (all but a ragged last one) use plain loads and stores: no mask to build.
    let full = j0 + 16 <= n;
    let row = &mut out[i * n..(i + 1) * n];
    let load = |s: &[f32]| {
        if full {
            // SAFETY: `full`: s[j0..j0 + 16] is inside `s` (its length is n).
            unsafe { _mm512_loadu_ps(s[j0..j0 + 16].as_ptr()) }
        } else {
            load16(s, j0)
        }
    };
    if let Some(b) = ep.bias {
        y = _mm512_add_ps(y, load(&b[..n]));
    }
    if ep.gelu {
        y = gelu(y);
    }
    if let Some(r) = ep.residual {
        y = _mm512_add_ps(y, load(&r[i * n..(i + 1) * n]));
    }
    if full {
        // SAFETY: `full`: row[j0..j0 + 16] is inside the row.
        unsafe { _mm512_storeu_ps(row[j0..j0 + 16].as_mut_ptr(), y) }
    } else {
        store16(row, j0, y);
    }
}

/// GELU (erf form) in place over a slice.
pub(crate) fn gelu_erf_slice(_t: V4, x: &mut [f32]) {
    // SAFETY: the V4 token proves AVX-512F.
    unsafe { gelu_erf_slice_impl(x) }
}

#[target_feature(enable = "avx512f")]
fn gelu_erf_slice_impl(x: &mut [f32]) {
    for j0 in (0..x.len()).step_by(16) {
        let v = gelu(load16(x, j0));
        store16(x, j0, v);
    }
}

/// See `generic::softmax_rows_f32`.
pub(crate) fn softmax_rows_f32(_t: V4, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
    // SAFETY: the V4 token proves AVX-512F.
    crate::frame::rows::softmax_rows(x, cols, bias, |row| unsafe { softmax_row(row, scale, bias) });
}

#[target_feature(enable = "avx512f")]
fn softmax_row(row: &mut [f32], scale: f32, bias: Option<&[f32]>) {
    let n = row.len();
    let vscale = _mm512_set1_ps(scale);
    let mut vmax = _mm512_set1_ps(f32::NEG_INFINITY);
    for j0 in (0..n).step_by(16) {
        let mask = col_mask(j0, n);
        let mut y = _mm512_mul_ps(load16(row, j0), vscale);
        if let Some(b) = bias {
            y = _mm512_add_ps(y, load16(b, j0));
        }
        store16(row, j0, y);
        vmax = _mm512_mask_max_ps(vmax, mask, vmax, y);
    }
    let max = _mm512_reduce_max_ps(vmax);
    if !max.is_finite() {
        row.fill(0.0);
        return;
    }
    let (vm, mut vsum) = (_mm512_set1_ps(max), _mm512_setzero_ps());
    for j0 in (0..n).step_by(16) {
        let mask = col_mask(j0, n);
        let e = exp(_mm512_sub_ps(load16(row, j0), vm));
        store16(row, j0, e);
        vsum = _mm512_mask_add_ps(vsum, mask, vsum, e);
    }
    let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(vsum));
    for j0 in (0..n).step_by(16) {
        let v = _mm512_mul_ps(load16(row, j0), inv);
        store16(row, j0, v);
    }
}

/// See `generic::layer_norm_f32`.
pub(crate) fn layer_norm_f32(_t: V4, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    // SAFETY: the V4 token proves AVX-512F.
    crate::frame::rows::layer_norm_rows(x, gamma, beta, |row| unsafe {
        layer_norm_row(row, gamma, beta, eps)
    });
}

/// Sum over `h` values of `f(16 lanes, mask)`, in four independent accumulators: one chain
/// of 24 dependent adds (h = 384) was the whole cost of a LayerNorm row.
#[inline]
#[target_feature(enable = "avx512f")]
fn sum4(h: usize, f: impl Fn(usize, __mmask16) -> __m512) -> f32 {
    let (mut a0, mut a1, mut a2, mut a3) =
        (_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps());
    let (full, all) = (h / 64 * 64, 0xffff);
    for j0 in (0..full).step_by(64) {
        a0 = _mm512_add_ps(a0, f(j0, all));
        a1 = _mm512_add_ps(a1, f(j0 + 16, all));
        a2 = _mm512_add_ps(a2, f(j0 + 32, all));
        a3 = _mm512_add_ps(a3, f(j0 + 48, all));
    }
    for j0 in (full..h).step_by(16) {
        a0 = _mm512_add_ps(a0, f(j0, col_mask(j0, h)));
    }
    _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)))
}

#[target_feature(enable = "avx512f")]
fn layer_norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = row.len();
    let sum = sum4(h, |j0, _| load16(row, j0));
    let mean = _mm512_set1_ps(sum / h as f32);
    let var = sum4(h, |j0, mask| {
        let dlt = _mm512_maskz_sub_ps(mask, load16(row, j0), mean);
        _mm512_mul_ps(dlt, dlt)
    }) / h as f32;
    let inv = _mm512_set1_ps(1.0 / (var + eps).sqrt());
    for j0 in (0..h).step_by(16) {
        let v = _mm512_mul_ps(_mm512_sub_ps(load16(row, j0), mean), inv);
        let y = _mm512_fmadd_ps(v, load16(gamma, j0), load16(beta, j0));
        store16(row, j0, y);
    }
}
