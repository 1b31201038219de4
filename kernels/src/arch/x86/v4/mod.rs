//! AVX-512 F/BW/VL kernels (x86-64-v4: Skylake-SP, Ice Lake, Zen 4): f32 and f16-weight GEMM on
//! zmm, the vector math (GELU, exp, epilogue) the VNNI int8 kernels share, softmax, LayerNorm
//! and the fused f32 attention. int8 runs the v3 kernel (exact i16 `vpmaddwd`).

pub(crate) mod attention;
pub(crate) mod gelu;
pub(crate) mod gemm_f32;
pub(crate) mod math;

use super::V4;

/// The slots every v4 backend takes from this module (the VNNI backend too): those of
/// [`super::simd_slots!`] and the fused f32 attention. `$v4` maps `self` to the [`V4`].
macro_rules! v4_slots {
    ($v4:expr) => {
        $crate::arch::x86::simd_slots!(v4, $v4 => $crate::arch::x86::v4::gemm_f32::linear_float);

        attention_slot!(attention_f32, $v4 => $crate::arch::x86::v4::attention::attention_f32);
    };
}
pub(crate) use v4_slots;

super::x86_backend!(V4 {
    int8_slots!(|s: &V4| s.v3());

    int4_slots!(|s: &V4| s.v3());

    v4_slots!(|s: &V4| *s);
});
