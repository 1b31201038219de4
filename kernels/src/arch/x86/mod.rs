//! x86-64 backends, in folders named for what they require: `v3` (x86-64-v3: AVX2, FMA, plus
//! F16C), `v3_vnni` (v3 plus AVX-VNNI, the VEX ymm `vpdpbusd`), `v4` (x86-64-v4: AVX-512
//! F/BW/CD/DQ/VL, plus F16C), `v4_vnni` (v4 plus AVX-512 VNNI).
//!
//! Tokens: pulp's `x86::V3` / `x86::V4` prove the x86-64 levels; F16C, AVX-VNNI and AVX-512
//! VNNI, which pulp has no stable token for, get their own (`F16c`, `AvxVnni`, `Avx512Vnni`). A
//! backend token bundles them, so holding one proves every feature its kernels enable.

/// `impl KernelSlots for $backend` (and its `Sealed`) for an x86 backend token: `detect` is the
/// token's `try_new`, the rest of the impl is `$slots`.
macro_rules! x86_backend {
    ($backend:ident { $($slots:tt)* }) => {
        impl $crate::registry::Sealed for $backend {}

        impl $crate::registry::KernelSlots for $backend {
            fn detect() -> Result<$backend, &'static str> {
                $backend::try_new()
            }

            $($slots)*
        }
    };
}
pub(crate) use x86_backend;

/// The slots an x86 vector module `$isa` (`v3` or `v4`) gives every backend built on it:
/// f32/f16 GEMM through `$linear`, its GELU, softmax and LayerNorm, attention products by GEMM.
/// `$token` maps `self` to the module's token.
macro_rules! simd_slots {
    ($isa:ident, $token:expr => $linear:path) => {
        float_slots!($token => $linear);

        fn gelu_erf(&self, x: &mut [f32]) {
            $crate::arch::x86::$isa::math::gelu_erf_slice($token(self), x)
        }

        fn softmax_rows(&self, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
            $crate::arch::x86::$isa::math::softmax_rows_f32($token(self), x, cols, scale, bias)
        }

        fn layer_norm(&self, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
            $crate::arch::x86::$isa::math::layer_norm_f32($token(self), x, gamma, beta, eps)
        }

        fn attention_by_gemm(&self) -> bool {
            true
        }
    };
}
pub(crate) use simd_slots;

pub(crate) mod peak;
pub(crate) mod v3;
pub(crate) mod v3_vnni;
pub(crate) mod v4;
pub(crate) mod v4_vnni;

use super::{backend_token, feature_token};
use crate::linear::{grow, Scratch};
use core::arch::x86_64::*;
use half::f16;

