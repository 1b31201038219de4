//! Portable scalar kernels: the reference every SIMD variant is held to, and the backend used by
//! the float reference path when it acts as the oracle.

mod linear;
mod math;

pub use linear::linear_f32;
pub use math::{erf_f32, gelu_erf_f32, layer_norm_f32, softmax_f32};
