//! Multi-head self-attention over stacked sequences: `softmax(Q·Kᵀ/√d)·V` per sequence and head,
//! each sequence attending only to its own tokens.

use edgebert_kernels::generic::{linear_f32, softmax_f32};
use edgebert_models::Config;

/// Per-head working buffers, grown to the longest sequence seen.
#[derive(Default)]
pub(crate) struct AttentionScratch {
    qh: Vec<f32>,
    kh: Vec<f32>,
    vt: Vec<f32>,
    scores: Vec<f32>,
    ctx: Vec<f32>,
}

fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

/// `q`, `k`, `v` and `context` are `[tokens, hidden]`; sequence `b` owns rows
/// `starts[b]..starts[b + 1]`.
pub(crate) fn attend(
    c: &Config,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    starts: &[usize],
    context: &mut [f32],
    s: &mut AttentionScratch,
) {
    let h = c.hidden_size;
    let d = c.head_dim();
    let scale = 1.0 / (d as f32).sqrt();
    for w in starts.windows(2) {
        let (start, len) = (w[0], w[1] - w[0]);
        grow(&mut s.qh, len * d);
        grow(&mut s.kh, len * d);
        grow(&mut s.vt, len * d);
        grow(&mut s.scores, len * len);
        grow(&mut s.ctx, len * d);
        let (qh, kh, vt) = (&mut s.qh[..len * d], &mut s.kh[..len * d], &mut s.vt[..len * d]);
        let (scores, ctx) = (&mut s.scores[..len * len], &mut s.ctx[..len * d]);
        for head in 0..c.num_attention_heads {
            for t in 0..len {
                let src = (start + t) * h + head * d;
                qh[t * d..(t + 1) * d].copy_from_slice(&q[src..src + d]);
                kh[t * d..(t + 1) * d].copy_from_slice(&k[src..src + d]);
                for i in 0..d {
                    vt[i * len + t] = v[src + i];
                }
            }
            linear_f32(qh, kh, None, scores, len, d, len);
            for row in scores.chunks_exact_mut(len) {
                row.iter_mut().for_each(|x| *x *= scale);
                softmax_f32(row);
            }
            linear_f32(scores, vt, None, ctx, len, len, d);
            for t in 0..len {
                let dst = (start + t) * h + head * d;
                context[dst..dst + d].copy_from_slice(&ctx[t * d..(t + 1) * d]);
            }
        }
    }
}
