//! NEON int8 matrix-multiply kernels (FEAT_I8MM, ARMv8.6+: Cortex-A510/A710/X2 and later,
//! Neoverse V1/N2, Apple M2+): the int8 GEMM through `smmla`; int4 and the float slots are the
//! dot-product resp. NEON ones.

pub(crate) mod gemm_i8;

use super::NeonI8mm;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for NeonI8mm {}

impl KernelSlots for NeonI8mm {
    fn detect() -> Result<NeonI8mm, &'static str> {
        NeonI8mm::try_new()
    }

    int8_slots!(|s: &NeonI8mm| crate::frame::int8::PlainRows(*s));

    // int4: the dot-product backend's `sdot` tile (its token is part of this one).
    int4_slots!(|s: &NeonI8mm| s.dot);

    crate::arch::aarch64::neon::neon_float_slots!(|s: &NeonI8mm| s.dot.neon);
}