/// A span type: the columns `j0..min(j0 + LANES, n)` of `n`-wide rows with their lane mask,
/// built once and used for every operand of those columns (a mask per load cost the v3
/// LayerNorm 30% more instructions). `load |ptr, mask| ...` / `store |ptr, mask, v| ...` are
/// the masked intrinsics, which touch only the enabled lanes.
macro_rules! span_type {
    ($(#[$m:meta])* $name:ident: $lanes:literal lanes of $vec:ty, mask $mask:ty = $make:path,
     $feat:literal, load |$lp:ident, $lm:ident| $load:expr,
     store |$sp:ident, $sm:ident, $sv:ident| $store:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name {
            j0: usize,
            n: usize,
            mask: $mask,
        }

        impl $name {
            /// The columns `j0..min(j0 + LANES, n)`.
            #[inline]
            #[target_feature(enable = $feat)]
            pub(crate) fn new(j0: usize, n: usize) -> $name {
                $name { j0, n, mask: $make(j0, n) }
            }

            /// The row width `n`.
            #[inline]
            #[allow(dead_code)] // not every span type's users need each accessor
            pub(crate) fn n(self) -> usize {
                self.n
            }

            /// The lane mask (set lanes inside the span).
            #[inline]
            #[allow(dead_code)] // not every span type's users need each accessor
            pub(crate) fn mask(self) -> $mask {
                self.mask
            }

            /// Lanes `j0..` of `s` (a row of at least `n` values); lanes past `n` read as 0.
            #[inline]
            #[target_feature(enable = $feat)]
            pub(crate) fn load(self, s: &[f32]) -> $vec {
                let s = &s[..self.n];
                let ($lp, $lm) = (s.as_ptr().wrapping_add(self.j0), self.mask);
                // SAFETY: the mask enables only lanes `j0 + c < n = s.len()`; masked-off lanes
                // are not read.
                unsafe { $load }
            }

            /// Stores the lanes of `v` inside the span at `s[j0..]` (`s` a row of at least `n`).
            #[inline]
            #[target_feature(enable = $feat)]
            pub(crate) fn store(self, s: &mut [f32], v: $vec) {
                let s = &mut s[..self.n];
                let ($sp, $sm, $sv) = (s.as_mut_ptr().wrapping_add(self.j0), self.mask, v);
                // SAFETY: the mask enables only lanes `j0 + c < n = s.len()`; masked-off lanes
                // are not written.
                unsafe { $store }
            }
        }
    };
}
pub(crate) use span_type;

feature_token!(
    /// F16C (`vcvtph2ps`): f16 weights widened to f32.
    F16c = is_x86_feature_detected!("f16c")
);
feature_token!(
    /// AVX-VNNI (VEX-encoded `vpdpbusd` on ymm: Alder Lake and later, Zen 5).
    AvxVnni = is_x86_feature_detected!("avxvnni")
);
feature_token!(
    /// AVX-512 VNNI (`vpdpbusd`).
    Avx512Vnni = is_x86_feature_detected!("avx512vnni")
);

backend_token!(
    /// The AVX2 backend: x86-64-v3 plus F16C.
    V3 {
        simd: pulp::x86::V3 = pulp::x86::V3::try_new().ok_or("x86-64-v3 (avx2 fma bmi1 bmi2 lzcnt)"),
        f16c: F16c = F16c::try_new().ok_or("f16c"),
    }
);
backend_token!(
    /// The AVX-VNNI backend: [`V3`] plus AVX-VNNI.
    V3Vnni { v3: V3 = V3::try_new(), vnni: AvxVnni = AvxVnni::try_new().ok_or("avxvnni") }
);
backend_token!(
    /// The AVX-512 backend: x86-64-v4 plus F16C.
    V4 {
        simd: pulp::x86::V4 =
            pulp::x86::V4::try_new().ok_or("x86-64-v4 (avx512f avx512bw avx512cd avx512dq avx512vl)"),
        f16c: F16c = F16c::try_new().ok_or("f16c"),
    }
);
backend_token!(
    /// The AVX-512 VNNI backend: [`V4`] plus VNNI.
    V4Vnni { v4: V4 = V4::try_new(), vnni: Avx512Vnni = Avx512Vnni::try_new().ok_or("avx512vnni") }
);

impl V4 {
    /// Every v4 CPU is a v3 CPU.
    pub(crate) fn v3(self) -> V3 {
        V3 { simd: *self.simd, f16c: self.f16c }
    }
}

/// Packed weights the f32 GEMMs read: f32 as is, f16 widened by F16C `vcvtph2ps`.
pub(crate) trait Widen: Copy {
    /// 8 consecutive weights as f32 (ymm).
    fn widen8(t: V3, w: &[Self; 8]) -> __m256;
    /// 16 consecutive weights as f32 (zmm).
    fn widen16(t: V4, w: &[Self; 16]) -> __m512;
}

impl Widen for f32 {
    #[inline(always)]
    fn widen8(_: V3, w: &[f32; 8]) -> __m256 {
        // SAFETY: the token proves AVX; `w` holds the 32 bytes read.
        unsafe { _mm256_loadu_ps(w.as_ptr()) }
    }
    #[inline(always)]
    fn widen16(_: V4, w: &[f32; 16]) -> __m512 {
        // SAFETY: the token proves AVX-512F; `w` holds the 64 bytes read.
        unsafe { _mm512_loadu_ps(w.as_ptr()) }
    }
}

impl Widen for f16 {
    #[inline(always)]
    fn widen8(_: V3, w: &[f16; 8]) -> __m256 {
        // SAFETY: the token proves AVX and F16C; `w` holds the 16 bytes read.
        unsafe { _mm256_cvtph_ps(_mm_loadu_si128(w.as_ptr() as *const __m128i)) }
    }
    #[inline(always)]
    fn widen16(_: V4, w: &[f16; 16]) -> __m512 {
        // SAFETY: the token proves AVX-512F; `w` holds the 32 bytes read.
        unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(w.as_ptr() as *const __m256i)) }
    }
}

/// Repacks `[m, k]` row-major activations into slabs of `mr` rows, `slab[kk][r]` (rows past
/// `m` are zero), so a micro-kernel broadcasts from one sequential stream. Returns the slabs:
/// `ceil(m / mr) · mr · k` values, slab `s` starting at `s · mr · k`.
pub(crate) fn pack_row_slabs<'s>(
    a: &[f32],
    m: usize,
    k: usize,
    mr: usize,
    scratch: &'s mut Scratch,
) -> &'s [f32] {
    let slabs = m.div_ceil(mr);
    let dst = grow(&mut scratch.f32s, slabs * mr * k);
    for s in 0..slabs {
        let slab = &mut dst[s * mr * k..(s + 1) * mr * k];
        for r in 0..mr {
            let i = s * mr + r;
            if i < m {
                for (kk, &v) in a[i * k..(i + 1) * k].iter().enumerate() {
                    slab[kk * mr + r] = v;
                }
            } else {
                (0..k).for_each(|kk| slab[kk * mr + r] = 0.0);
            }
        }
    }
    dst
}
