//! Scalar int8 linear layers over packed weights: row quantization, the exact i32 GEMM and
//! the dequantizing linear layer, the semantics every SIMD backend must reproduce bit for bit.

use super::gemm_f32::epilogue_at;
use crate::linear::{check_dequantize, check_linear, grow, Epilogue, LinearI8, RowQuant, Scratch};
use crate::packed::{k4, PackedI8, PANEL};

/// Quantizes one activation row to `x ≈ offset + scale · q` with `q` in [-127, 127] (see
/// [`RowQuant`]): the range `[min(x, 0), max(x, 0)]` is cut into 254 equal steps around its
/// midpoint `offset`. Every backend uses exactly this arithmetic (`half = 0.5 · (hi - lo)`,
/// `inv = 127 / half`, `q = round_ties_even((x - offset) · inv)`, clamped), so all of them feed
/// the GEMM the same integers. An all-zero row gives scale 0, offset 0.
pub fn quantize_row_i8(x: &[f32], q: &mut [i8]) -> RowQuant {
    assert_eq!(x.len(), q.len(), "quantize_row_i8: length mismatch");
    let (lo, hi) = x.iter().fold((0.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (row, inv) = row_quant(lo, hi);
    for (d, v) in q.iter_mut().zip(x) {
        *d = ((v - row.offset) * inv).round_ties_even().clamp(-127.0, 127.0) as i8;
    }
    row
}

/// The [`RowQuant`] of a row whose range (0 included) is `[lo, hi]` (offset the midpoint, scale
/// half the width over 127) and `inv`, the factor from `x - offset` to `q` (0 for an all-zero
/// row, so it quantizes to zeros). Shared by every backend so their integers agree.
#[inline(always)]
pub(crate) fn row_quant(lo: f32, hi: f32) -> (RowQuant, f32) {
    let (offset, half) = (0.5 * (hi + lo), 0.5 * (hi - lo));
    (RowQuant { scale: half / 127.0, offset }, if half == 0.0 { 0.0 } else { 127.0 / half })
}

/// [`quantize_row_i8`] on each row of `a` (`[m, k]`): `q` is `[m, k]`, `rows` is `[m]`.
pub fn quantize_rows_i8(a: &[f32], m: usize, k: usize, q: &mut [i8], rows: &mut [RowQuant]) {
    quantize_rows_with(a, m, k, q, rows, quantize_row_i8)
}

/// [`quantize_rows_i8`] with `row` (a backend's [`quantize_row_i8`]) for each row.
#[inline(always)]
pub(crate) fn quantize_rows_with(
    a: &[f32],
    m: usize,
    k: usize,
    q: &mut [i8],
    rows: &mut [RowQuant],
    mut row: impl FnMut(&[f32], &mut [i8]) -> RowQuant,
) {
    assert_eq!(a.len(), m * k, "quantize_rows_i8: a must be [m, k]");
    assert_eq!(q.len(), m * k, "quantize_rows_i8: q must be [m, k]");
    assert_eq!(rows.len(), m, "quantize_rows_i8: rows must be [m]");
    if k == 0 {
        rows.fill(RowQuant::default());
        return;
    }
    for ((x, q), r) in a.chunks_exact(k).zip(q.chunks_exact_mut(k)).zip(rows.iter_mut()) {
        *r = row(x, q);
    }
}

/// The rows of `a` (`[m, k]`) quantized into `scratch` (see [`quantize_rows_i8`]): the first step
/// of the scalar int8 and int4 layers.
pub(crate) fn quantize_input<'s>(
    a: &[f32],
    m: usize,
    k: usize,
    scratch: &'s mut Scratch,
) -> (&'s mut [i8], &'s mut [RowQuant]) {
    let (q, rows) = (grow(&mut scratch.i8s, m * k), grow(&mut scratch.rows, m));
    quantize_rows_i8(a, m, k, q, rows);
    (q, rows)
}

/// Exact integer GEMM: `out[i][j] = Σ_kk q[i][kk] · W[j][kk]` (`q` `[m, k]`, `out` `[m, n]`).
pub fn gemm_i8_i32(q: &[i8], m: usize, w: &PackedI8<'_>, out: &mut [i32]) {
    let (k, n) = (w.k(), w.n());
    assert_eq!(q.len(), m * k, "gemm_i8_i32: q must be [m, k]");
    assert_eq!(out.len(), m * n, "gemm_i8_i32: out must be [m, n]");
    let (data, k4) = (w.data(), k4(k));
    if k == 0 {
        out.fill(0);
        return;
    }
    for i in 0..m {
        let row = &q[i * k..(i + 1) * k];
        for j in 0..n {
            let col = &data[(j / PANEL) * PANEL * k4 + (j % PANEL) * 4..];
            let mut acc = 0i32;
            for (kk, &a) in row.iter().enumerate() {
                acc += a as i32 * col[(kk / 4) * 64 + kk % 4] as i32;
            }
            out[i * n + j] = acc;
        }
    }
}

/// int8 linear layer of `a` (`[m, l.w.k()]`): quantize rows, exact i32 GEMM, dequantize,
/// epilogue (see [`crate::linear`]).
pub fn linear_i8(a: &[f32], m: usize, l: LinearI8<'_, '_>, scratch: &mut Scratch) {
    let (k, n) = (l.w.k(), l.w.n());
    check_linear(a.len(), m, k, n, l.out.len(), &l.ep);
    let (q, rows) = quantize_input(a, m, k, scratch);
    let mut acc = vec![0i32; m * n];
    gemm_i8_i32(q, m, &l.w, &mut acc);
    dequantize_i8(&acc, rows, &l.w, &l.ep, l.out);
}

/// The int8 epilogue: `out[i][j] = ep(rows[i].dequantize(acc[i][j], w.scales()[j],
/// w.col_sums()[j]))` for exact i32 dot products `acc` (`[rows.len(), w.n()]`), in
/// [`RowQuant::dequantize`]'s order, then [`Epilogue`]'s (bias, GELU, residual).
pub fn dequantize_i8(acc: &[i32], rows: &[RowQuant], w: &PackedI8<'_>, ep: &Epilogue<'_>, out: &mut [f32]) {
    let n = w.n();
    check_dequantize(acc.len(), rows.len(), n, out.len(), ep);
    for (i, row) in rows.iter().enumerate() {
        for j in 0..n {
            let y = row.dequantize(acc[i * n + j], w.scales()[j], w.col_sums()[j]);
            out[i * n + j] = epilogue_at(y, i, j, n, ep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generic::linear::assert_near_float;
    use crate::generic::{linear_f16, linear_f32_packed};
    use crate::packed::{pack_f16, pack_f32, pack_i8};

    #[test]
    fn activation_rounding_is_ties_to_even_around_the_row_midpoint() {
        let mut q = [0i8; 4];
        // Range [-254, 254]: offset 0, 127 / 254 = 0.5 per unit: 1.0 -> 0.5 -> 0, 3.0 -> 1.5 -> 2.
        let r = quantize_row_i8(&[1.0, 3.0, -254.0, 254.0], &mut q);
        assert_eq!(q, [0, 2, -127, 127]);
        assert_eq!(r, RowQuant { scale: 2.0, offset: 0.0 });
        // Range [-2, 506]: offset 252, half 254, again 0.5 per unit.
        let r = quantize_row_i8(&[-2.0, 506.0, 253.0, 255.0], &mut q);
        assert_eq!(r, RowQuant { scale: 2.0, offset: 252.0 });
        // (253 - 252) / 2 = 0.5 -> 0; (255 - 252) / 2 = 1.5 -> 2.
        assert_eq!(q, [-127, 127, 0, 2]);
    }

    #[test]
    fn activation_range_includes_zero_and_reconstructs_constant_rows() {
        let mut q = [0i8; 3];
        // All positive: the range is [0, 4]; a constant row comes back (to rounding).
        let r = quantize_row_i8(&[4.0, 4.0, 4.0], &mut q);
        assert_eq!(r, RowQuant { scale: 2.0 / 127.0, offset: 2.0 });
        assert_eq!(q, [127, 127, 127]);
        assert!((r.offset + r.scale * 127.0 - 4.0).abs() <= 1e-6);
        let r = quantize_row_i8(&[0.0; 3], &mut q);
        assert_eq!((r, q), (RowQuant::default(), [0; 3]));
    }

    #[test]
    fn skewed_rows_get_twice_the_resolution_of_a_symmetric_range() {
        // GELU-like row: [-0.17, 5]. A symmetric range would step by 5 / 127.
        let x: Vec<f32> = (0..64).map(|i| -0.17 + 5.17 * i as f32 / 63.0).collect();
        let mut q = vec![0i8; 64];
        let r = quantize_row_i8(&x, &mut q);
        let worst =
            x.iter().zip(&q).map(|(v, &q)| (v - (r.offset + r.scale * q as f32)).abs()).fold(0.0, f32::max);
        assert!(worst <= 0.5 * 5.17 / 254.0 * 1.0001, "worst error {worst}");
        assert!(worst < 0.5 * 5.0 / 127.0 * 0.6);
    }

    #[test]
    fn int8_linear_matches_float_math_within_quantization_error() {
        let (m, k, n) = (3, 37, 20);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 23) as f32 - 11.0) / 7.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 19) as f32 - 9.0) / 13.0).collect();
        let bias: Vec<f32> = (0..n).map(|j| j as f32 / 10.0).collect();
        let p = pack_i8(&w, n, k);
        let mut got = vec![0.0; m * n];
        let layer = LinearI8 { w: p.view(), ep: Epilogue::bias(&bias), out: &mut got };
        linear_i8(&a, m, layer, &mut Scratch::default());
        assert_near_float(&got, [&a, &w, &bias], [m, k, n], 0.05);
        // Float paths agree with the PyTorch-layout reference to rounding.
        for packed in [true, false] {
            let mut got = vec![0.0; m * n];
            if packed {
                linear_f32_packed(&a, m, &pack_f32(&w, n, k).view(), &Epilogue::bias(&bias), &mut got);
            } else {
                linear_f16(&a, m, &pack_f16(&w, n, k).view(), &Epilogue::bias(&bias), &mut got);
            }
            assert_near_float(&got, [&a, &w, &bias], [m, k, n], if packed { 1e-5 } else { 1e-2 });
        }
    }
}
