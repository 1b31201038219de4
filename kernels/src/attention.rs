//! The shape of one fused multi-head attention call (see `Kernels::attention_f32`).

/// `m` query rows attend to `l` keys in `heads` heads of `d` channels; row `i` of each
/// activation starts at `i · ld` and holds head `h` in `h·d..(h+1)·d` (`ld = heads · d`, or
/// `3 · heads · d` for a fused QKV projection). Scores are scaled by `scale` before the softmax.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttentionShape {
    pub m: usize,
    pub l: usize,
    pub heads: usize,
    pub d: usize,
    pub ld: usize,
    pub scale: f32,
}

impl AttentionShape {
    /// The same heads for `m` other query rows.
    pub fn with_rows(self, m: usize) -> AttentionShape {
        AttentionShape { m, ..self }
    }

    /// Finishes the calls with nothing to compute, for the fused kernels: no query rows, heads or
    /// channels (nothing is written), or no keys (every head's context is zero). Returns whether
    /// it did.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn finish_if_empty(&self, ctx: &mut [f32]) -> bool {
        let AttentionShape { m, l, heads, d, ld, .. } = *self;
        if m == 0 || heads == 0 || d == 0 {
            return true;
        }
        if l == 0 {
            for i in 0..m {
                ctx[i * ld..i * ld + heads * d].fill(0.0);
            }
            return true;
        }
        false
    }

    /// Asserts that `q`, `ctx` hold `m` rows and `k`, `v` hold `l` rows of this layout.
    pub(crate) fn check(&self, q: usize, k: usize, v: usize, ctx: usize) {
        let check =
            |len, rows, what| crate::generic::check_heads(len, rows, self.heads, self.d, self.ld, what);
        check(q, self.m, "q");
        check(k, self.l, "k");
        check(v, self.l, "v");
        check(ctx, self.m, "ctx");
    }
}
