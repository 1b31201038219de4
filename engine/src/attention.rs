//! Multi-head self-attention over stacked sequences: `softmax(Q·Kᵀ/√d)·V` per sequence and head,
//! each sequence attending only to its own tokens. Heads run in parallel, each with its own
//! scratch, and write their context into a per-head block that is then interleaved back.

use crate::parallel::for_each_block;
use edgebert_kernels::generic::{linear_f32, softmax_f32};
use edgebert_models::Config;

/// Working memory of one head, grown to the longest sequence seen.
#[derive(Default)]
struct HeadScratch {
    qh: Vec<f32>,
    kh: Vec<f32>,
    vt: Vec<f32>,
    scores: Vec<f32>,
}

#[derive(Default)]
pub(crate) struct AttentionScratch {
    heads: Vec<HeadScratch>,
    /// `[heads, len, d]`: every head's context for the current sequence.
    head_out: Vec<f32>,
}

fn grow(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len {
        v.resize(len, 0.0);
    }
    &mut v[..len]
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
    let (h, d, heads) = (c.hidden_size, c.head_dim(), c.num_attention_heads);
    let scale = 1.0 / (d as f32).sqrt();
    if s.heads.len() < heads {
        s.heads.resize_with(heads, HeadScratch::default);
    }
    for w in starts.windows(2) {
        let (start, len) = (w[0], w[1] - w[0]);
        let head_out = grow(&mut s.head_out, heads * len * d);
        for_each_block(head_out, len * d, &mut s.heads, |head, ctx, hs| {
            let qh = grow(&mut hs.qh, len * d);
            let kh = grow(&mut hs.kh, len * d);
            let vt = grow(&mut hs.vt, len * d);
            for t in 0..len {
                let src = (start + t) * h + head * d;
                qh[t * d..(t + 1) * d].copy_from_slice(&q[src..src + d]);
                kh[t * d..(t + 1) * d].copy_from_slice(&k[src..src + d]);
                for i in 0..d {
                    vt[i * len + t] = v[src + i];
                }
            }
            let scores = grow(&mut hs.scores, len * len);
            linear_f32(&hs.qh[..len * d], &hs.kh[..len * d], None, scores, len, d, len);
            for row in scores.chunks_exact_mut(len) {
                row.iter_mut().for_each(|x| *x *= scale);
                softmax_f32(row);
            }
            linear_f32(&hs.scores[..len * len], &hs.vt[..len * d], None, ctx, len, len, d);
        });
        for head in 0..heads {
            for t in 0..len {
                let dst = (start + t) * h + head * d;
                let src = (head * len + t) * d;
                context[dst..dst + d].copy_from_slice(&s.head_out[src..src + d]);
            }
        }
    }
}
