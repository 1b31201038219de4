//! Forward-with-cache and backward of the row-wise ops: LayerNorm, GELU, dropout, and masked
//! multi-head attention over packed sequences.

use super::rng::Rng;
use edgebert_kernels::generic::{erf_f32, softmax_f32};

/// What LayerNorm's backward needs: the normalised rows and each row's `1/σ`.
#[derive(Debug, Clone, Default)]
pub struct NormCache {
    pub xhat: Vec<f32>,
    pub rstd: Vec<f32>,
}

/// LayerNorm over rows of width `gamma.len()` (biased variance, `eps` inside the root, as
/// PyTorch), returning the output and the cache.
pub fn layer_norm_forward(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> (Vec<f32>, NormCache) {
    let h = gamma.len();
    let rows = x.len() / h;
    let (mut out, mut xhat, mut rstd) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()], vec![0.0f32; rows]);
    for (r, row) in x.chunks_exact(h).enumerate() {
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        rstd[r] = inv;
        for i in 0..h {
            let n = (row[i] - mean) * inv;
            xhat[r * h + i] = n;
            out[r * h + i] = n * gamma[i] + beta[i];
        }
    }
    (out, NormCache { xhat, rstd })
}

/// `dx = σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))` with `ĝ = dy·γ`; accumulates `dγ`, `dβ`.
pub fn layer_norm_backward(
    dy: &[f32],
    cache: &NormCache,
    gamma: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) -> Vec<f32> {
    let h = gamma.len();
    let mut dx = vec![0.0f32; dy.len()];
    let mut g = vec![0.0f32; h];
    for (r, (drow, xrow)) in dy.chunks_exact(h).zip(cache.xhat.chunks_exact(h)).enumerate() {
        let (mut mean_g, mut mean_gx) = (0.0f32, 0.0f32);
        for i in 0..h {
            dgamma[i] += drow[i] * xrow[i];
            dbeta[i] += drow[i];
            g[i] = drow[i] * gamma[i];
            mean_g += g[i];
            mean_gx += g[i] * xrow[i];
        }
        mean_g /= h as f32;
        mean_gx /= h as f32;
        let inv = cache.rstd[r];
        for i in 0..h {
            dx[r * h + i] = inv * (g[i] - mean_g - xrow[i] * mean_gx);
        }
    }
    dx
}

/// d/dx of `x·Φ(x)`: `Φ(x) + x·φ(x)`.
pub fn gelu_erf_grad(x: f32) -> f32 {
    let cdf = 0.5 * (1.0 + erf_f32(x * std::f32::consts::FRAC_1_SQRT_2));
    let pdf = (-0.5 * x * x).exp() * 0.398_942_3;
    cdf + x * pdf
}

/// An inverted-dropout mask (`0` or `1/(1-p)`), or `None` when `p` is 0.
pub(crate) fn dropout_mask(len: usize, p: f32, rng: &mut Rng) -> Option<Vec<f32>> {
    if p <= 0.0 {
        return None;
    }
    let keep = 1.0 / (1.0 - p);
    Some((0..len).map(|_| if rng.uniform() < p { 0.0 } else { keep }).collect())
}

pub(crate) fn apply_mask(x: &mut [f32], mask: &Option<Vec<f32>>) {
    if let Some(m) = mask {
        x.iter_mut().zip(m).for_each(|(v, k)| *v *= k);
    }
}

/// Attention of every sequence (rows `offsets[b]..offsets[b+1]`) over its own keys.
pub(crate) struct Attention {
    pub heads: usize,
    pub head_dim: usize,
    /// Softmax probabilities before dropout, per sequence then head, `[len, len]` each.
    pub probs: Vec<f32>,
    /// Dropout mask over `probs`, same layout.
    pub mask: Option<Vec<f32>>,
}

impl Attention {
    fn prob_offsets(offsets: &[usize], heads: usize) -> Vec<usize> {
        let mut acc = vec![0usize];
        for w in offsets.windows(2) {
            let len = w[1] - w[0];
            acc.push(acc.last().copied().unwrap_or(0) + heads * len * len);
        }
        acc
    }

