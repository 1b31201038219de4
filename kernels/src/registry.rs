//! The kernel registry: one slot per kernel, filled with the `generic` twins; each backend plugs
//! only the slots it speeds up (in the manner of tract-linalg's `frame` + plugs).
//!
//! A backend is a token type: a zero-sized value that exists only once its constructor
//! (`KernelSlots::detect`) has checked every CPU feature it needs (pulp's `x86::V3` / `x86::V4`
//! / `aarch64::Neon`, plus this crate's small tokens for what pulp lacks on stable Rust:
//! F16C, AVX-VNNI, AVX-512 VNNI, NEON dot-product, int8 matrix multiply). [`crate::Kernels`] holds a `&'static dyn KernelSlots`
//! of such a token, so every kernel call is one indirect call into code whose features are
//! proven, and detection runs once per process (each token is detected once and cached).
//!
//! # Adding a backend
//! 1. **One module** under `src/arch/<isa>/<what it requires>/` (for example `x86/v3_vnni`):
//!    its micro-tiles and row kernels, safe `#[target_feature]` functions that take the token.
//!    Blocking, tails, quantize-then-multiply and the epilogue come from [`crate::frame`].
//! 2. **One impl** of [`KernelSlots`] for its token, in that module's `mod.rs`: `detect` (the
//!    feature check) plus only the slots it makes faster; every other slot stays the generic twin.
//! 3. **One line** in the `registry!` list below (variant, `EDGEBERT_KERNELS` name, target arch,
//!    token type): that is its detection, its name, and its place in [`Backend::ALL`].
//! 4. **One line** in the `backend_suite!` stamp of `kernels/tests/backends.rs`; a test there
//!    fails if a registered backend is not stamped.

use crate::attention::AttentionShape;
use crate::linear::{Epilogue, LinearI4, LinearI8, RowQuant, Scratch};
use crate::packed::{PackedF16, PackedF32, PackedI8};
use crate::packed_i4::PackedI4;
use crate::{frame, generic};

mod sealed {
    /// Only this crate's tokens implement [`super::KernelSlots`]: each one is a proof of CPU
    /// features, which outside code could not give.
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// Every kernel of the crate, as methods of a backend. Reached through [`crate::Kernels`]
/// (which dereferences to `dyn KernelSlots`): `kernels.linear_i8(..)`.
///
/// Each default method is the [`crate::generic`] twin; a backend overrides the slots it speeds
/// up. Shapes are checked at this boundary (`assert!`): a wrong slice length panics.
#[allow(clippy::too_many_arguments)]
pub trait KernelSlots: Sealed + Send + Sync + 'static {
    /// The token, or the CPU feature (or architecture) it lacks.
    fn detect() -> Result<Self, &'static str>
    where
        Self: Sized;

    /// int8 linear layer: `out = epilogue(dequant(quant(a) · Wᵀ))`, `a` `[m, w.k()]`,
    /// `out` `[m, w.n()]`. See [`crate::linear`] for the exact semantics.
    fn linear_i8(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedI8<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        generic::linear_i8(a, m, LinearI8 { w: *w, ep: *ep, out }, scratch)
    }

    /// Several int8 linear layers of the same input `a` (`[m, k]`, every weight with that `k`),
    /// for example a layer's query, key and value projections: each output is exactly what
    /// `linear_i8` gives, but backends that quantize into their own layout do it once.
    fn linear_i8_shared(&self, a: &[f32], m: usize, layers: &mut [LinearI8<'_, '_>], scratch: &mut Scratch) {
        for l in layers {
            self.linear_i8(a, m, &l.w, &l.ep, l.out, scratch);
        }
    }

    /// Exact i32 GEMM on already-quantized activations `q` (`[m, w.k()]`, values in
    /// [-127, 127]): the integer core of `linear_i8`, exposed for tests and tools.
    fn gemm_i8_i32(&self, q: &[i8], m: usize, w: &PackedI8<'_>, out: &mut [i32], scratch: &mut Scratch) {
        let _ = scratch;
        generic::gemm_i8_i32(q, m, w, out)
    }

    /// The int8 epilogue (see [`generic::dequantize_i8`]): exact i32 dot products `acc`
    /// (`[rows.len(), w.n()]`, rows quantized as `rows` says) dequantized with `w`'s scales and
    /// column sums, then `ep`, into `out`. What `linear_i8` does after its integer GEMM: a
    /// backend's int8 tiles finish through the same code. Dequantize, bias and residual are
    /// bit-identical on every backend; a vector GELU is held to the GELU tolerance.
    fn dequantize_i8(
        &self,
        acc: &[i32],
        rows: &[RowQuant],
        w: &PackedI8<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
    ) {
        generic::dequantize_i8(acc, rows, w, ep, out)
    }

