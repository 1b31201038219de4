//! Scalar attention pieces: the per-head products QKᵀ and PV, on
//! activations laid out as the projections produce them: row `i` of a `[l, ld]` matrix holds
//! every head's `d` values side by side (`ld = heads · d`, or `3 · heads · d` for a fused QKV
//! projection with `q`, `k`, `v` being offset slices of it).

use crate::attention::AttentionShape;

/// `scores[h][i][j] = s.scale · Σ_t q[i·ld + h·d + t] · k[j·ld + h·d + t]` for the `s.l` rows of
/// `q` and of `k` (`s.m` is not read: the scores are square); `scores` is `[heads, l, l]`.
pub fn attention_scores_f32(q: &[f32], k: &[f32], s: &AttentionShape, scores: &mut [f32]) {
    s.check_scores(q.len(), k.len(), scores.len());
    let AttentionShape { l, heads, d, ld, scale, .. } = *s;
    for h in 0..heads {
        for i in 0..l {
            let qi = &q[i * ld + h * d..i * ld + h * d + d];
            for j in 0..l {
                let kj = &k[j * ld + h * d..j * ld + h * d + d];
                let dot: f32 = qi.iter().zip(kj).map(|(a, b)| a * b).sum();
                scores[(h * l + i) * l + j] = scale * dot;
            }
        }
    }
}

/// `ctx[i·ld + h·d + t] = Σ_j p[h][i][j] · v[j·ld + h·d + t]` over the `s.l` rows (`s.m` and
/// `s.scale` are not read); `p` is `[heads, l, l]`, `ctx` has the layout of `v` (only the
/// `heads · d` values of each row are written).
pub fn attention_context_f32(p: &[f32], v: &[f32], s: &AttentionShape, ctx: &mut [f32]) {
    s.check_context(p.len(), v.len(), ctx.len());
    let AttentionShape { l, heads, d, ld, .. } = *s;
    for h in 0..heads {
        for i in 0..l {
            let out = &mut ctx[i * ld + h * d..i * ld + h * d + d];
            out.fill(0.0);
            for j in 0..l {
                let pij = p[(h * l + i) * l + j];
                for (o, vv) in out.iter_mut().zip(&v[j * ld + h * d..j * ld + h * d + d]) {
                    *o += pij * vv;
                }
            }
        }
    }
}

/// Multi-head attention of `m` query rows against `l` keys, fused: for every head `h` and
/// query row `i`, `ctx[i·ld + h·d + t] = Σ_j softmax_j(scale · q_i · k_j) · v[j·ld + h·d + t]`
/// (see [`AttentionShape`] for the layout). Each output row depends only on its own query row,
/// so the query rows can be split across threads freely.
pub fn attention_f32(q: &[f32], k: &[f32], v: &[f32], s: &AttentionShape, ctx: &mut [f32]) {
    s.check(q.len(), k.len(), v.len(), ctx.len());
    let AttentionShape { m, l, heads, d, ld, scale } = *s;
    let mut p = vec![0.0f32; l];
    for h in 0..heads {
        for i in 0..m {
            let qi = &q[i * ld + h * d..i * ld + h * d + d];
            for (j, pj) in p.iter_mut().enumerate() {
                let kj = &k[j * ld + h * d..j * ld + h * d + d];
                *pj = scale * qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>();
            }
            super::softmax_f32(&mut p);
            let out = &mut ctx[i * ld + h * d..i * ld + h * d + d];
            out.fill(0.0);
            for (j, &pj) in p.iter().enumerate() {
                for (o, vv) in out.iter_mut().zip(&v[j * ld + h * d..j * ld + h * d + d]) {
                    *o += pj * vv;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_heads_of_a_fused_row_layout() {
        // l = 2, heads = 2, d = 1, ld = 3 (a spare column that must be ignored).
        let q = [1.0, 2.0, 9.0, 3.0, 4.0, 9.0];
        let shape = AttentionShape { m: 2, l: 2, heads: 2, d: 1, ld: 3, scale: 0.5 };
        let mut s = vec![0.0; 8];
        attention_scores_f32(&q, &q, &shape, &mut s);
        assert_eq!(s, vec![0.5, 1.5, 1.5, 4.5, 2.0, 4.0, 4.0, 8.0]);
        let p = [1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 1.0, 0.0];
        let mut ctx = vec![-7.0; 6];
        attention_context_f32(&p, &q, &shape, &mut ctx);
        assert_eq!(ctx, vec![1.0, 4.0, -7.0, 2.0, 2.0, -7.0]);
    }
}
