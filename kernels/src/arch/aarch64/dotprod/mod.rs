//! NEON dot-product kernels (ARMv8.2+: Cortex-A55/A75/A76/A78/X1, Neoverse N1/V1, Apple M1+):
//! the int8 and int4 GEMMs through `sdot`; the float slots are the NEON ones.

pub(crate) mod gemm_i4;
pub(crate) mod gemm_i8;

use super::NeonDot;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for NeonDot {}

impl KernelSlots for NeonDot {
    fn detect() -> Result<NeonDot, &'static str> {
        NeonDot::try_new()
    }

    int8_slots!(|s: &NeonDot| crate::frame::int8::PlainRows(*s));

    int4_slots!(|s: &NeonDot| *s);

    crate::arch::aarch64::neon::neon_float_slots!(|s: &NeonDot| s.neon);
}
