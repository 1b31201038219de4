//! NEON int8 matrix-multiply kernels (FEAT_I8MM, ARMv8.6+: Cortex-A510/A710/X2 and later,
//! Neoverse V1/N2, Apple M2+): the int8 GEMM through `smmla`; the float slots are the NEON ones.

pub(crate) mod gemm_i8;

use super::{Dotprod, I8mm, Neon, NeonDot, NeonI8mm};
use crate::registry::{KernelSlots, Sealed};

impl Sealed for NeonI8mm {}

impl KernelSlots for NeonI8mm {
    fn detect() -> Result<NeonI8mm, &'static str> {
        let neon = Neon::try_new().ok_or("neon")?;
        let dot = NeonDot { neon, dotprod: Dotprod::try_new().ok_or("dotprod")? };
        Ok(NeonI8mm { dot, i8mm: I8mm::try_new().ok_or("i8mm")? })
    }

    int8_slots!(|s: &NeonI8mm| crate::frame::int8::PlainRows(*s));

    crate::arch::aarch64::neon::neon_float_slots!(|s: &NeonI8mm| s.dot.neon);
}
