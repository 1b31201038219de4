//! AVX-512 F/BW/VL kernels (x86-64-v4: Skylake-SP, Ice Lake, Zen 4): f32 and f16-weight GEMM on
//! zmm, the vector math (GELU, exp, epilogue) the VNNI int8 kernels share, softmax, LayerNorm
//! and the fused f32 attention. int8 runs the v3 kernel (exact i16 `vpmaddwd`).

pub(crate) mod attention;
pub(crate) mod gelu;
pub(crate) mod gemm_f32;
pub(crate) mod math;

use super::V4;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for V4 {}

/// The slots every v4 backend takes from this module (the VNNI backend too): f32/f16 GEMM, row
/// kernels, fused f32 attention, attention products by GEMM. `$v4` maps `self` to the [`V4`].
macro_rules! v4_slots {
    ($v4:expr) => {
        float_slots!($v4 => $crate::arch::x86::v4::gemm_f32::linear_float);

        fn gelu_erf(&self, x: &mut [f32]) {
            $crate::arch::x86::v4::math::gelu_erf_slice($v4(self), x)
        }

        fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
            $crate::arch::x86::v4::math::softmax_rows_f32($v4(self), x, cols, scale, bias)
        }

        fn layer_norm(&self, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
            $crate::arch::x86::v4::math::layer_norm_f32($v4(self), x, gamma, beta, eps)
        }

        attention_slot!(attention_f32, $v4 => $crate::arch::x86::v4::attention::attention_f32);

        fn attention_by_gemm(&self) -> bool {
            true
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
