//! Scalar float linear layers over packed f32 or f16 weights and the fused epilogue: the
//! semantics every SIMD backend must reproduce within the tolerance table.

use super::math::gelu_erf_f32;
use crate::linear::{check_linear, Epilogue};
use crate::packed::{PackedF16, PackedF32, PackedFloat, PANEL};

/// Applies the epilogue to one output value `y` at row `i`, column `j` of an `n`-wide output.
#[inline]
pub(crate) fn epilogue_at(mut y: f32, i: usize, j: usize, n: usize, ep: &Epilogue<'_>) -> f32 {
    if let Some(b) = ep.bias {
        y += b[j];
    }
    if ep.gelu {
        y = gelu_erf_f32(y);
    }
    if let Some(r) = ep.residual {
        y += r[i * n + j];
    }
    y
}

fn linear_float<T: Copy>(
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, T>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    widen: impl Fn(T) -> f32,
) {
    let (k, n) = (w.k(), w.n());
    check_linear(a.len(), m, k, n, out.len(), ep);
    let data = w.data();
    for i in 0..m {
        let row = &a[i * k..(i + 1) * k];
        for j in 0..n {
            let col = data.get((j / PANEL) * PANEL * k + j % PANEL..).unwrap_or(&[]);
            let mut acc = 0.0f32;
            for (kk, &x) in row.iter().enumerate() {
                acc += x * widen(col[kk * PANEL]);
            }
            out[i * n + j] = epilogue_at(acc, i, j, n, ep);
        }
    }
}

/// f32 linear layer over packed f32 weights, with the fused epilogue.
pub fn linear_f32_packed(a: &[f32], m: usize, w: &PackedF32<'_>, ep: &Epilogue<'_>, out: &mut [f32]) {
    linear_float(a, m, w, ep, out, |v| v)
}

/// Linear layer over packed f16 weights: widened to f32, f32 arithmetic, fused epilogue.
pub fn linear_f16(a: &[f32], m: usize, w: &PackedF16<'_>, ep: &Epilogue<'_>, out: &mut [f32]) {
    linear_float(a, m, w, ep, out, |v| v.to_f32())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epilogue_order_is_bias_gelu_residual() {
        let ep = Epilogue { bias: Some(&[1.0]), gelu: true, residual: Some(&[10.0]) };
        let y = epilogue_at(0.0, 0, 0, 1, &ep);
        assert!((y - (10.0 + gelu_erf_f32(1.0))).abs() < 1e-6);
    }
}
