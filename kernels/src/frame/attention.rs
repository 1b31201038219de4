//! Attention through a backend's own f32 GEMM and row softmax, for SIMD backends without a
//! fused attention kernel: each head's keys or values are packed as a weight and multiplied.

use crate::attention::AttentionShape;
use crate::generic;
use crate::linear::{Epilogue, Scratch};
use crate::packed::{pack_f32_with, PackedF32};
use crate::registry::KernelSlots;

/// A fused attention slot (`attention_f32` or `attention_i8`) of a backend whose kernel is
/// `$kernel($token(self), [q, k, v], s, ctx, scratch)`: checks the shapes and finishes the
/// empty cases (no rows, heads or keys), then runs the kernel. Put
/// `attention_slot!(attention_i8, |s: &Token| .. => path::to::kernel);` inside its
/// `impl KernelSlots`.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_macros))]
macro_rules! attention_slot {
    ($slot:ident, $token:expr => $kernel:path) => {
        fn $slot(
            &self,
            q: &[f32],
            k: &[f32],
            v: &[f32],
            s: &$crate::AttentionShape,
            ctx: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            s.check(q.len(), k.len(), v.len(), ctx.len());
            if !s.finish_if_empty(ctx) {
                $kernel($token(self), [q, k, v], s, ctx, scratch)
            }
        }
    };
}

/// `KernelSlots::attention_f32` as two f32 GEMMs per head around a row softmax.
pub(crate) fn attention_f32<K: KernelSlots + ?Sized>(
    kern: &K,
    [q, k, v]: [&[f32]; 3],
    s: &AttentionShape,
    ctx: &mut [f32],
    scratch: &mut Scratch,
) {
    s.check(q.len(), k.len(), v.len(), ctx.len());
    let AttentionShape { m, l, heads, d, ld, scale } = *s;
    if m == 0 || l == 0 {
        return generic::attention_f32(q, k, v, s, ctx);
    }
    let (mut qa, mut w) = (std::mem::take(&mut scratch.attn_a), std::mem::take(&mut scratch.attn_w));
    let (mut p, mut o) = (std::mem::take(&mut scratch.attn_s), std::mem::take(&mut scratch.attn_o));
    p.resize(m * l, 0.0);
    o.resize(m * d, 0.0);
    for h in 0..heads {
        gather_head(&mut qa, q, m, h, d, ld, scale);
        pack_f32_with(&mut w, l, d, |j, t| k[j * ld + h * d + t]);
        let kw = PackedF32::new(&w, l, d).expect("pack_f32_with sizes the panels");
        kern.linear_f32(&qa, m, &kw, &Epilogue::none(), &mut p[..m * l], scratch);
        kern.softmax_rows(&mut p[..m * l], l, 1.0, None);
        context_head(kern, &p[..m * l], v, m, l, h, d, ld, &mut w, &mut o, ctx, scratch);
    }
    (scratch.attn_a, scratch.attn_w, scratch.attn_s, scratch.attn_o) = (qa, w, p, o);
}

/// `KernelSlots::attention_scores` (the `[heads, l, l]` scores of `s.l` rows) by f32 GEMM.
pub(crate) fn attention_scores<K: KernelSlots + ?Sized>(
    kern: &K,
    q: &[f32],
    k: &[f32],
    s: &AttentionShape,
    scores: &mut [f32],
    scratch: &mut Scratch,
) {
    let AttentionShape { l, d, ld, scale, .. } = *s;
    if l == 0 {
        return generic::attention_scores_f32(q, k, s, scores);
    }
    s.check_scores(q.len(), k.len(), scores.len());
    let (mut qa, mut kw) = (std::mem::take(&mut scratch.attn_a), std::mem::take(&mut scratch.attn_w));
    for (h, out) in scores.chunks_exact_mut(l * l).enumerate() {
        gather_head(&mut qa, q, l, h, d, ld, scale);
        pack_f32_with(&mut kw, l, d, |j, t| k[j * ld + h * d + t]);
        let w = PackedF32::new(&kw, l, d).expect("pack_f32_with sizes the panels");
        kern.linear_f32(&qa, l, &w, &Epilogue::none(), out, scratch);
    }
    (scratch.attn_a, scratch.attn_w) = (qa, kw);
}

/// `KernelSlots::attention_context` (probabilities `[heads, l, l]` times values) by f32 GEMM.
pub(crate) fn attention_context<K: KernelSlots + ?Sized>(
    kern: &K,
    p: &[f32],
    v: &[f32],
    s: &AttentionShape,
    ctx: &mut [f32],
    scratch: &mut Scratch,
) {
    let AttentionShape { l, d, ld, .. } = *s;
    if l == 0 {
        return generic::attention_context_f32(p, v, s, ctx);
    }
    s.check_context(p.len(), v.len(), ctx.len());
    let (mut vw, mut o) = (std::mem::take(&mut scratch.attn_w), std::mem::take(&mut scratch.attn_o));
    o.resize(l * d, 0.0);
    for (h, ph) in p.chunks_exact(l * l).enumerate() {
        context_head(kern, ph, v, l, l, h, d, ld, &mut vw, &mut o, ctx, scratch);
    }
    (scratch.attn_w, scratch.attn_o) = (vw, o);
}

/// Head `h` of `rows` query rows, scaled, into `qa` (`[rows, d]`).
fn gather_head(qa: &mut Vec<f32>, q: &[f32], rows: usize, h: usize, d: usize, ld: usize, scale: f32) {
    qa.clear();
    qa.extend((0..rows).flat_map(|i| q[i * ld + h * d..i * ld + h * d + d].iter().map(|x| x * scale)));
}

/// `ctx[i][h·d..] = p_h[i] · V_h` for `m` rows of probabilities over `l` keys: V packed into `w`,
/// the product in `o` (`[m, d]`), then scattered into the strided context.
#[allow(clippy::too_many_arguments)]
fn context_head<K: KernelSlots + ?Sized>(
    kern: &K,
    p: &[f32],
    v: &[f32],
    m: usize,
    l: usize,
    h: usize,
    d: usize,
    ld: usize,
    w: &mut Vec<f32>,
    o: &mut [f32],
    ctx: &mut [f32],
    scratch: &mut Scratch,
) {
    pack_f32_with(w, d, l, |t, j| v[j * ld + h * d + t]);
    let vw = PackedF32::new(w, d, l).expect("pack_f32_with sizes the panels");
    kern.linear_f32(p, m, &vw, &Epilogue::none(), &mut o[..m * d], scratch);
    for (i, row) in o[..m * d].chunks_exact(d.max(1)).enumerate().take(m) {
        ctx[i * ld + h * d..i * ld + h * d + d].copy_from_slice(row);
    }
}
