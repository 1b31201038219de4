//! Multi-head self-attention over stacked sequences: `softmax(Q·Kᵀ/√d)·V` per sequence and head,
//! each sequence attending only to its own tokens (that is what the attention mask means, so no
//! mask is materialised). The kernels' fused attention runs per sequence, on the query rows of
//! the caller's row block (the layer splits its rows once, per thread, for attention and
//! everything after it; each output row depends only on its own query row, so the split does
//! not change a bit).

use edgebert_kernels::{AttentionShape, Kernels, Scratch};
use edgebert_models::Config;
use std::ops::Range;

/// Attention for the query rows `rows` of the stacked batch: `q`, `k`, `v` are `[tokens,
/// hidden]` (sequence `b` owns rows `starts[b]..starts[b + 1]`), `context` is `[rows, hidden]`.
/// Each row attends to all keys of its own sequence, so any split of the rows gives the same
/// bits. `int8`: int8 products (`Kernels::attention_i8`), else f32.
#[allow(clippy::too_many_arguments)]
pub(crate) fn attend(
    kernels: Kernels,
    c: &Config,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    starts: &[usize],
    rows: Range<usize>,
    context: &mut [f32],
    scratch: &mut Scratch,
    int8: bool,
) {
    let (h, d, heads) = (c.hidden_size, c.head_dim(), c.num_attention_heads);
    let scale = 1.0 / (d as f32).sqrt();
    for w in starts.windows(2) {
        let (start, end) = (w[0], w[1]);
        let (r0, r1) = (rows.start.max(start), rows.end.min(end));
        if r0 >= r1 {
            continue;
        }
        let shape = AttentionShape { m: r1 - r0, l: end - start, heads, d, ld: h, scale };
        let (keys, own) = (start * h..end * h, r0 * h..r1 * h);
        let ctx = &mut context[(r0 - rows.start) * h..(r1 - rows.start) * h];
        if int8 {
            kernels.attention_i8(&q[own], &k[keys.clone()], &v[keys], &shape, ctx, scratch);
        } else {
            kernels.attention_f32(&q[own], &k[keys.clone()], &v[keys], &shape, ctx, scratch);
        }
    }
}
