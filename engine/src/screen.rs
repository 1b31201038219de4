//! Exact search at int8 memory traffic: every row is screened through an int8 copy of the
//! corpus (a quarter of the bytes per query, through the kernels' int8 GEMM), with a proven
//! bound on how far each screened score can be from the true one, and only the rows that could
//! still belong to the top-k are scored again from their f32 values.
//!
//! Why the result is exact: with row `x ≈ x̂ = s·q` (symmetric int8, per row) and the unit query
//! `u ≈ û = t·p` (symmetric int8), `u·x − û·x̂ = u·(x − x̂) + (u − û)·x̂`, so by Cauchy–Schwarz
//! `|u·x − û·x̂| ≤ ‖u‖·‖x − x̂‖ + ‖u − û‖·‖x̂‖`. Both residual norms are known (the rows' at build
//! time, the query's per query), so each row's cosine lies in `[lo, hi]` around its screened
//! value. Let `T` be the k-th largest `lo`: at least k rows score ≥ T, so every true top-k row
//! scores ≥ T and has `hi ≥ T`. Rescoring every row with `hi ≥ T` exactly therefore finds the
//! true top-k. A small relative slack covers f32 rounding in the screen itself.

use crate::search::{better, Hit};
use edgebert_kernels::packed::{pack_i8_quantized, quantize_weight_row, PackedI8Buf, PANEL};
use edgebert_kernels::{Kernels, Scratch};

/// Per-row constants of the screen, each already multiplied by the row's inverse norm so
/// that the bounds come out in cosine units.
pub(crate) struct Int8Screen {
    packed: PackedI8Buf,
    /// `s · inv_norm`: integer dot to cosine.
    scale: Vec<f32>,
    /// `‖x − x̂‖ · inv_norm`.
    row_error: Vec<f32>,
    /// `‖x̂‖ · inv_norm`.
    quant_norm: Vec<f32>,
}

/// Rounding slack added to every bound (cosines are at most 1; the screen's own f32 products
/// are exact to a few ulps of that).
const SLACK: f32 = 1e-5;

impl Int8Screen {
    pub(crate) fn new(vectors: &[f32], dim: usize, inv_norms: &[f32]) -> Int8Screen {
        let rows = inv_norms.len();
        let mut q = vec![0i8; rows * dim];
        let mut scales = vec![0.0f32; rows];
        let (mut scale, mut row_error, mut quant_norm) = (vec![0.0; rows], vec![0.0; rows], vec![0.0; rows]);
        for (r, x) in vectors.chunks_exact(dim).enumerate() {
            let qr = &mut q[r * dim..(r + 1) * dim];
            let s = quantize_weight_row(x, qr);
            scales[r] = s;
            let (err, norm) = residual(x, qr, s);
            scale[r] = s * inv_norms[r];
            row_error[r] = (err * inv_norms[r] as f64) as f32;
            quant_norm[r] = (norm * inv_norms[r] as f64) as f32;
        }
        Int8Screen { packed: pack_i8_quantized(&q, &scales, rows, dim), scale, row_error, quant_norm }
    }

    /// The rows that may be among the `k` best for the unit query `u` (its values `[dim]`), as
    /// indices; every row outside the list provably scores below `k` rows inside it.
    pub(crate) fn candidates(
        &self,
        kernels: Kernels,
        u: &[f32],
        first_panel: usize,
        panels: usize,
        k: usize,
        scratch: &mut Scratch,
    ) -> Vec<usize> {
        let mut p = vec![0i8; u.len()];
        let t = quantize_weight_row(u, &mut p);
        let (query_error, _) = residual(u, &p, t);
        let query_error = query_error as f32;
        let query_norm = u.iter().map(|v| v * v).sum::<f32>().sqrt();
        let row0 = first_panel * PANEL;
        let n = (self.scale.len() - row0).min(panels * PANEL);
        let mut dots = vec![0i32; n];
        kernels.gemm_i8_i32(&p, 1, &self.packed.view().panel_range(first_panel, panels), &mut dots, scratch);
        let bound = |r: usize| query_norm * self.row_error[r] + query_error * self.quant_norm[r] + SLACK;
        let centre = |i: usize| t * self.scale[row0 + i] * dots[i] as f32;
        // The k-th largest lower bound, by a sorted list of k (most rows lose one comparison).
        let mut lows: Vec<f32> = Vec::with_capacity(k + 1);
        for i in 0..n {
            let lo = centre(i) - bound(row0 + i);
            if lows.len() == k && lows[k - 1] >= lo {
                continue;
            }
            let at = lows.partition_point(|&v| v >= lo);
            lows.insert(at, lo);
            lows.truncate(k);
        }
        let threshold = if lows.len() == k { lows[k - 1] } else { f32::NEG_INFINITY };
        (0..n).filter(|&i| centre(i) + bound(row0 + i) >= threshold).map(|i| row0 + i).collect()
    }
}

/// `‖x − s·q‖` and `‖s·q‖`, in f64.
fn residual(x: &[f32], q: &[i8], s: f32) -> (f64, f64) {
    let (mut err, mut norm) = (0.0f64, 0.0f64);
    for (&v, &qi) in x.iter().zip(q) {
        let xq = s as f64 * qi as f64;
        err += (v as f64 - xq).powi(2);
        norm += xq * xq;
    }
    (err.sqrt(), norm.sqrt())
}

/// The `k` best of `candidates` by their exact cosine with the unit query `u`.
pub(crate) fn rescore(
    vectors: &[f32],
    dim: usize,
    inv_norms: &[f32],
    u: &[f32],
    candidates: &[usize],
    k: usize,
) -> Vec<Hit> {
    let mut hits: Vec<Hit> = candidates
        .iter()
        .map(|&r| {
            let row = &vectors[r * dim..(r + 1) * dim];
            let dot: f64 = row.iter().zip(u).map(|(&a, &b)| a as f64 * b as f64).sum();
            Hit { index: r, score: (dot * inv_norms[r] as f64) as f32 }
        })
        .collect();
    hits.sort_by(better);
    hits.truncate(k);
    hits
}
