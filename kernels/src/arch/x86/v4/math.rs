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

crate::arch::x86::span_type!(
    /// Columns `j0..min(j0 + 16, n)` of `n`-wide rows and their zmm lane mask.
    Span16: 16 lanes of __m512, mask __mmask16 = col_mask, "avx512f",
    load |p, m| _mm512_maskz_loadu_ps(m, p), store |p, m, v| _mm512_mask_storeu_ps(p, m, v)
);

/// Lanes `j0..j0 + 16` of `s` (zero past its end), by a masked load.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn load16(s: &[f32], j0: usize) -> __m512 {
    Span16::new(j0, s.len()).load(s)
}

/// Finishes 16 outputs `y` of row `i`, the columns of `cols` (clipped to `n`): bias, GELU,
/// residual, store into `out` (`[m, n]` row-major). One mask serves every operand.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn store_epilogue(mut y: __m512, i: usize, cols: Span16, ep: &Epilogue<'_>, out: &mut [f32]) {
    let n = cols.n;
    if let Some(b) = ep.bias {
        y = _mm512_add_ps(y, cols.load(b));
    }
    if ep.gelu {
        y = gelu(y);
    }
    if let Some(r) = ep.residual {
        y = _mm512_add_ps(y, cols.load(&r[i * n..]));
    }
    cols.store(&mut out[i * n..], y);
}

/// GELU (erf form) in place over a slice.
pub(crate) fn gelu_erf_slice(_t: V4, x: &mut [f32]) {
    // SAFETY: the V4 token proves AVX-512F.
    unsafe { gelu_erf_slice_impl(x) }
}

#[target_feature(enable = "avx512f")]
fn gelu_erf_slice_impl(x: &mut [f32]) {
    for j0 in (0..x.len()).step_by(16) {
        let cols = Span16::new(j0, x.len());
        let v = gelu(cols.load(x));
        cols.store(x, v);
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
        let cols = Span16::new(j0, n);
        let mut y = _mm512_mul_ps(cols.load(row), vscale);
        if let Some(b) = bias {
            y = _mm512_add_ps(y, cols.load(b));
        }
        cols.store(row, y);
        vmax = _mm512_mask_max_ps(vmax, cols.mask, vmax, y);
    }
    let max = _mm512_reduce_max_ps(vmax);
    if !max.is_finite() {
        row.fill(0.0);
        return;
    }
    let (vm, mut vsum) = (_mm512_set1_ps(max), _mm512_setzero_ps());
    for j0 in (0..n).step_by(16) {
        let cols = Span16::new(j0, n);
        let e = exp(_mm512_sub_ps(cols.load(row), vm));
        cols.store(row, e);
        vsum = _mm512_mask_add_ps(vsum, cols.mask, vsum, e);
    }
    let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(vsum));
    for j0 in (0..n).step_by(16) {
        let cols = Span16::new(j0, n);
        let v = _mm512_mul_ps(cols.load(row), inv);
        cols.store(row, v);
    }
}

/// See `generic::layer_norm_f32`.
pub(crate) fn layer_norm_f32(_t: V4, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    // SAFETY: the V4 token proves AVX-512F.
    crate::frame::rows::layer_norm_rows(x, gamma, beta, |row| unsafe {
        layer_norm_row(row, gamma, beta, eps)
    });
}

/// Sum over `h` values of `f(16 columns)`, in four independent accumulators: one chain of 24
/// dependent adds (h = 384) was the whole cost of a LayerNorm row.
#[inline]
#[target_feature(enable = "avx512f")]
fn sum4(h: usize, f: impl Fn(Span16) -> __m512) -> f32 {
    let (mut a0, mut a1, mut a2, mut a3) =
        (_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps());
    let full = h / 64 * 64;
    let cols = |j0| Span16::new(j0, h);
    for j0 in (0..full).step_by(64) {
        a0 = _mm512_add_ps(a0, f(cols(j0)));
        a1 = _mm512_add_ps(a1, f(cols(j0 + 16)));
        a2 = _mm512_add_ps(a2, f(cols(j0 + 32)));
        a3 = _mm512_add_ps(a3, f(cols(j0 + 48)));
    }
    for j0 in (full..h).step_by(16) {
        a0 = _mm512_add_ps(a0, f(cols(j0)));
    }
    _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)))
}

#[target_feature(enable = "avx512f")]
fn layer_norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = row.len();
    let sum = sum4(h, |cols| cols.load(row));
    let mean = _mm512_set1_ps(sum / h as f32);
    let var = sum4(h, |cols| {
        let dlt = _mm512_maskz_sub_ps(cols.mask, cols.load(row), mean);
        _mm512_mul_ps(dlt, dlt)
    }) / h as f32;
    let inv = _mm512_set1_ps(1.0 / (var + eps).sqrt());
    for j0 in (0..h).step_by(16) {
        let cols = Span16::new(j0, h);
        let v = _mm512_mul_ps(_mm512_sub_ps(cols.load(row), mean), inv);
        let y = _mm512_fmadd_ps(v, cols.load(gamma), cols.load(beta));
        cols.store(row, y);
    }
}
