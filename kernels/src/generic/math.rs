//! Element-wise and row-wise f32 math of the encoder (GELU, LayerNorm, the masked row softmax),
//! in plain scalar form.

/// The error function, from the Chebyshev fit of erfc in Numerical Recipes (§6.2), evaluated in
/// f64: fractional error below 1.2e-7 everywhere, so the f32 result is within ~2 ulp.
pub fn erf_f32(x: f32) -> f32 {
    let z = (x as f64).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let erf = 1.0 - erfc;
    (if x >= 0.0 { erf } else { -erf }) as f32
}

/// GELU in the exact erf form used by BERT (`hidden_act = "gelu"`): `x · ½ · (1 + erf(x/√2))`.
pub fn gelu_erf_f32(x: f32) -> f32 {
    0.5 * x * (1.0 + erf_f32(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// LayerNorm over each row of `x` (`[rows, gamma.len()]`) in place, with the biased variance and
/// `eps` inside the square root, as PyTorch does.
pub fn layer_norm_f32(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = gamma.len();
    crate::frame::rows::layer_norm_rows(x, gamma, beta, |row| {
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    });
}

/// [`gelu_erf_f32`] over a slice, in place.
pub fn gelu_erf_slice(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = gelu_erf_f32(*v));
}

/// Softmax of one row in place. Subtracting the maximum first keeps `exp` finite; entries equal
/// to `f32::NEG_INFINITY` (masked positions) get exactly 0. A row with no finite entry becomes
/// all zeros rather than NaN.
pub fn softmax_f32(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        row.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let mut sum = 0.0f32;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
}

/// `x[r][c] ← softmax_c(scale · x[r][c] + bias[c])` for each row of `x` (`[rows, cols]`).
/// `bias` is the additive key mask (0 for real tokens, `-inf` or a large negative value for
/// padding); `-inf` entries come out exactly 0 and a row with no finite entry becomes zeros.
pub fn softmax_rows_f32(x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
    crate::frame::rows::softmax_rows(x, cols, bias, |row| {
        for (c, v) in row.iter_mut().enumerate() {
            *v = *v * scale + bias.map_or(0.0, |b| b[c]);
        }
        softmax_f32(row);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_softmax_zeroes_padding_and_scales() {
        let mut x = vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0];
        softmax_rows_f32(&mut x, 3, 2.0, Some(&[0.0, 0.0, f32::NEG_INFINITY]));
        let e = (2.0f32).exp();
        assert!((x[0] - 1.0 / (1.0 + e)).abs() < 1e-6 && x[2] == 0.0);
        assert!((x[3] - 0.5).abs() < 1e-7 && x[5] == 0.0);
    }

    #[test]
    fn erf_matches_tabulated_values() {
        // High-precision values of erf (Abramowitz & Stegun table 7.1 and mpmath).
        let table = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (1.5, 0.966_105_146_475_310_7),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
            (-0.7, -0.677_801_193_837_418_5),
        ];
        for (x, want) in table {
            let got = erf_f32(x as f32) as f64;
            assert!((got - want).abs() < 2e-7, "erf({x}) = {got}, want {want}");
        }
        assert_eq!(erf_f32(10.0), 1.0);
        assert_eq!(erf_f32(-10.0), -1.0);
    }

    #[test]
    fn gelu_matches_known_points() {
        // gelu(1) = 0.841344746..., gelu(-1) = -0.158655253...
        assert!((gelu_erf_f32(1.0) - 0.841_344_8).abs() < 1e-6);
        assert!((gelu_erf_f32(-1.0) + 0.158_655_3).abs() < 1e-6);
        assert_eq!(gelu_erf_f32(0.0), 0.0);
        assert!((gelu_erf_f32(-20.0)).abs() < 1e-6);
    }

    #[test]
    fn layer_norm_gives_zero_mean_unit_variance() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0, -2.0, 0.0, 2.0, 4.0];
        layer_norm_f32(&mut x, &[1.0; 4], &[0.0; 4], 1e-12);
        for row in x.chunks(4) {
            let mean: f32 = row.iter().sum::<f32>() / 4.0;
            let var: f32 = row.iter().map(|v| v * v).sum::<f32>() / 4.0;
            assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{row:?}");
        }
    }

    #[test]
    fn softmax_is_safe_with_large_and_masked_values() {
        let mut r = [1000.0, 1000.0, f32::NEG_INFINITY];
        softmax_f32(&mut r);
        assert_eq!(r, [0.5, 0.5, 0.0]);
        let mut all_masked = [f32::NEG_INFINITY; 3];
        softmax_f32(&mut all_masked);
        assert_eq!(all_masked, [0.0; 3]);
    }
}
