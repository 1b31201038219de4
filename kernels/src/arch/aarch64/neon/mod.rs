//! NEON kernels for every ARMv8-A core (Cortex-A53/A55/A72/A76, Apple, Graviton): int8 GEMM by
//! widening multiply-accumulate, f32 and f16-weight GEMM by `fmla`. Row kernels are the generic
//! twins (LLVM vectorises them for NEON).

pub(crate) mod gemm_f32;
pub(crate) mod gemm_i8;

use super::Neon;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for Neon {}

/// The float slots every NEON backend shares (the dot-product one too); `$neon` maps `self`
/// to the [`Neon`] token.
macro_rules! neon_float_slots {
    ($neon:expr) => {
        float_slots!($neon => $crate::frame::gemm::linear_float);

        fn attention_by_gemm(&self) -> bool {
            true
        }
    };
}
pub(crate) use neon_float_slots;

impl KernelSlots for Neon {
    fn detect() -> Result<Neon, &'static str> {
        Neon::try_new().ok_or("neon")
    }

    int8_slots!(|s: &Neon| crate::frame::int8::PlainRows(*s));

    neon_float_slots!(|s: &Neon| *s);
}
