//! Portable scalar kernels: the reference every SIMD variant is held to, and the backend used by
//! the float reference path when it acts as the oracle.

mod attention;
mod attention_i8;
mod gemm_f32;
mod gemm_i4;
mod gemm_i8;
mod linear;
mod math;

pub use attention::{attention_context_f32, attention_f32, attention_scores_f32};
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_imports))]
pub(crate) use attention_i8::exponent_factor;
pub use attention_i8::{attention_i8, quantize_sym_i8, ATT_P_MAX, ATT_Q_MAX};
pub(crate) use gemm_f32::epilogue_at;
pub use gemm_f32::{linear_f16, linear_f32_packed};
pub use gemm_i4::{finish_i4, gemm_i4_f32, linear_i4};
#[cfg_attr(not(target_arch = "arm"), allow(unused_imports))]
pub(crate) use gemm_i8::quantize_rows_with;
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "arm")), allow(unused_imports))]
pub(crate) use gemm_i8::row_quant;
pub use gemm_i8::{dequantize_i8, gemm_i8_i32, linear_i8, quantize_row_i8, quantize_rows_i8};
pub use linear::linear_f32;
pub use math::{erf_f32, gelu_erf_f32, gelu_erf_slice, layer_norm_f32, softmax_f32, softmax_rows_f32};

/// The generic backend's token: it needs nothing, so every slot keeps its default (the twins
/// of this module).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Generic;

impl crate::registry::Sealed for Generic {}

impl crate::registry::KernelSlots for Generic {
    fn detect() -> Result<Generic, &'static str> {
        Ok(Generic)
    }
}
