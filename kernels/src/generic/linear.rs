/// `out[i][j] = bias[j] + Σ_k a[i][k] · w[j][k]` for `i < m`, `j < n`.
///
/// `a` is `[m, k]` row-major, `w` is `[n, k]` row-major (PyTorch's `nn.Linear` layout, so a
/// checkpoint's weights are used as stored), `out` is `[m, n]` row-major.
///
/// Eight partial sums per dot product let the compiler vectorise the loop without reassociating
/// floats on its own; the order is fixed, so results are deterministic.
pub fn linear_f32(a: &[f32], w: &[f32], bias: Option<&[f32]>, out: &mut [f32], m: usize, k: usize, n: usize) {
    assert_eq!(a.len(), m * k, "linear_f32: a must be [m, k]");
    assert_eq!(w.len(), n * k, "linear_f32: w must be [n, k]");
    assert_eq!(out.len(), m * n, "linear_f32: out must be [m, n]");
    if let Some(b) = bias {
        assert_eq!(b.len(), n, "linear_f32: bias must be [n]");
    }
    if n == 0 {
        return;
    }
    for (i, out_row) in out.chunks_exact_mut(n).enumerate() {
        let a_row = &a[i * k..(i + 1) * k];
        for (j, o) in out_row.iter_mut().enumerate() {
            let w_row = &w[j * k..(j + 1) * k];
            *o = dot_f32(a_row, w_row) + bias.map_or(0.0, |b| b[j]);
        }
    }
}

#[inline]
fn dot_f32(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let xc = x.chunks_exact(8);
    let yc = y.chunks_exact(8);
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += xs[l] * ys[l];
        }
    }
    let mut tail = 0.0f32;
    for (a, b) in xr.iter().zip(yr) {
        tail += a * b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Asserts that `got` (`[m, n]`) is within `tol · √k` of the float layer `a · wᵀ + bias`
/// ([`linear_f32`] of `[a, w, bias]`), elementwise: the unit tests of the quantized twins.
#[cfg(test)]
pub(crate) fn assert_near_float(got: &[f32], [a, w, bias]: [&[f32]; 3], [m, k, n]: [usize; 3], tol: f32) {
    let mut want = vec![0.0; m * n];
    linear_f32(a, w, Some(bias), &mut want, m, k, n);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < tol * (k as f32).sqrt(), "{g} vs {w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], w: &[f32], bias: Option<&[f32]>, m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut out = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = bias.map_or(0.0, |b| b[j] as f64);
                for p in 0..k {
                    s += a[i * k + p] as f64 * w[j * k + p] as f64;
                }
                out[i * n + j] = s;
            }
        }
        out
    }

    #[test]
    fn matches_f64_naive_over_odd_shapes() {
        for &(m, k, n) in &[(1, 1, 1), (3, 7, 5), (2, 9, 1), (4, 17, 3), (1, 384, 2), (0, 4, 4)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 13 % 7) as f32 - 3.0) / 2.0).collect();
            let b: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 1.0).collect();
            let mut out = vec![f32::NAN; m * n];
            linear_f32(&a, &w, Some(&b), &mut out, m, k, n);
            let want = naive(&a, &w, Some(&b), m, k, n);
            for (got, want) in out.iter().zip(&want) {
                let tol = 1e-5 * (k as f64).sqrt() * want.abs().max(1.0);
                assert!((*got as f64 - want).abs() <= tol, "{m}x{k}x{n}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn zero_depth_gives_bias() {
        let mut out = vec![f32::NAN; 6];
        linear_f32(&[], &[], Some(&[1.0, 2.0, 3.0]), &mut out, 2, 0, 3);
        assert_eq!(out, vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    }
}
