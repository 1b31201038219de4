//! x86-64 backends: AVX2 (+FMA, F16C), AVX-512 F/BW/VL, AVX-512 VNNI.
//!
//! Tokens are zero-sized proofs that [`crate::Backend::check`] passed for a backend; the safe
//! entry points of each module take one, which is what makes their `#[target_feature]` calls
//! sound.

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod avx512vnni;
pub(crate) mod peak;

use crate::backend::Backend;

macro_rules! token {
    ($(#[$doc:meta])* $name:ident, $backend:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name(());

        impl $name {
            /// `Some` only when the CPU has every feature of the backend.
            pub(crate) fn new() -> Option<Self> {
                $backend.check().ok().map(|()| $name(()))
            }
        }
    };
}

token!(
    /// AVX2 + FMA + F16C ("x86-64-v3").
    V3,
    Backend::Avx2
);
token!(
    /// V3 + AVX-512 F/BW/VL ("x86-64-v4").
    V4,
    Backend::Avx512
);
token!(
    /// V4 + AVX-512 VNNI.
    V4Vnni,
    Backend::Avx512Vnni
);
