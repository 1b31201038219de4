//! AVX2 + FMA + F16C kernels (Haswell and later, Zen 1–4): f32/f16-weight GEMM on ymm, exact
//! int8 and int4 GEMM through i16 `vpmaddwd`, and ymm vector math.

pub(crate) mod gemm_f32;
pub(crate) mod gemm_i4;
pub(crate) mod gemm_i8;
pub(crate) mod math;

use super::V3;

/// The slots every v3 backend takes from this module (the AVX-VNNI backend too): see
/// [`super::simd_slots!`]. `$v3` maps `self` to the [`V3`].
macro_rules! v3_slots {
    ($v3:expr) => {
        $crate::arch::x86::simd_slots!(v3, $v3 => $crate::frame::gemm::linear_float);
    };
}
pub(crate) use v3_slots;

super::x86_backend!(V3 {
    int8_slots!(|s: &V3| *s);

    int4_slots!(|s: &V3| *s);

    v3_slots!(|s: &V3| *s);
});
