//! Multi-head self-attention over stacked sequences: `softmax(Q·Kᵀ/√d)·V` per sequence and head,
//! each sequence attending only to its own tokens (that is what the attention mask means, so no
//! mask is materialised). The heads of a sequence are split into one group per thread; each
//! group runs the kernels' attention products and softmax with its own scratch.

use crate::parallel::{for_each_state, threads};
use crate::session::grow;
use edgebert_kernels::{Kernels, Scratch};
use edgebert_models::Config;

/// Working memory of one group of heads, grown to the longest sequence seen.
#[derive(Default)]
struct GroupScratch {
    scores: Vec<f32>,
    /// `[len, hidden]`: the group's context columns (only used when heads are split).
    ctx: Vec<f32>,
    kernel: Scratch,
}

#[derive(Default)]
pub(crate) struct AttentionScratch {
    groups: Vec<GroupScratch>,
}

/// `q`, `k`, `v` and `context` are `[tokens, hidden]`; sequence `b` owns rows
/// `starts[b]..starts[b + 1]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn attend(
    kernels: Kernels,
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
    let groups = threads().clamp(1, heads);
    let per_group = heads.div_ceil(groups);
    let groups = heads.div_ceil(per_group);
    if s.groups.len() < groups {
        s.groups.resize_with(groups, GroupScratch::default);
    }
    for w in starts.windows(2) {
        let (start, len) = (w[0], w[1] - w[0]);
        let rows = start * h..(start + len) * h;
        let (q, k, v) = (&q[rows.clone()], &k[rows.clone()], &v[rows.clone()]);
        let head_range = |g: usize| (g * per_group, per_group.min(heads - g * per_group));
        if groups == 1 {
            let gs = &mut s.groups[0];
            let scores = grow(&mut gs.scores, heads * len * len);
            kernels.attention_scores(q, k, len, heads, d, h, scale, scores, &mut gs.kernel);
            kernels.softmax_rows(scores, len, 1.0, None);
            let p = &gs.scores[..heads * len * len];
            kernels.attention_context(p, v, len, heads, d, h, &mut context[rows], &mut gs.kernel);
            continue;
        }
        for_each_state(&mut s.groups[..groups], |g, gs| {
            let (h0, hn) = head_range(g);
            let scores = grow(&mut gs.scores, hn * len * len);
            kernels.attention_scores(
                &q[h0 * d..],
                &k[h0 * d..],
                len,
                hn,
                d,
                h,
                scale,
                scores,
                &mut gs.kernel,
            );
            kernels.softmax_rows(scores, len, 1.0, None);
            let ctx = grow(&mut gs.ctx, len * h);
            let p = &gs.scores[..hn * len * len];
            kernels.attention_context(p, &v[h0 * d..], len, hn, d, h, &mut ctx[h0 * d..], &mut gs.kernel);
        });
        for (g, gs) in s.groups[..groups].iter().enumerate() {
            let (h0, hn) = head_range(g);
            let cols = h0 * d..(h0 + hn) * d;
            for t in 0..len {
                let (dst, src) = ((start + t) * h, t * h);
                context[dst + cols.start..dst + cols.end]
                    .copy_from_slice(&gs.ctx[src + cols.start..src + cols.end]);
            }
        }
    }
}
