//! aarch64 backends, in folders named for what they require: `neon` (every ARMv8-A core),
//! `dotprod` (NEON plus the ARMv8.2 dot-product extension, `sdot`) and `i8mm` (that plus the
//! ARMv8.6 int8 matrix multiply, `smmla`).
//!
//! Tokens: pulp's `aarch64::Neon`; the dot-product and int8 matrix-multiply extensions, which
//! pulp has no stable tokens for, get their own (`Dotprod`, `I8mm`). `sdot` and `smmla` are
//! issued through `asm!` inside `#[target_feature(enable = "dotprod")]` resp. `"i8mm"`
//! functions because their intrinsics are not stable.

pub(crate) mod dotprod;
pub(crate) mod i8mm;
pub(crate) mod neon;

use super::{backend_token, feature_token};

/// `fn $name(acc: int32x4_t, x: int8x16_t, y: int8x16_t) -> int32x4_t`: `$insn acc.4s, x.16b,
/// y.16b` through `asm!` (the instruction's intrinsic is unstable) inside a
/// `#[target_feature(enable = $features)]` function, so the assembler accepts it.
macro_rules! accumulate_asm {
    ($(#[$doc:meta])* $name:ident = $insn:literal, $features:literal) => {
        $(#[$doc])*
        #[inline]
        #[target_feature(enable = $features)]
        fn $name(acc: int32x4_t, x: int8x16_t, y: int8x16_t) -> int32x4_t {
            let mut acc = acc;
            // SAFETY: the instruction only reads and writes the declared vector registers; its
            // feature is enabled on this function.
            unsafe {
                core::arch::asm!(
                    concat!($insn, " {acc:v}.4s, {x:v}.16b, {y:v}.16b"),
                    acc = inout(vreg) acc, x = in(vreg) x, y = in(vreg) y,
                    options(pure, nomem, nostack),
                );
            }
            acc
        }
    };
}
pub(crate) use accumulate_asm;

/// `impl PlainTiles for $token`: 4 × 16 tiles through the calling module's
/// `fn tile<const R: usize>(q, i0, p, w, sink)` (a `#[target_feature(enable = $features)]`
/// function), and `fn $name`, the accumulating instruction `$insn` that tile is built on (see
/// `accumulate_asm!`). The dot-product and int8 matrix-multiply backends differ only in
/// their tile.
macro_rules! asm_plain_tiles {
    ($token:ty: $(#[$doc:meta])* $name:ident = $insn:literal, $features:literal) => {
        impl crate::frame::int8::PlainTiles for $token {
            const MR: usize = 4;

            #[inline(always)]
            fn tile(
                self,
                rows: usize,
                q: &[i8],
                i0: usize,
                p: usize,
                w: &crate::packed::PackedI8<'_>,
                sink: &mut crate::frame::int8::Sink<'_, '_>,
            ) {
                // SAFETY: a value of the token exists (this is its GEMM) and its constructor
                // checked the features `tile` enables.
                unsafe { tiles!(rows rows, tile (q, i0, p, w, sink); 1 2 3 4) }
            }
        }

        crate::arch::aarch64::accumulate_asm!($(#[$doc])* $name = $insn, $features);
    };
}
pub(crate) use asm_plain_tiles;

pub(crate) use pulp::aarch64::Neon;

feature_token!(
    /// The ARMv8.2 dot-product extension (`sdot`).
    Dotprod = is_aarch64_feature_detected!("dotprod")
);

feature_token!(
    /// The ARMv8.6 int8 matrix-multiply extension (`smmla`).
    I8mm = is_aarch64_feature_detected!("i8mm")
);

backend_token!(
    /// The NEON dot-product backend: NEON plus `sdot`.
    NeonDot { neon: Neon = Neon::try_new().ok_or("neon"), dotprod: Dotprod = Dotprod::try_new().ok_or("dotprod") }
);
backend_token!(
    /// The NEON int8 matrix-multiply backend: the dot-product backend plus `smmla`.
    NeonI8mm { dot: NeonDot = NeonDot::try_new(), i8mm: I8mm = I8mm::try_new().ok_or("i8mm") }
);