    /// int4 linear layer (groups of 32 inputs, f16 scales): `out = epilogue(y)` with `y` as
    /// [`generic::linear_i4`] defines it (int8 activation rows, exact i32 per group, group scales
    /// summed by fused multiply-adds in group order). Backends are bit-identical to the twin
    /// before the epilogue.
    fn linear_i4(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedI4<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        generic::linear_i4(a, m, LinearI4 { w: *w, ep: *ep, out }, scratch)
    }

    /// The group-scaled core of `linear_i4` on already-quantized activations `q` (`[m, w.k()]`,
    /// values in [-127, 127]) into `out` (`[m, w.n()]`): see [`generic::gemm_i4_f32`]. For tests
    /// and tools; every backend gives the same bits.
    fn gemm_i4_f32(&self, q: &[i8], m: usize, w: &PackedI4<'_>, out: &mut [f32], scratch: &mut Scratch) {
        let _ = scratch;
        generic::gemm_i4_f32(q, m, w, out)
    }

    /// Linear layer over packed f16 weights (f32 arithmetic).
    fn linear_f16(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF16<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        let _ = scratch;
        generic::linear_f16(a, m, w, ep, out)
    }

    /// Linear layer over packed f32 weights.
    fn linear_f32(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF32<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        let _ = scratch;
        generic::linear_f32_packed(a, m, w, ep, out)
    }

    /// GELU (erf form) in place. AVX-512 uses a piecewise polynomial table (error ≤ 2.4e-7),
    /// AVX2 a rational erf fit (≤ 8.2e-7 relative to max(1, |GELU|)).
    fn gelu_erf(&self, x: &mut [f32]) {
        generic::gelu_erf_slice(x)
    }

    /// `x[r][c] ← softmax_c(scale · x[r][c] + bias[c])` per row (see
    /// [`generic::softmax_rows_f32`]): the attention softmax with its additive key mask.
    fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
        generic::softmax_rows_f32(x, cols, scale, bias)
    }

    /// LayerNorm over each row in place (see [`generic::layer_norm_f32`]).
    fn layer_norm(&self, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        generic::layer_norm_f32(x, gamma, beta, eps)
    }

    /// Quantizes each row of `a` (`[m, k]`) to i8 with its [`RowQuant`] (see
    /// [`generic::quantize_row_i8`]); the int8 linear layers do this internally.
    fn quantize_rows_i8(&self, a: &[f32], m: usize, k: usize, q: &mut [i8], rows: &mut [RowQuant]) {
        generic::quantize_rows_i8(a, m, k, q, rows)
    }

    /// Fused multi-head attention of `s.m` query rows against `s.l` keys (see
    /// [`generic::attention_f32`] and [`AttentionShape`]). Each output row depends only on its
    /// query row, with the same arithmetic whichever rows share the call, so callers may split
    /// query rows across threads and get bit-identical results. AVX-512 runs a fused kernel
    /// that never materialises the `[heads, l, l]` probabilities; other SIMD backends run each
    /// head through their f32 GEMM.
    fn attention_f32(
        &self,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        s: &AttentionShape,
        ctx: &mut [f32],
        scratch: &mut Scratch,
    ) {
        if self.attention_by_gemm() {
            frame::attention::attention_f32(self, [q, k, v], s, ctx, scratch)
        } else {
            generic::attention_f32(q, k, v, s, ctx)
        }
    }

    /// Multi-head attention with int8 products (see [`generic::attention_i8`]): the same
    /// layout, row independence and thread-split guarantee as `attention_f32`. AVX-512 VNNI
    /// runs a fused `vpdpbusd` kernel; every other backend the scalar twin, which is slow:
    /// callers choose f32 attention there (`has_fast_attention_i8`).
    fn attention_i8(
        &self,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        s: &AttentionShape,
        ctx: &mut [f32],
        scratch: &mut Scratch,
    ) {
        let _ = scratch;
        generic::attention_i8(q, k, v, s, ctx)
    }

    /// Whether `attention_i8` has a SIMD kernel on this backend (else it runs the scalar twin).
    fn has_fast_attention_i8(&self) -> bool {
        false
    }

    /// Whether the default attention slots (`attention_f32`, `attention_scores`,
    /// `attention_context`) run as this backend's own f32 GEMM around its row softmax
    /// (`frame::attention`) rather than the scalar twins: SIMD backends say `true`; a fused
    /// kernel still overrides `attention_f32`.
    fn attention_by_gemm(&self) -> bool {
        false
    }

    /// Attention scores per head, `scores[h][i][j] = scale · q_h[i] · k_h[j]` (see
    /// [`generic::attention_scores_f32`] for the strided layout). SIMD backends gather each
    /// head and run it through the packed f32 GEMM.
    fn attention_scores(
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
        let shape = AttentionShape { m: l, l, heads, d, ld, scale };
        if self.attention_by_gemm() {
            frame::attention::attention_scores(self, q, k, &shape, scores, scratch)
        } else {
            generic::attention_scores_f32(q, k, &shape, scores)
        }
    }

    /// Attention context per head, `ctx[i][h·d + t] = Σ_j p[h][i][j] · v[j][h·d + t]` (see
    /// [`generic::attention_context_f32`]).
    fn attention_context(
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
        let shape = AttentionShape { m: l, l, heads, d, ld, scale: 1.0 };
        if self.attention_by_gemm() {
            frame::attention::attention_context(self, p, v, &shape, ctx, scratch)
        } else {
            generic::attention_context_f32(p, v, &shape, ctx)
        }
    }
}