    /// Returns the attention and the context rows `[rows, heads·head_dim]`.
    pub fn forward(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        offsets: &[usize],
        heads: usize,
        p_drop: f32,
        rng: &mut Rng,
    ) -> (Attention, Vec<f32>) {
        let rows = offsets.last().copied().unwrap_or(0);
        let h = q.len().checked_div(rows).unwrap_or(0);
        let head_dim = h / heads;
        let scale = 1.0 / (head_dim as f32).sqrt();
        let po = Self::prob_offsets(offsets, heads);
        let mut probs = vec![0.0f32; *po.last().unwrap_or(&0)];
        for (b, w) in offsets.windows(2).enumerate() {
            let (start, len) = (w[0], w[1] - w[0]);
            for head in 0..heads {
                let p = &mut probs[po[b] + head * len * len..][..len * len];
                for i in 0..len {
                    let qi = &q[(start + i) * h + head * head_dim..][..head_dim];
                    let row = &mut p[i * len..][..len];
                    for (j, s) in row.iter_mut().enumerate() {
                        let kj = &k[(start + j) * h + head * head_dim..][..head_dim];
                        *s = scale * qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>();
                    }
                    softmax_f32(row);
                }
            }
        }
        let mask = dropout_mask(probs.len(), p_drop, rng);
        let att = Attention { heads, head_dim, probs, mask };
        let mut ctx = vec![0.0f32; q.len()];
        for (b, w) in offsets.windows(2).enumerate() {
            let (start, len) = (w[0], w[1] - w[0]);
            for head in 0..heads {
                let base = po[b] + head * len * len;
                for i in 0..len {
                    let out = &mut ctx[(start + i) * h + head * head_dim..][..head_dim];
                    for j in 0..len {
                        let pij = att.dropped(base + i * len + j);
                        let vj = &v[(start + j) * h + head * head_dim..][..head_dim];
                        out.iter_mut().zip(vj).for_each(|(o, x)| *o += pij * x);
                    }
                }
            }
        }
        (att, ctx)
    }

    fn dropped(&self, idx: usize) -> f32 {
        match &self.mask {
            Some(m) => self.probs[idx] * m[idx],
            None => self.probs[idx],
        }
    }

    /// `(dq, dk, dv)` from the context gradient.
    pub fn backward(
        &self,
        dctx: &[f32],
        q: &[f32],
        k: &[f32],
        v: &[f32],
        offsets: &[usize],
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (heads, d) = (self.heads, self.head_dim);
        let h = heads * d;
        let scale = 1.0 / (d as f32).sqrt();
        let po = Self::prob_offsets(offsets, heads);
        let (mut dq, mut dk, mut dv) = (vec![0.0f32; q.len()], vec![0.0f32; k.len()], vec![0.0f32; v.len()]);
        let mut ds = Vec::new();
        for (b, w) in offsets.windows(2).enumerate() {
            let (start, len) = (w[0], w[1] - w[0]);
            ds.resize(len * len, 0.0f32);
            for head in 0..heads {
                let base = po[b] + head * len * len;
                let at = |t: usize| (start + t) * h + head * d;
                // dP' = dC·Vᵀ, dV = P'ᵀ·dC, then through dropout and softmax.
                for i in 0..len {
                    let dci = &dctx[at(i)..][..d];
                    let mut dot = 0.0f32;
                    for j in 0..len {
                        let vj = &v[at(j)..][..d];
                        let mut dp = dci.iter().zip(vj).map(|(a, b)| a * b).sum::<f32>();
                        let pd = self.dropped(base + i * len + j);
                        dv[at(j)..][..d].iter_mut().zip(dci).for_each(|(g, c)| *g += pd * c);
                        if let Some(m) = &self.mask {
                            dp *= m[base + i * len + j];
                        }
                        ds[i * len + j] = dp;
                        dot += dp * self.probs[base + i * len + j];
                    }
                    for j in 0..len {
                        let pij = self.probs[base + i * len + j];
                        ds[i * len + j] = scale * pij * (ds[i * len + j] - dot);
                    }
                }
                for i in 0..len {
                    for j in 0..len {
                        let s = ds[i * len + j];
                        if s == 0.0 {
                            continue;
                        }
                        let (qi, kj) = (at(i), at(j));
                        for x in 0..d {
                            dq[qi + x] += s * k[kj + x];
                            dk[kj + x] += s * q[qi + x];
                        }
                    }
                }
            }
        }
        (dq, dk, dv)
    }
}
