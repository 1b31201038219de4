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
        self.check_rows(q, self.m, "q");
        self.check_rows(k, self.l, "k");
        self.check_rows(v, self.l, "v");
        self.check_rows(ctx, self.m, "ctx");
    }

    /// The shapes of the per-head scores (`Kernels::attention_scores`): `q` and `k` hold `l` rows
    /// of this layout, `scores` is `[heads, l, l]`.
    pub(crate) fn check_scores(&self, q: usize, k: usize, scores: usize) {
        self.check_rows(q, self.l, "q");
        self.check_rows(k, self.l, "k");
        assert_eq!(scores, self.heads * self.l * self.l, "attention_scores: scores must be [heads, l, l]");
    }

    /// The shapes of the per-head context (`Kernels::attention_context`): `p` is
    /// `[heads, l, l]`, `v` and `ctx` hold `l` rows of this layout.
    pub(crate) fn check_context(&self, p: usize, v: usize, ctx: usize) {
        self.check_rows(v, self.l, "v");
        self.check_rows(ctx, self.l, "ctx");
        assert_eq!(p, self.heads * self.l * self.l, "attention_context: p must be [heads, l, l]");
    }

    /// Asserts that a strided activation of `len` values holds `rows` rows of `heads · d` values
    /// at stride `ld`.
    fn check_rows(&self, len: usize, rows: usize, what: &str) {
        assert!(self.heads * self.d <= self.ld, "attention: heads · d exceeds the row stride");
        if rows > 0 {
            assert!(
                len >= (rows - 1) * self.ld + self.heads * self.d,
                "attention: {what} is shorter than [l, ld]"
            );
        }
    }
}
