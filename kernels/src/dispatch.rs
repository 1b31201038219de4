//! [`Kernels`]: a handle on one runnable backend, with every kernel as a method. The handle is
//! the proof that the CPU supports the backend; each method routes to the backend's
//! implementation or to the [`crate::generic`] twin where the backend does not speed it up.

use crate::attention::AttentionShape;
use crate::backend::{Backend, Unsupported};
use crate::generic;
use crate::linear::{Epilogue, LinearI8, RowQuant, Scratch};
use crate::packed::{pack_f32_with, PackedF16, PackedF32, PackedI8};

#[cfg(target_arch = "x86_64")]
use crate::arch::x86::{avx2, avx512, avx512vnni, V4Vnni, V3, V4};

#[cfg(target_arch = "aarch64")]
use crate::arch::aarch64::{neon, neon_dotprod, Neon, NeonDot};

/// The token of a backend this handle was checked for; the check happened in `Kernels::new`,
/// so a failure here is a bug.
macro_rules! token {
    ($t:ty) => {
        <$t>::new().expect("Kernels holds a checked backend")
    };
}

/// A runnable backend. Cheap to copy; build it once with [`Kernels::selected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    backend: Backend,
}

impl Kernels {
    /// A handle on `backend`, or why this CPU cannot run it.
    pub fn new(backend: Backend) -> Result<Kernels, Unsupported> {
        backend.check()?;
        Ok(Kernels { backend })
    }

    /// The process-wide backend ([`Backend::selected`]: best available or `EDGEBERT_KERNELS`).
    pub fn selected() -> Kernels {
        Kernels { backend: Backend::selected() }
    }

    /// The portable scalar backend (the oracle).
    pub fn generic() -> Kernels {
        Kernels { backend: Backend::Generic }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// int8 linear layer: `out = epilogue(dequant(quant(a) · Wᵀ))`, `a` `[m, w.k()]`,
    /// `out` `[m, w.n()]`. See [`crate::linear`] for the exact semantics.
    pub fn linear_i8(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedI8<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Vnni => avx512vnni::linear_i8(token!(V4Vnni), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 | Backend::Avx512 => {
                avx2::gemm_i8::linear_i8(token!(V3), a, m, w, ep, out, scratch)
            }
            #[cfg(target_arch = "aarch64")]
            Backend::NeonDotprod => neon_dotprod::linear_i8(token!(NeonDot), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => neon::linear_i8(token!(Neon), a, m, w, ep, out, scratch),
            _ => generic::linear_i8(a, m, w, ep, out, scratch),
        }
    }

    /// Several int8 linear layers of the same input `a` (`[m, k]`, every weight with that `k`),
    /// for example a layer's query, key and value projections: each output is exactly what
    /// [`Kernels::linear_i8`] gives, but backends that quantize into their own layout do it once.
    pub fn linear_i8_shared(
        &self,
        a: &[f32],
        m: usize,
        layers: &mut [LinearI8<'_, '_>],
        scratch: &mut Scratch,
    ) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Vnni => avx512vnni::linear_i8_shared(token!(V4Vnni), a, m, layers, scratch),
            _ => {
                for l in layers {
                    self.linear_i8(a, m, &l.w, &l.ep, l.out, scratch);
                }
            }
        }
    }

