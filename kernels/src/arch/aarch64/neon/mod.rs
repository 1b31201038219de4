//! NEON kernels for every ARMv8-A core (Cortex-A53/A55/A72/A76, Apple, Graviton): int8 and int4
//! GEMM by widening multiply-accumulate, f32 and f16-weight GEMM by `fmla`, and the vector math every
//! aarch64 backend shares (`math`: the int8 and f32 epilogues, GELU, softmax).

pub(crate) mod gemm_f32;
pub(crate) mod gemm_i4;
pub(crate) mod gemm_i8;
pub(crate) mod math;

use super::Neon;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for Neon {}

/// The slots every aarch64 backend shares (the dot-product and i8mm ones too): float GEMM,
/// attention by GEMM, the int8 epilogue, GELU and softmax (LayerNorm stays the generic twin:
/// LLVM vectorises it into fewer instructions than the NEON port took, 4.9 M against 5.8 M per
/// all-MiniLM-L6-v2 inference under qemu). `$neon` maps `self` to the [`Neon`] token.
macro_rules! neon_float_slots {
    ($neon:expr) => {
        float_slots!($neon => $crate::frame::gemm::linear_float);

        fn attention_by_gemm(&self) -> bool {
            true
        }

        fn dequantize_i8(
            &self,
            acc: &[i32],
            rows: &[$crate::RowQuant],
            w: &$crate::PackedI8<'_>,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
        ) {
            $crate::arch::aarch64::neon::math::dequantize_i8($neon(self), acc, rows, w, ep, out)
        }

        fn gelu_erf(&self, x: &mut [f32]) {
            $crate::arch::aarch64::neon::math::gelu_erf_slice($neon(self), x)
        }

        fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
            $crate::arch::aarch64::neon::math::softmax_rows_f32($neon(self), x, cols, scale, bias)
        }
    };
}
pub(crate) use neon_float_slots;

impl KernelSlots for Neon {
    fn detect() -> Result<Neon, &'static str> {
        Neon::try_new().ok_or("neon")
    }

    int8_slots!(|s: &Neon| crate::frame::int8::PlainRows(*s));

    int4_slots!(|s: &Neon| *s);

    neon_float_slots!(|s: &Neon| *s);
}
