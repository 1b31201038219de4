//! NEON kernels for every ARMv8-A core (Cortex-A53/A55/A72/A76, Apple, Graviton): int8 GEMM by
//! widening multiply-accumulate, f32 and f16-weight GEMM by `fmla`. Row kernels are the generic
//! twins (LLVM vectorises them for NEON).

pub(crate) mod gemm;

use super::Neon;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for Neon {}

/// The float slots every NEON backend shares (the dot-product one too); `$neon` maps `self`
/// to the [`Neon`] token.
macro_rules! neon_float_slots {
    ($neon:expr) => {
        fn linear_f16(
            &self,
            a: &[f32],
            m: usize,
            w: &$crate::PackedF16<'_>,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
            _: &mut $crate::Scratch,
        ) {
            $crate::arch::aarch64::neon::gemm::F32Gemm { t: $neon(self), a, w, ep, out }.run(m)
        }

        fn linear_f32(
            &self,
            a: &[f32],
            m: usize,
            w: &$crate::PackedF32<'_>,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
            _: &mut $crate::Scratch,
        ) {
            $crate::arch::aarch64::neon::gemm::F32Gemm { t: $neon(self), a, w, ep, out }.run(m)
        }

        gemm_attention_slots!();
    };
}
pub(crate) use neon_float_slots;

impl KernelSlots for Neon {
    fn detect() -> Result<Neon, &'static str> {
        Neon::try_new().ok_or("neon")
    }

    int8_slots!(|s: &Neon| *s);

    neon_float_slots!(|s: &Neon| *s);
}
