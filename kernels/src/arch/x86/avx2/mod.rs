//! AVX2 + FMA + F16C kernels (Haswell and later, Zen 1–4): f32/f16-weight GEMM on ymm, exact
//! int8 GEMM through i16 `vpmaddwd`, and ymm vector math.

pub(crate) mod gemm_f32;
pub(crate) mod gemm_i8;
pub(crate) mod math;
