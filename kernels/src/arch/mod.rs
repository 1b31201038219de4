//! Architecture-specific kernels: the only place in the crate with `unsafe`.
//!
//! Each backend is a token type proving its CPU features (built only by its `detect`, after a
//! run-time check) that implements [`crate::KernelSlots`] for the slots it speeds up. Kernels
//! are safe `#[target_feature]` functions; `unsafe` appears only around raw-pointer loads and
//! stores, `asm!`, and the calls into `#[target_feature]` code that a token justifies.

#[cfg(target_arch = "aarch64")]
pub(crate) mod aarch64;
#[cfg(target_arch = "arm")]
pub(crate) mod arm;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;

/// Coefficients of erf(x) ≈ x · P(x²) / Q(x²) on [-4, 4] (the single-precision fit used by
/// Eigen and XLA); outside, erf is ±1 to f32 precision. Shared by the AVX2, NEON and armv7 NEON
/// vector erf.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm"))]
pub(crate) const ERF_P: [f32; 7] = [
    -2.726_142_3e-10,
    2.770_681_4e-8,
    -2.101_024e-6,
    -5.692_506_4e-5,
    -7.349_906_3e-4,
    -2.954_6e-3,
    -1.609_603_3e-2,
];
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm"))]
pub(crate) const ERF_Q: [f32; 5] =
    [-1.456_607_2e-5, -2.133_740_5e-4, -1.682_827e-3, -7.373_329_3e-3, -1.426_474e-2];

/// A zero-sized proof that the CPU has one feature pulp has no stable token for; made only by
/// `try_new`, which asks the CPU once (std caches the answer).
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_macros))]
macro_rules! feature_token {
    ($(#[$doc:meta])* $name:ident = $detected:ident!($feature:tt)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name(());

        impl $name {
            /// `Some` only when the CPU has the feature.
            pub(crate) fn try_new() -> Option<Self> {
                std::arch::$detected!($feature).then_some($name(()))
            }
        }
    };
}
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_imports))]
pub(crate) use feature_token;

/// A backend's token: the proofs its kernels need (pulp's tokens, [`feature_token!`]s, or another
/// backend's token), held rather than read. Made only by `try_new`, which gets each proof in
/// field order and returns the first one this CPU lacks.
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_macros))]
macro_rules! backend_token {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty = $make:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        #[allow(dead_code)]
        pub(crate) struct $name {
            $(pub $field: $ty,)+
        }

        impl $name {
            /// The token, or the first feature (in field order) this CPU lacks.
            pub(crate) fn try_new() -> Result<$name, &'static str> {
                Ok($name { $($field: $make?,)+ })
            }
        }
    };
}
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_imports))]
pub(crate) use backend_token;
