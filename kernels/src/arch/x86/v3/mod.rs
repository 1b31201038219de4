//! AVX2 + FMA + F16C kernels (Haswell and later, Zen 1–4): f32/f16-weight GEMM on ymm, exact
//! int8 GEMM through i16 `vpmaddwd`, and ymm vector math.

pub(crate) mod gemm_f32;
pub(crate) mod gemm_i8;
pub(crate) mod math;

use super::V3;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for V3 {}

/// The slots every v3 backend takes from this module (the AVX-VNNI backend too): f32/f16 GEMM,
/// row kernels, attention products by GEMM. `$v3` maps `self` to the [`V3`].
macro_rules! v3_slots {
    ($v3:expr) => {
        float_slots!($v3 => $crate::frame::gemm::linear_float);

        fn gelu_erf(&self, x: &mut [f32]) {
            $crate::arch::x86::v3::math::gelu_erf_slice($v3(self), x)
        }

        fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
            $crate::arch::x86::v3::math::softmax_rows_f32($v3(self), x, cols, scale, bias)
        }

        fn layer_norm(&self, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
            $crate::arch::x86::v3::math::layer_norm_f32($v3(self), x, gamma, beta, eps)
        }

        fn attention_by_gemm(&self) -> bool {
            true
        }
    };
}
pub(crate) use v3_slots;

impl KernelSlots for V3 {
    fn detect() -> Result<V3, &'static str> {
        V3::try_new()
    }

    int8_slots!(|s: &V3| *s);

    v3_slots!(|s: &V3| *s);
}
