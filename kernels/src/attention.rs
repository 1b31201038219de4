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
