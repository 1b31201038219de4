//! Scalar int4 linear layers (`PackedI4`, groups of 32 inputs with f16 scales): the semantics
//! every SIMD backend reproduces.
//!
//! Activations are quantized per row to int8 exactly as for the int8 layers
//! ([`quantize_row_i8`]: `x ≈ offset + scale · q`). Dequantizing the nibbles (`q_w · s_g`) before
//! the dot product would not be exact with int8 activations, so the integer work stays integer:
//!
//! ```text
//! acc_g   = Σ_{kk ∈ group g} q_a[i][kk] · q_w[j][kk]            exact i32 (|acc_g| ≤ 32·127·7)
//! f       = 0; for g in 0..groups: f = fma(acc_g as f32, s[j][g], f)   (f32, groups in order)
//! y       = f · row.scale + row.offset · w_sums[j]               (two products, one sum; unfused)
//! out     = epilogue(y)                                          (bias, GELU, residual)
//! ```
//!
//! `acc_g as f32` is exact, and a fused multiply-add per group in group order is what a vector
//! lane does naturally, so a backend that keeps these steps is bit-identical to this twin up to
//! the epilogue (whose GELU is held to the GELU tolerance).

use super::gemm_f32::epilogue_at;
use super::gemm_i8::quantize_input;
use crate::linear::{check_linear, Epilogue, LinearI4, RowQuant, Scratch};
use crate::packed_i4::{i4_position, PackedI4, GROUP};

/// `f[i][j] = Σ_g fma-accumulated (acc_g · s[j][g])` (see the module docs) for quantized
/// activations `q` (`[m, k]`, values in [-127, 127]) into `out` (`[m, n]`): the part of the int4
/// layer before the row's scale and offset, exposed so backends can be held to it exactly.
pub fn gemm_i4_f32(q: &[i8], m: usize, w: &PackedI4<'_>, out: &mut [f32]) {
    let (k, n) = (w.k(), w.n());
    assert_eq!(q.len(), m * k, "gemm_i4_f32: q must be [m, k]");
    assert_eq!(out.len(), m * n, "gemm_i4_f32: out must be [m, n]");
    let data = w.data();
    for i in 0..m {
        let row = &q[i * k..(i + 1) * k];
        for j in 0..n {
            let mut f = 0.0f32;
            for (g, chunk) in row.chunks(GROUP).enumerate() {
                let mut acc = 0i32;
                for (r, &a) in chunk.iter().enumerate() {
                    let (byte, shift) = i4_position(j, g * GROUP + r, k);
                    acc += a as i32 * (((data[byte] >> shift) & 0x0F) as i32 - 8);
                }
                f = (acc as f32).mul_add(w.scale(j, g), f);
            }
            out[i * n + j] = f;
        }
    }
}

/// The int4 finish: `out[i][j] = ep(f[i][j] · rows[i].scale + rows[i].offset · w_sums[j])` in
/// place over `out` (`[rows.len(), w.n()]`, holding [`gemm_i4_f32`]'s values).
pub fn finish_i4(out: &mut [f32], rows: &[RowQuant], w: &PackedI4<'_>, ep: &Epilogue<'_>) {
    let n = w.n();
    assert_eq!(out.len(), rows.len() * n, "finish_i4: out must be [rows.len(), w.n()]");
    ep.check(rows.len(), n);
    for (i, row) in rows.iter().enumerate() {
        for j in 0..n {
            let f = out[i * n + j];
            let y = f * row.scale + row.offset * w.w_sums()[j];
            out[i * n + j] = epilogue_at(y, i, j, n, ep);
        }
    }
}

/// int4 linear layer of `a` (`[m, l.w.k()]`): quantize rows to int8, integer dot products per
/// group, group scales, the row's scale and offset, epilogue (see the module docs).
pub fn linear_i4(a: &[f32], m: usize, l: LinearI4<'_, '_>, scratch: &mut Scratch) {
    check_linear(a.len(), m, l.w.k(), l.w.n(), l.out.len(), &l.ep);
    let (q, rows) = quantize_input(a, m, l.w.k(), scratch);
    gemm_i4_f32(q, m, &l.w, l.out);
    finish_i4(l.out, rows, &l.w, &l.ep);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generic::linear::assert_near_float;
    use crate::packed_i4::pack_i4;

    #[test]
    fn int4_linear_matches_float_math_within_quantization_error() {
        // k = 70: two whole groups and a ragged one.
        let (m, k, n) = (3, 70, 20);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.61).sin() * 1.6).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.23).cos() * 0.7).collect();
        let bias: Vec<f32> = (0..n).map(|j| 0.1 * j as f32 - 1.0).collect();
        let p = pack_i4(&w, n, k);
        let mut got = vec![0.0; m * n];
        let layer = LinearI4 { w: p.view(), ep: Epilogue::bias(&bias), out: &mut got };
        linear_i4(&a, m, layer, &mut Scratch::default());
        // Weight steps are max|w| / 7 ≈ 0.1 (error ≤ 0.05 each), activations ≈ 1.6 / 127.
        assert_near_float(&got, [&a, &w, &bias], [m, k, n], 0.1);
    }

    #[test]
    fn group_sums_are_exact_on_extremes() {
        // q_a = ±127 against q_w = ±7 in every position, scale 1: f is the exact integer sum.
        let (k, n) = (64, 2);
        let w: Vec<f32> = (0..n * k).map(|i| if i % 3 == 0 { -7.0 } else { 7.0 }).collect();
        let p = pack_i4(&w, n, k);
        let q: Vec<i8> = (0..k).map(|i| if i % 2 == 0 { 127 } else { -127 }).collect();
        let mut out = vec![0.0; n];
        gemm_i4_f32(&q, 1, &p.view(), &mut out);
        for j in 0..n {
            let want: i32 = (0..k).map(|kk| q[kk] as i32 * w[j * k + kk] as i32).sum();
            assert_eq!(out[j], want as f32);
        }
    }
}
