//! ymm vector math: erf/GELU (a rational erf fit), exp,
//! fused epilogue, masked softmax and LayerNorm.
//!
//! Target cores: any AVX2 + FMA x86-64.
//! Tolerance: erf within 2e-7 absolute of `generic::erf_f32`; exp within 2 ulp on [-87, 88],
//! exactly 0 below -87.3 (so masked softmax entries are exactly 0); softmax 1e-6 absolute;
//! LayerNorm 1e-5 relative (summation order differs from the generic twin).

use crate::arch::{ERF_P, ERF_Q};
use crate::linear::Epilogue;
use core::arch::x86_64::*;

/// erf on 8 lanes.
/// Compiled for (and callable from code compiled for) its target features.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn erf(x: __m256) -> __m256 {
    let x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(4.0)), _mm256_set1_ps(-4.0));
    let x2 = _mm256_mul_ps(x, x);
    let mut p = _mm256_set1_ps(ERF_P[0]);
    for c in &ERF_P[1..] {
        p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(*c));
    }
    let mut q = _mm256_set1_ps(ERF_Q[0]);
    for c in &ERF_Q[1..] {
        q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(*c));
    }
    // Past |x| = 3.9 erf rounds to ±1 in f32 (see the AVX-512 twin).
    let sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0));
    let saturated = _mm256_cmp_ps::<_CMP_GE_OQ>(_mm256_andnot_ps(sign, x), _mm256_set1_ps(3.9));
    let one = _mm256_or_ps(_mm256_set1_ps(1.0), sign);
    _mm256_blendv_ps(_mm256_div_ps(_mm256_mul_ps(x, p), q), one, saturated)
}

/// GELU (erf form) on 8 lanes.
/// Compiled for (and callable from code compiled for) its target features.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn gelu(x: __m256) -> __m256 {
    let e = erf(_mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2)));
    let half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5));
    _mm256_fmadd_ps(half_x, e, half_x)
}

/// exp on 8 lanes; inputs below -87.3 (including -inf) give exactly 0.
/// Compiled for (and callable from code compiled for) its target features.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn exp(x: __m256) -> __m256 {
    let tiny = _mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_set1_ps(-87.3));
    let x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.3)), _mm256_set1_ps(-87.3));
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(std::f32::consts::LOG2_E),
    ));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_145_75), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428_606_8e-6), r);
    let mut p = _mm256_set1_ps(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    let pow2n = _mm256_slli_epi32::<23>(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)));
    _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(pow2n)))
}

/// Lane mask (all-ones lanes) for the columns `j0..min(j0 + 8, n)`.
/// Compiled for (and callable from code compiled for) its target features.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn col_mask(j0: usize, n: usize) -> __m256i {
    let valid = n.saturating_sub(j0).min(8) as i32;
    _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
}

crate::arch::x86::span_type!(
    /// Columns `j0..min(j0 + 8, n)` of `n`-wide rows and their ymm lane mask.
    Span8: 8 lanes of __m256, mask __m256i = col_mask, "avx2",
    load |p, m| _mm256_maskload_ps(p, m), store |p, m, v| _mm256_maskstore_ps(p, m, v)
);

impl Span8 {
    /// The lane mask as floats (all-ones lanes inside the span).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn mask_ps(self) -> __m256 {
        _mm256_castsi256_ps(self.mask)
    }

    /// Stores the i32 lanes of `v` inside the span at `s[j0..]` (`s` a row of at least `n`).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn store_i32(self, s: &mut [i32], v: __m256i) {
        self.store(bytemuck::cast_slice_mut(s), _mm256_castsi256_ps(v));
    }
}

/// Lanes `j0..j0 + 8` of `s`; lanes past its end read as 0.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn load8(s: &[f32], j0: usize) -> __m256 {
    Span8::new(j0, s.len()).load(s)
}

/// Finishes 8 outputs `y` of row `i`, the columns of `cols` (clipped to `n`): bias, GELU,
/// residual, store into `out` (`[m, n]` row-major). One mask serves every operand.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn store_epilogue(mut y: __m256, i: usize, cols: Span8, ep: &Epilogue<'_>, out: &mut [f32]) {
    let n = cols.n;
    if let Some(b) = ep.bias {
        y = _mm256_add_ps(y, cols.load(b));
    }
    if ep.gelu {
        y = gelu(y);
    }
    if let Some(r) = ep.residual {
        y = _mm256_add_ps(y, cols.load(&r[i * n..]));
    }
    cols.store(&mut out[i * n..], y);
}