    /// Exact i32 GEMM on already-quantized activations `q` (`[m, w.k()]`, values in
    /// [-127, 127]): the integer core of [`Kernels::linear_i8`], exposed for tests and tools.
    pub fn gemm_i8_i32(&self, q: &[i8], m: usize, w: &PackedI8<'_>, out: &mut [i32], scratch: &mut Scratch) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Vnni => avx512vnni::gemm_i8_i32(token!(V4Vnni), q, m, w, out, scratch),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 | Backend::Avx512 => avx2::gemm_i8::gemm_i8_i32(token!(V3), q, m, w, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::NeonDotprod => neon_dotprod::gemm_i8_i32(token!(NeonDot), q, m, w, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => neon::gemm_i8_i32(token!(Neon), q, m, w, out, scratch),
            _ => generic::gemm_i8_i32(q, m, w, out),
        }
    }

    /// Linear layer over packed f16 weights (f32 arithmetic).
    pub fn linear_f16(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF16<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => {
                avx512::gemm_f32::linear_f16(token!(V4), a, m, w, ep, out, scratch)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::gemm_f32::linear_f16(token!(V3), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon | Backend::NeonDotprod => neon::linear_f16(token!(Neon), a, m, w, ep, out, scratch),
            _ => {
                let _ = scratch;
                generic::linear_f16(a, m, w, ep, out)
            }
        }
    }

    /// Linear layer over packed f32 weights.
    pub fn linear_f32(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF32<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => {
                avx512::gemm_f32::linear_f32(token!(V4), a, m, w, ep, out, scratch)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::gemm_f32::linear_f32(token!(V3), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon | Backend::NeonDotprod => neon::linear_f32(token!(Neon), a, m, w, ep, out, scratch),
            _ => {
                let _ = scratch;
                generic::linear_f32_packed(a, m, w, ep, out)
            }
        }
    }

    /// GELU (erf form) in place. AVX-512 uses a piecewise polynomial table (error ≤ 2.4e-7), AVX2 a
    /// rational erf fit (≤ 8.2e-7 relative to max(1, |GELU|)).
    pub fn gelu_erf(&self, x: &mut [f32]) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => avx512::math::gelu_slice(token!(V4), x),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::math::gelu_slice(token!(V3), x),
            _ => x.iter_mut().for_each(|v| *v = generic::gelu_erf_f32(*v)),
        }
    }

    /// `x[r][c] ← softmax_c(scale · x[r][c] + bias[c])` per row (see
    /// [`generic::softmax_rows_f32`]): the attention softmax with its additive key mask.
    pub fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => {
                avx512::rows::softmax_rows(token!(V4), x, cols, scale, bias)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::math::softmax_rows(token!(V3), x, cols, scale, bias),
            _ => generic::softmax_rows_f32(x, cols, scale, bias),
        }
    }

    /// LayerNorm over each row in place (see [`generic::layer_norm_f32`]).
    pub fn layer_norm(&self, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => {
                avx512::rows::layer_norm(token!(V4), x, gamma, beta, eps)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::math::layer_norm(token!(V3), x, gamma, beta, eps),
            _ => generic::layer_norm_f32(x, gamma, beta, eps),
        }
    }

    /// Quantizes each row of `a` (`[m, k]`) to i8 with its [`RowQuant`] (see
    /// [`generic::quantize_row_i8`]); the int8 linear layers do this internally.
    pub fn quantize_rows_i8(&self, a: &[f32], m: usize, k: usize, q: &mut [i8], rows: &mut [RowQuant]) {
        generic::quantize_rows_i8(a, m, k, q, rows)
    }

    /// Fused multi-head attention of `s.m` query rows against `s.l` keys (see
    /// [`generic::attention_f32`] and [`AttentionShape`]). Each output row depends only on its
    /// query row, with the same arithmetic whichever rows share the call, so callers may split
    /// query rows across threads and get bit-identical results. AVX-512 runs a fused kernel that
    /// never materialises the `[heads, l, l]` probabilities; other SIMD backends run each head
    /// through their f32 GEMM.
    pub fn attention_f32(
        &self,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        s: &AttentionShape,
        ctx: &mut [f32],
        scratch: &mut Scratch,
    ) {
        s.check(q.len(), k.len(), v.len(), ctx.len());
        match self.backend {
            Backend::Generic => generic::attention_f32(q, k, v, s, ctx),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => {
                avx512::attention::attention_f32(token!(V4), q, k, v, s, ctx, scratch)
            }
            _ => self.attention_by_gemm(q, k, v, s, ctx, scratch),
        }
    }

    /// Multi-head attention with int8 products (see [`generic::attention_i8`]): the same layout,
    /// row independence and thread-split guarantee as [`Kernels::attention_f32`]. AVX-512 VNNI
    /// runs a fused `vpdpbusd` kernel; every other backend the scalar twin, which is slow:
    /// callers choose f32 attention there ([`Kernels::has_fast_attention_i8`]).
    pub fn attention_i8(
        &self,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        s: &AttentionShape,
        ctx: &mut [f32],
        scratch: &mut Scratch,
    ) {
        s.check(q.len(), k.len(), v.len(), ctx.len());
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Vnni => {
                avx512::attention_i8::attention_i8(token!(V4Vnni), q, k, v, s, ctx, scratch)
            }
            _ => generic::attention_i8(q, k, v, s, ctx),
        }
    }

    /// Whether [`Kernels::attention_i8`] has a SIMD kernel on this backend (else it runs the
    /// scalar twin).
    pub fn has_fast_attention_i8(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self.backend == Backend::Avx512Vnni {
            return true;
        }
        false
    }

    /// [`Kernels::attention_f32`] as two f32 GEMMs per head around a row softmax.
    fn attention_by_gemm(
        &self,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        s: &AttentionShape,
        ctx: &mut [f32],
        scratch: &mut Scratch,
    ) {
        let AttentionShape { m, l, heads, d, ld, scale } = *s;
        if m == 0 || l == 0 {
            return generic::attention_f32(q, k, v, s, ctx);
        }
        let (mut qa, mut w) = (std::mem::take(&mut scratch.attn_a), std::mem::take(&mut scratch.attn_w));
        let (mut p, mut o) = (std::mem::take(&mut scratch.attn_s), std::mem::take(&mut scratch.attn_o));
        p.resize(m * l, 0.0);
        o.resize(m * d, 0.0);
        for h in 0..heads {
            qa.clear();
            qa.extend((0..m).flat_map(|i| q[i * ld + h * d..i * ld + h * d + d].iter().map(|x| x * scale)));
            pack_f32_with(&mut w, l, d, |j, t| k[j * ld + h * d + t]);
            let kw = PackedF32::new(&w, l, d).expect("pack_f32_with sizes the panels");
            self.linear_f32(&qa, m, &kw, &Epilogue::none(), &mut p[..m * l], scratch);
            self.softmax_rows(&mut p[..m * l], l, 1.0, None);
            pack_f32_with(&mut w, d, l, |t, j| v[j * ld + h * d + t]);
            let vw = PackedF32::new(&w, d, l).expect("pack_f32_with sizes the panels");
            self.linear_f32(&p[..m * l], m, &vw, &Epilogue::none(), &mut o[..m * d], scratch);
            for (i, row) in o[..m * d].chunks_exact(d.max(1)).enumerate() {
                ctx[i * ld + h * d..i * ld + h * d + d].copy_from_slice(row);
            }
        }
        (scratch.attn_a, scratch.attn_w, scratch.attn_s, scratch.attn_o) = (qa, w, p, o);
    }

    /// Attention scores per head, `scores[h][i][j] = scale · q_h[i] · k_h[j]` (see
    /// [`generic::attention_scores_f32`] for the strided layout). SIMD backends gather each
    /// head and run it through the packed f32 GEMM.
    #[allow(clippy::too_many_arguments)]
    pub fn attention_scores(
        &self,
        q: &[f32],
        k: &[f32],
        l: usize,
        heads: usize,
        d: usize,
        ld: usize,
        scale: f32,
        scores: &mut [f32],
        scratch: &mut Scratch,
    ) {
        if self.backend == Backend::Generic || l == 0 {
            return generic::attention_scores_f32(q, k, l, heads, d, ld, scale, scores);
        }
        generic::check_heads(q.len(), l, heads, d, ld, "q");
        generic::check_heads(k.len(), l, heads, d, ld, "k");
        assert_eq!(scores.len(), heads * l * l, "attention_scores: scores must be [heads, l, l]");
        let (mut qa, mut kw) = (std::mem::take(&mut scratch.attn_a), std::mem::take(&mut scratch.attn_w));
        for (h, s) in scores.chunks_exact_mut(l * l).enumerate() {
            qa.clear();
            qa.extend((0..l).flat_map(|i| q[i * ld + h * d..i * ld + h * d + d].iter().map(|v| v * scale)));
            pack_f32_with(&mut kw, l, d, |j, t| k[j * ld + h * d + t]);
            let w = PackedF32::new(&kw, l, d).expect("pack_f32_with sizes the panels");
            self.linear_f32(&qa, l, &w, &Epilogue::none(), s, scratch);
        }
        (scratch.attn_a, scratch.attn_w) = (qa, kw);
    }

    /// Attention context per head, `ctx[i][h·d + t] = Σ_j p[h][i][j] · v[j][h·d + t]` (see
    /// [`generic::attention_context_f32`]).
    #[allow(clippy::too_many_arguments)]
    pub fn attention_context(
        &self,
        p: &[f32],
        v: &[f32],
        l: usize,
        heads: usize,
        d: usize,
        ld: usize,
        ctx: &mut [f32],
        scratch: &mut Scratch,
    ) {
        if self.backend == Backend::Generic || l == 0 {
            return generic::attention_context_f32(p, v, l, heads, d, ld, ctx);
        }
        generic::check_heads(v.len(), l, heads, d, ld, "v");
        generic::check_heads(ctx.len(), l, heads, d, ld, "ctx");
        assert_eq!(p.len(), heads * l * l, "attention_context: p must be [heads, l, l]");
        let (mut vw, mut o) = (std::mem::take(&mut scratch.attn_w), std::mem::take(&mut scratch.attn_o));
        for (h, ph) in p.chunks_exact(l * l).enumerate() {
            pack_f32_with(&mut vw, d, l, |t, j| v[j * ld + h * d + t]);
            let w = PackedF32::new(&vw, d, l).expect("pack_f32_with sizes the panels");
            o.resize(l * d, 0.0);
            self.linear_f32(ph, l, &w, &Epilogue::none(), &mut o, scratch);
            for (i, row) in o.chunks_exact(d.max(1)).enumerate().take(l) {
                ctx[i * ld + h * d..i * ld + h * d + d].copy_from_slice(row);
            }
        }
        (scratch.attn_w, scratch.attn_o) = (vw, o);
    }
}