/// Declares the backends: the [`Backend`] enum, its names, [`Backend::ALL`] and the detection
/// of each token (once per process, cached). One line per backend; see the module docs.
macro_rules! registry {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal on $arch:tt => $token:ty; )*) => {
        /// A kernel family. Ordered from the most portable to the most specialised per
        /// architecture: auto-detection prefers the last one the CPU runs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Backend { $( $(#[doc = $doc])* $variant, )* }

        impl Backend {
            /// Every backend, in the order tests and benchmarks report them.
            pub const ALL: [Backend; [$($name),*].len()] = [$(Backend::$variant),*];

            /// The spelling accepted by `EDGEBERT_KERNELS`.
            pub fn name(self) -> &'static str {
                match self { $(Backend::$variant => $name,)* }
            }

            /// The target architecture this backend's code is built for (`"any"` for generic).
            pub fn arch(self) -> &'static str {
                match self { $(Backend::$variant => registry!(@arch $arch),)* }
            }
        }

        /// The kernels of `b`, or the CPU feature (or architecture) this machine lacks.
        pub(crate) fn detect(b: Backend) -> Result<&'static dyn KernelSlots, &'static str> {
            match b { $(Backend::$variant => registry!(@detect $arch, $token),)* }
        }
    };
    (@arch any) => { "any" };
    (@arch $arch:literal) => { $arch };
    (@detect any, $token:ty) => { registry!(@once $token) };
    (@detect $arch:literal, $token:ty) => {{
        #[cfg(target_arch = $arch)]
        fn detect_here() -> Result<&'static dyn KernelSlots, &'static str> {
            registry!(@once $token)
        }
        #[cfg(not(target_arch = $arch))]
        fn detect_here() -> Result<&'static dyn KernelSlots, &'static str> {
            Err($arch)
        }
        detect_here()
    }};
    (@once $token:ty) => {{
        static DETECTED: std::sync::OnceLock<Result<$token, &'static str>> = std::sync::OnceLock::new();
        match DETECTED.get_or_init(<$token as KernelSlots>::detect) {
            Ok(token) => Ok(token as &'static dyn KernelSlots),
            Err(missing) => Err(*missing),
        }
    }};
}

registry! {
    /// Portable scalar code: the reference every other backend is tested against.
    Generic = "generic" on any => generic::Generic;
    /// x86-64 AVX2 + FMA + F16C (x86-64-v3: Haswell, Zen 1 and later). int8 through exact i16
    /// `vpmaddwd`.
    Avx2 = "avx2" on "x86_64" => crate::arch::x86::V3;
    /// AVX-512 F/BW/CD/DQ/VL (x86-64-v4: Skylake-SP and later). f32/f16 on zmm; int8 as
    /// [`Backend::Avx2`].
    Avx512 = "avx512" on "x86_64" => crate::arch::x86::V4;
    /// AVX2 plus AVX-VNNI, no AVX-512 (Alder Lake … Core Ultra, Zen 5 desktop): int8 through the
    /// VEX ymm `vpdpbusd`; everything else as [`Backend::Avx2`]. Preferred over
    /// [`Backend::Avx512`] (int8 is most of an encoder's time), after [`Backend::Avx512Vnni`].
    AvxVnni = "avx-vnni" on "x86_64" => crate::arch::x86::V3Vnni;
    /// AVX-512 plus VNNI (Ice Lake, Zen 4 and later): int8 through `vpdpbusd`.
    Avx512Vnni = "avx512-vnni" on "x86_64" => crate::arch::x86::V4Vnni;
    /// aarch64 Advanced SIMD (every ARMv8-A core): int8 through widening multiply-accumulate.
    Neon = "neon" on "aarch64" => crate::arch::aarch64::Neon;
    /// aarch64 with the dot-product extension (Cortex-A55/A75 and later): int8 through `sdot`.
    NeonDotprod = "neon-dotprod" on "aarch64" => crate::arch::aarch64::NeonDot;
    /// aarch64 with the int8 matrix-multiply extension (ARMv8.6: Cortex-A510/A710/X2 and later,
    /// Apple M2+): int8 through `smmla`.
    NeonI8mm = "neon-i8mm" on "aarch64" => crate::arch::aarch64::NeonI8mm;
    /// 32-bit ARM (armv7 hard float) with NEON: int8 through `vmull.s8` + `vpadal.s16`.
    Armv7Neon = "armv7-neon" on "arm" => crate::arch::arm::ArmNeon;
}