/// GELU (erf form) in place over a slice.
pub(crate) fn gelu_erf_slice(_t: crate::arch::x86::V3, x: &mut [f32]) {
    // SAFETY: the V3 token proves AVX2/FMA.
    unsafe { gelu_erf_slice_impl(x) }
}

#[target_feature(enable = "avx2,fma")]
fn gelu_erf_slice_impl(x: &mut [f32]) {
    for j0 in (0..x.len()).step_by(8) {
        let cols = Span8::new(j0, x.len());
        let v = gelu(cols.load(x));
        cols.store(x, v);
    }
}

/// See `generic::softmax_rows_f32`.
pub(crate) fn softmax_rows_f32(
    _t: crate::arch::x86::V3,
    x: &mut [f32],
    cols: usize,
    scale: f32,
    bias: Option<&[f32]>,
) {
    // SAFETY: the V3 token proves AVX2/FMA.
    crate::frame::rows::softmax_rows(x, cols, bias, |row| unsafe { softmax_row(row, scale, bias) });
}

#[target_feature(enable = "avx2,fma")]
fn softmax_row(row: &mut [f32], scale: f32, bias: Option<&[f32]>) {
    let n = row.len();
    let vscale = _mm256_set1_ps(scale);
    let neg_inf = _mm256_set1_ps(f32::NEG_INFINITY);
    let mut vmax = neg_inf;
    for j0 in (0..n).step_by(8) {
        let cols = Span8::new(j0, n);
        let mut y = _mm256_mul_ps(cols.load(row), vscale);
        if let Some(b) = bias {
            y = _mm256_add_ps(y, cols.load(b));
        }
        cols.store(row, y);
        vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, y, cols.mask_ps()));
    }
    let max = lanes(vmax).into_iter().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        row.fill(0.0);
        return;
    }
    let (vm, mut vsum) = (_mm256_set1_ps(max), _mm256_setzero_ps());
    for j0 in (0..n).step_by(8) {
        let cols = Span8::new(j0, n);
        let e = exp(_mm256_sub_ps(cols.load(row), vm));
        let e = _mm256_and_ps(e, cols.mask_ps());
        cols.store(row, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    let inv = _mm256_set1_ps(1.0 / lanes(vsum).iter().sum::<f32>());
    for j0 in (0..n).step_by(8) {
        let cols = Span8::new(j0, n);
        let v = _mm256_mul_ps(cols.load(row), inv);
        cols.store(row, v);
    }
}

/// The 8 lanes of `v`.
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) fn lanes(v: __m256) -> [f32; 8] {
    let mut out = [0f32; 8];
    // SAFETY: `out` holds the 32 bytes written.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
    out
}

/// Horizontal sum of 8 lanes.
/// Compiled for (and callable from code compiled for) its target features.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
}

/// See `generic::layer_norm_f32`.
pub(crate) fn layer_norm_f32(_t: crate::arch::x86::V3, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    // SAFETY: the V3 token proves AVX2/FMA.
    crate::frame::rows::layer_norm_rows(x, gamma, beta, |row| unsafe {
        layer_norm_row(row, gamma, beta, eps)
    });
}

#[target_feature(enable = "avx2,fma")]
fn layer_norm_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = row.len();
    let mut vsum = _mm256_setzero_ps();
    for j0 in (0..h).step_by(8) {
        vsum = _mm256_add_ps(vsum, Span8::new(j0, h).load(row));
    }
    let mean = _mm256_set1_ps(hsum(vsum) / h as f32);
    let mut vvar = _mm256_setzero_ps();
    for j0 in (0..h).step_by(8) {
        let cols = Span8::new(j0, h);
        let dlt = _mm256_and_ps(_mm256_sub_ps(cols.load(row), mean), cols.mask_ps());
        vvar = _mm256_fmadd_ps(dlt, dlt, vvar);
    }
    let inv = _mm256_set1_ps(1.0 / (hsum(vvar) / h as f32 + eps).sqrt());
    for j0 in (0..h).step_by(8) {
        let cols = Span8::new(j0, h);
        let v = _mm256_mul_ps(_mm256_sub_ps(cols.load(row), mean), inv);
        let y = _mm256_fmadd_ps(v, cols.load(gamma), cols.load(beta));
        cols.store(row, y);
    }
}
