//! NEON kernels for 32-bit ARM (armv7 hard float with Advanced SIMD): the int8 GEMM by
//! widening multiply-accumulate (`vmull.s8` + `vpadal.s16`). The float slots stay the generic
//! twins.

pub(crate) mod gemm_i8;

use super::ArmNeon;
use crate::registry::{KernelSlots, Sealed};

impl Sealed for ArmNeon {}

impl KernelSlots for ArmNeon {
    fn detect() -> Result<ArmNeon, &'static str> {
        ArmNeon::try_new().ok_or("neon")
    }

    int8_slots!(|s: &ArmNeon| crate::frame::int8::PlainRows(*s));
}
