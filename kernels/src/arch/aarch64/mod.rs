//! aarch64 backends, in folders named for what they require: `neon` (every ARMv8-A core) and
//! `dotprod` (NEON plus the ARMv8.2 dot-product extension, `sdot`).
//!
//! Tokens: pulp's `aarch64::Neon`; the dot-product extension, which pulp has no stable token
//! for, gets its own (`Dotprod`). `sdot` is issued through `asm!` inside
//! `#[target_feature(enable = "dotprod")]` functions because its intrinsic is not stable.

pub(crate) mod dotprod;
pub(crate) mod neon;

use super::feature_token;

pub(crate) use pulp::aarch64::Neon;

feature_token!(
    /// The ARMv8.2 dot-product extension (`sdot`).
    Dotprod = is_aarch64_feature_detected!("dotprod")
);

/// The NEON dot-product backend: NEON plus `sdot`. The fields are proofs, held rather than read.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)]
pub(crate) struct NeonDot {
    pub neon: Neon,
    pub dotprod: Dotprod,
}
