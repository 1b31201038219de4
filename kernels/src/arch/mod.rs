//! Architecture-specific kernels: the only place in the crate with `unsafe`.
//!
//! Each backend is a token type proving its CPU features (built only after a run-time check)
//! and safe entry points that take the token, so the `#[target_feature]` code they call is sound.

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;

use crate::linear::Epilogue;

/// Where an int8 GEMM tile's i32 accumulators go.
pub(crate) enum Sink<'s, 'e> {
    /// Exact i32 dot products into `[m, n]` (tests and tools).
    I32(&'s mut [i32]),
    /// Dequantized (`acc · w_scale[j] · a_scales[i]`) and finished by the epilogue into `[m, n]`.
    F32 {
        out: &'s mut [f32],
        a_scales: &'s [f32],
        ep: &'s Epilogue<'e>,
    },
}
