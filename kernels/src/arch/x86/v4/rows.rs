//! Row-wise f32 kernels on zmm: masked softmax and LayerNorm.
//!
//! Target cores: any AVX-512F x86-64. Rows are processed 16 lanes at a time with a masked tail.
//! Tolerance: softmax within 1e-6 relative (vector exp, 2 ulp); LayerNorm within 1e-5 relative
//! (different summation order for mean and variance).

use super::math::{col_mask, exp};
use crate::arch::x86::V4;
use core::arch::x86_64::*;

/// See `generic::softmax_rows_f32`.
pub(crate) fn softmax_rows(_t: V4, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
    // SAFETY: the V4 token proves AVX-512F; all accesses are masked to `row` and `bias`
    // (checked to have `cols` elements).
    crate::frame::rows::softmax_rows(x, cols, bias, |row| unsafe { softmax_row(row, scale, bias) });
}

#[target_feature(enable = "avx512f")]
unsafe fn softmax_row(row: &mut [f32], scale: f32, bias: Option<&[f32]>) {
    let (n, p) = (row.len(), row.as_mut_ptr());
    let vscale = _mm512_set1_ps(scale);
    let mut vmax = _mm512_set1_ps(f32::NEG_INFINITY);
    for j0 in (0..n).step_by(16) {
        let mask = col_mask(j0, n);
        let mut y = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, p.add(j0)), vscale);
        if let Some(b) = bias {
            y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, b.as_ptr().add(j0)));
        }
        _mm512_mask_storeu_ps(p.add(j0), mask, y);
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
        let e = exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, p.add(j0)), vm));
        _mm512_mask_storeu_ps(p.add(j0), mask, e);
        vsum = _mm512_mask_add_ps(vsum, mask, vsum, e);
    }
    let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(vsum));
    for j0 in (0..n).step_by(16) {
        let mask = col_mask(j0, n);
        _mm512_mask_storeu_ps(p.add(j0), mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, p.add(j0)), inv));
    }
}

/// See `generic::layer_norm_f32`.
pub(crate) fn layer_norm(_t: V4, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    // SAFETY: the V4 token proves AVX-512F; accesses are masked to the `h` elements of `row`,
    // `gamma` and `beta` (all checked to have `h`).
    crate::frame::rows::layer_norm_rows(x, gamma, beta, |row| unsafe {
        layer_norm_row(row, gamma, beta, eps)
    });
}

/// Sum over `h` values of `f(16 lanes, mask)`, in four independent accumulators: one chain
/// of 24 dependent adds (h = 384) was the whole cost of a LayerNorm row.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn sum4(h: usize, f: impl Fn(usize, __mmask16) -> __m512) -> f32 {
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
unsafe fn layer_norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let (h, p) = (row.len(), row.as_mut_ptr());
    let sum = sum4(h, |j0, mask| _mm512_maskz_loadu_ps(mask, p.add(j0)));
    let mean = _mm512_set1_ps(sum / h as f32);
    let var = sum4(h, |j0, mask| {
        let dlt = _mm512_maskz_sub_ps(mask, _mm512_maskz_loadu_ps(mask, p.add(j0)), mean);
        _mm512_mul_ps(dlt, dlt)
    }) / h as f32;
    let inv = _mm512_set1_ps(1.0 / (var + eps).sqrt());
    for j0 in (0..h).step_by(16) {
        let mask = col_mask(j0, h);
        let v = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, p.add(j0)), mean), inv);
        let g = _mm512_maskz_loadu_ps(mask, gamma.as_ptr().add(j0));
        let b = _mm512_maskz_loadu_ps(mask, beta.as_ptr().add(j0));
        _mm512_mask_storeu_ps(p.add(j0), mask, _mm512_fmadd_ps(v, g, b));
    }
}
