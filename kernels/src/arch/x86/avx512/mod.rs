//! AVX-512 F/BW/VL kernels (Skylake-SP, Ice Lake, Zen 4): f32 and f16-weight GEMM on zmm, and
//! the vector math (GELU, exp, epilogue) the VNNI int8 kernel shares, softmax and LayerNorm.

pub(crate) mod attention;
pub(crate) mod attention_i8;
pub(crate) mod gemm_f32;
pub(crate) mod math;
pub(crate) mod rows;
