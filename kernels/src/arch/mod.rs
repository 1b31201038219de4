//! Architecture-specific kernels: the only place in the crate with `unsafe`.
//!
//! Each backend is a token type proving its CPU features (built only after a run-time check)
//! and safe entry points that take the token, so the `#[target_feature]` code they call is sound.

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;
