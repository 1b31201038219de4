//! AVX-512 F/BW/VL kernels (x86-64-v4: Skylake-SP, Ice Lake, Zen 4): f32 and f16-weight GEMM on
//! zmm, the vector math (GELU, exp, epilogue) the VNNI int8 kernels share, softmax, LayerNorm
//! and the fused f32 attention. int8 runs the v3 kernel (exact i16 `vpmaddwd`).

pub(crate) mod attention;
pub(crate) mod gelu;
pub(crate) mod gemm_f32;
pub(crate) mod math;
pub(crate) mod rows;

use super::V4;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for V4 {}

/// The slots every v4 backend takes from this module (the VNNI backend too): f32/f16 GEMM, row
/// kernels, fused f32 attention, attention products by GEMM. `$v4` maps `self` to the [`V4`].
macro_rules! v4_slots {
    ($v4:expr) => {
        fn linear_f16(
            &self,
            a: &[f32],
            m: usize,
            w: &$crate::PackedF16<'_>,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            $crate::arch::x86::v4::gemm_f32::F32Gemm::new($v4(self), a, w, ep, out).run(m, scratch)
        }

        fn linear_f32(
            &self,
            a: &[f32],
            m: usize,
            w: &$crate::PackedF32<'_>,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            $crate::arch::x86::v4::gemm_f32::F32Gemm::new($v4(self), a, w, ep, out).run(m, scratch)
        }

        fn gelu_erf(&self, x: &mut [f32]) {
            $crate::arch::x86::v4::math::gelu_slice($v4(self), x)
        }

        fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
            $crate::arch::x86::v4::rows::softmax_rows($v4(self), x, cols, scale, bias)
        }

        fn layer_norm(&self, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
            $crate::arch::x86::v4::rows::layer_norm($v4(self), x, gamma, beta, eps)
        }

        fn attention_f32(
            &self,
            q: &[f32],
            k: &[f32],
            v: &[f32],
            s: &$crate::AttentionShape,
            ctx: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            s.check(q.len(), k.len(), v.len(), ctx.len());
            $crate::arch::x86::v4::attention::attention_f32($v4(self), q, k, v, s, ctx, scratch)
        }

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
            scratch: &mut $crate::Scratch,
        ) {
            let shape = $crate::AttentionShape { m: l, l, heads, d, ld, scale };
            $crate::frame::attention::attention_scores(self, q, k, &shape, scores, scratch)
        }

        fn attention_context(
            &self,
            p: &[f32],
            v: &[f32],
            l: usize,
            heads: usize,
            d: usize,
            ld: usize,
            ctx: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            let shape = $crate::AttentionShape { m: l, l, heads, d, ld, scale: 1.0 };
            $crate::frame::attention::attention_context(self, p, v, &shape, ctx, scratch)
        }
    };
}
pub(crate) use v4_slots;

impl KernelSlots for V4 {
    fn detect() -> Result<V4, &'static str> {
        V4::try_new()
    }

    int8_slots!(|s: &V4| s.v3());

    v4_slots!(|s: &V4| *s);
}
