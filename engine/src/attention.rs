//! Multi-head self-attention over stacked sequences: `softmax(Q·Kᵀ/√d)·V` per sequence and head,
//! each sequence attending only to its own tokens (that is what the attention mask means, so no
//! mask is materialised). The kernels' fused attention runs per sequence; its query rows are
//! split into one block per thread (each output row depends only on its own query row, so the
//! split does not change a bit), each block with its own kernel scratch.

use crate::parallel::{block_rows, for_each_block, threads};
use edgebert_kernels::{AttentionShape, Kernels, Scratch};
use edgebert_models::Config;

/// Kernel scratch per thread block, grown to the longest sequence seen.
#[derive(Default)]
pub(crate) struct AttentionScratch {
    blocks: Vec<Scratch>,
}

/// Below this many query rows per thread, splitting costs more than it saves.
const MIN_ROWS_PER_THREAD: usize = 8;

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
    let shape = AttentionShape { m: 0, l: 0, heads, d, ld: h, scale };
    let threads = threads();
    for w in starts.windows(2) {
        let (start, len) = (w[0], w[1] - w[0]);
        let rows = start * h..(start + len) * h;
        let (q, k, v) = (&q[rows.clone()], &k[rows.clone()], &v[rows.clone()]);
        let block = block_rows(len, threads, MIN_ROWS_PER_THREAD);
        let blocks = len.div_ceil(block).max(1);
        if s.blocks.len() < blocks {
            s.blocks.resize_with(blocks, Scratch::default);
        }
        for_each_block(&mut context[rows], block * h, &mut s.blocks, |i, ctx, scratch| {
            let (r0, m) = (i * block, ctx.len() / h.max(1));
            let shape = AttentionShape { m, l: len, ..shape };
            kernels.attention_f32(&q[r0 * h..(r0 + m) * h], k, v, &shape, ctx, scratch);
        });
    }
}
