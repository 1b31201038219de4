//! Empirical bias correction: a quantized weight `Ŵ` shifts a linear layer's output by
//! `E[x]·(Ŵ − W)ᵀ` on average over the calibration activations `x`; subtracting that from the
//! bias removes the systematic part of the weight's rounding error.

use crate::blob::Precision;
use edgebert_kernels::packed::quantize_weight_row;
use edgebert_kernels::packed_i4::{groups, quantize_row_i4, GROUP};
use edgebert_models::Linear;
use half::f16;

/// The weight as the engine will see it after `precision`'s rounding (`[out, in]`).
pub fn dequantized(l: &Linear, precision: Precision) -> Vec<f32> {
    match precision {
        Precision::F32 => l.weight.clone(),
        Precision::F16 => l.weight.iter().map(|&v| f16::from_f32(v).to_f32()).collect(),
        Precision::Int8 => {
            let mut q = vec![0i8; l.in_dim];
            l.weight
                .chunks_exact(l.in_dim)
                .flat_map(|row| {
                    let scale = quantize_weight_row(row, &mut q);
                    q.iter().map(move |&v| f32::from(v) * scale).collect::<Vec<_>>()
                })
                .collect()
        }
        Precision::Int4 => {
            // The scales `pack_i4` chooses, row by row (quantize_row_i4).
            let (mut q, mut scales) = (vec![0i8; l.in_dim], vec![f16::ZERO; groups(l.in_dim)]);
            l.weight
                .chunks_exact(l.in_dim)
                .flat_map(|row| {
                    quantize_row_i4(row, &mut q, &mut scales);
                    let scales = &scales;
                    q.iter()
                        .enumerate()
                        .map(move |(c, &v)| f32::from(v) * scales[c / GROUP].to_f32())
                        .collect::<Vec<_>>()
                })
                .collect()
        }
    }
}

/// `b − E[x]·(Ŵ − W)ᵀ`, computed in f64.
pub fn corrected_bias(l: &Linear, mean_input: &[f64], precision: Precision) -> Vec<f32> {
    corrected_bias_for(l, mean_input, &dequantized(l, precision))
}

/// [`corrected_bias`] for the dequantized weight `q` (`[out, in]`, e.g. GPTQ's).
pub fn corrected_bias_for(l: &Linear, mean_input: &[f64], q: &[f32]) -> Vec<f32> {
    l.bias
        .iter()
        .enumerate()
        .map(|(j, &b)| {
            let (w, wq) = (&l.weight[j * l.in_dim..][..l.in_dim], &q[j * l.in_dim..][..l.in_dim]);
            let shift: f64 =
                mean_input.iter().zip(w.iter().zip(wq)).map(|(m, (a, b))| m * f64::from(b - a)).sum();
            (f64::from(b) - shift) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correction_cancels_the_mean_output_error() {
        let (n, k) = (3, 40);
        let weight: Vec<f32> = (0..n * k).map(|i| ((i * 29 % 83) as f32 - 41.0) / 37.0).collect();
        let l = Linear { weight, bias: vec![0.5, -0.25, 0.0], in_dim: k, out_dim: n };
        let mean: Vec<f64> = (0..k).map(|i| 0.1 + (i % 7) as f64 * 0.3).collect();
        let q = dequantized(&l, Precision::Int8);
        let b = corrected_bias(&l, &mean, Precision::Int8);
        for j in 0..n {
            let dot =
                |w: &[f32]| mean.iter().zip(&w[j * k..][..k]).map(|(m, &v)| m * f64::from(v)).sum::<f64>();
            let want = dot(&l.weight) + f64::from(l.bias[j]);
            let got = dot(&q) + f64::from(b[j]);
            assert!((want - got).abs() < 1e-5, "{want} vs {got}");
            assert_ne!(b[j], l.bias[j], "int8 rounding moves the mean output");
        }
        assert_eq!(corrected_bias(&l, &mean, Precision::F32), l.bias);
    }
}
