//! int4 GEMM by widening multiply-accumulate, for every ARMv8-A core without the dot-product
//! extension (Cortex-A53/A57/A72/A73, Raspberry Pi 3 and 4); and the loop nest it shares with
//! the dot-product backend's int4 tile (`dotprod::gemm_i4`).
//!
//! The operands are those of `dotprod::gemm_i4`: a 64-byte block of packed nibbles is four q
//! registers; `and 0x0F` gives the 4-input quad `2t` and `ushr 4` the quad `2t + 1`, each in the
//! int8 panel order (4 columns × 4 inputs per register). The nibbles are offset binary
//! (`q_w + 8`, 0..15), so each product `q_a · nibble` is at most 128 · 15 = 1920 in magnitude
//! and eight of them (the 32 inputs of a group, per lane: 4 blocks × low and high nibble) sum to
//! at most 15,360: one group accumulates exactly in i16 lanes by `smull`/`smlal` (`smlal2` for
//! the high 8 bytes), then `saddlp` widens adjacent pairs to i32 and `addp` folds the column's
//! two pairs, as `neon::gemm_i8` does with `sadalp`. The group offset `-8 · Σ_group q_a` is
//! added then, and the exact i32 sum goes into f32 by one `fmla` with the panel's 16 f16 scales
//! (widened by `fcvtl`) in group order: bit-identical to `generic::gemm_i4_f32`. The rows' scale
//! and offset and the epilogue are `generic::finish_i4` (scalar; bit-identical, GELU included).
//! Tile: 2 rows × 16 columns: 16 i16 group accumulators, 8 f32 sums, 8 unpacked weight
//! registers.
//! Tolerance: bit-identical to the twin.

use crate::arch::aarch64::Neon;
use crate::packed::PANEL;
use crate::packed_i4::{PackedI4, GROUP};
use core::arch::aarch64::*;

/// `impl frame::int4::Int4Gemm for $token`: int8 activations as they are (the generic row
/// quantization), every `$mr`-row × 16 tile through the calling module's
/// `fn tile<const R: usize>(act, sums, i0, p, w, out)` (a `#[target_feature]` function whose
/// features the token proves), rows `$r` listed, then `generic::finish_i4` for a linear layer.
/// The plain NEON and dot-product int4 GEMMs differ only in their tile.
macro_rules! neon_int4_gemm {
    ($token:ty, $mr:literal: $($r:literal)*) => {
        impl crate::frame::int4::Int4Gemm for $token {
            type Act = i8;

            fn buffers(
                s: &mut crate::linear::Scratch,
            ) -> (&mut Vec<i8>, &mut Vec<crate::linear::RowQuant>, &mut Vec<i32>) {
                (&mut s.i8s, &mut s.rows, &mut s.i32s)
            }

            fn quantize_row(self, x: &[f32], row: &mut [i8]) -> crate::linear::RowQuant {
                crate::generic::quantize_row_i8(x, &mut row[..x.len()])
            }

            fn from_i8(v: i8) -> i8 {
                v
            }

            fn to_i8(a: i8) -> i8 {
                a
            }

            /// Every tile (panels outside, row tiles inside) into the group-scaled sums; a
            /// linear layer then finishes with `generic::finish_i4` (scalar, bit-identical).
            fn run(
                self,
                act: &[i8],
                sums: &[i32],
                m: usize,
                w: &crate::packed_i4::PackedI4<'_>,
                fin: crate::frame::int4::Finish<'_, '_>,
            ) {
                use crate::frame::int4::Finish;
                let (out, finish) = match fin {
                    Finish::Raw(out) => (out, None),
                    Finish::Linear { out, rows, ep } => (out, Some((rows, ep))),
                };
                for p in 0..crate::packed::panels(w.n()) {
                    for i0 in (0..m).step_by($mr) {
                        // SAFETY: a value of the token exists and its constructor checked the
                        // features `tile` enables.
                        unsafe { tiles!(rows (m - i0).min($mr), tile (act, sums, i0, p, w, out); $($r)*) }
                    }
                }
                if let Some((rows, ep)) = finish {
                    crate::generic::finish_i4(out, rows, w, ep);
                }
            }
        }
    };
}
pub(crate) use neon_int4_gemm;

neon_int4_gemm!(Neon, 2: 1 2);

/// `fcvtl`: four f16 (as raw bits) widened to f32, exactly.
#[inline]
#[target_feature(enable = "neon")]
fn widen_f16(bits: uint16x4_t) -> float32x4_t {
    let out: float32x4_t;
    // SAFETY: the instruction only reads and writes the declared vector registers.
    unsafe {
        core::arch::asm!("fcvtl {o:v}.4s, {i:v}.4h", o = lateout(vreg) out, i = in(vreg) bits,
            options(pure, nomem, nostack));
    }
    out
}

/// One R × 16 tile (panel `p`) over the whole depth: `smull`/`smlal` into 8 i16 accumulators
/// per row and group, folded to the 4 column registers by `saddlp` + `addp`.
#[target_feature(enable = "neon")]
fn tile<const R: usize>(act: &[i8], sums: &[i32], i0: usize, p: usize, w: &PackedI4<'_>, out: &mut [f32]) {
    let mac =
        |acc: &mut [int16x8_t; 8], lo: &[int8x16_t; 4], hi: &[int8x16_t; 4], al: int8x16_t, ah: int8x16_t| {
            let (al8, ah8) = (vget_low_s8(al), vget_low_s8(ah));
            for c in 0..4 {
                acc[2 * c] = vmlal_s8(acc[2 * c], vget_low_s8(lo[c]), al8);
                acc[2 * c + 1] = vmlal_high_s8(acc[2 * c + 1], lo[c], al);
                acc[2 * c] = vmlal_s8(acc[2 * c], vget_low_s8(hi[c]), ah8);
                acc[2 * c + 1] = vmlal_high_s8(acc[2 * c + 1], hi[c], ah);
            }
        };
    let fold = |acc: &[int16x8_t; 8], offset: i32| {
        core::array::from_fn(|c| {
            let pairs = vpaddq_s32(vpaddlq_s16(acc[2 * c]), vpaddlq_s16(acc[2 * c + 1]));
            vaddq_s32(pairs, vdupq_n_s32(offset))
        })
    };
    i4_tile::<R, _>(act, sums, i0, p, w, out, |_| [vdupq_n_s16(0); 8], mac, fold)
}

/// The loop nest of an aarch64 int4 tile, shared with the dot-product backend: per group, the
/// row's accumulators start as `init(offset)` (`offset = -8 · Σ_group q_a`); per 64-byte block
/// `t`, the four weight registers unpacked into the quads `lo` (`2t`) and `hi` (`2t + 1`) and
/// the row's two 4-byte activation words replicated (`al`, `ah`) go through `mac`; `fold(acc,
/// offset)` gives the 4 registers of 4 exact column sums of the group, added into f32 by one
/// `fmla` with the group's scales. Called from each backend's `#[target_feature]` tile, whose
/// features include NEON, so it inlines there (the closures inherit the tile's features).
#[inline]
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
pub(crate) fn i4_tile<const R: usize, A: Copy>(
    act: &[i8],
    sums: &[i32],
    i0: usize,
    p: usize,
    w: &PackedI4<'_>,
    out: &mut [f32],
    init: impl Fn(i32) -> A,
    mac: impl Fn(&mut A, &[int8x16_t; 4], &[int8x16_t; 4], int8x16_t, int8x16_t),
    fold: impl Fn(&A, i32) -> [int32x4_t; 4],
) {
    let (n, g) = (w.n(), w.groups());
    let kp = GROUP * g;
    assert!(act.len() >= (i0 + R) * kp && sums.len() >= (i0 + R) * g && p * PANEL < n);
    assert!(out.len() >= (i0 + R) * n);
    let a = act[i0 * kp..].as_ptr();
    let wd = w.data()[p * 256 * g..].as_ptr();
    let sc = w.scales()[p * PANEL * g..].as_ptr() as *const u16;
    let nib = vdupq_n_u8(0x0F);
    let mut facc = [[vdupq_n_f32(0.0); 4]; R];
    for gi in 0..g {
        let offsets: [i32; R] = core::array::from_fn(|r| sums[(i0 + r) * g + gi]);
        let mut acc: [A; R] = core::array::from_fn(|r| init(offsets[r]));
        for t in 0..4 {
            let (mut lo, mut hi) = ([vdupq_n_s8(0); 4], [vdupq_n_s8(0); 4]);
            for c in 0..4 {
                // SAFETY: panel p holds g groups of 256 bytes (PackedI4's lengths; p < panels(n)).
                let v = unsafe { vld1q_u8(wd.add(gi * 256 + t * 64 + c * 16)) };
                lo[c] = vreinterpretq_s8_u8(vandq_u8(v, nib));
                hi[c] = vreinterpretq_s8_u8(vshrq_n_u8::<4>(v));
            }
            for (r, acc_r) in acc.iter_mut().enumerate() {
                // SAFETY: rows i0..i0+R hold kp bytes each (asserted), read below 32 · g = kp.
                let (wl, wh) = unsafe {
                    let ap = a.add(r * kp + gi * GROUP + t * 8);
                    ((ap as *const u32).read_unaligned(), (ap.add(4) as *const u32).read_unaligned())
                };
                let (al, ah) = (vreinterpretq_s8_u32(vdupq_n_u32(wl)), vreinterpretq_s8_u32(vdupq_n_u32(wh)));
                mac(acc_r, &lo, &hi, al, ah);
            }
        }
        let sums_i32: [[int32x4_t; 4]; R] = core::array::from_fn(|r| fold(&acc[r], offsets[r]));
        for c in 0..4 {
            // SAFETY: panel p holds 16 · g scales; group gi's 16 start at gi · 16.
            let scale = widen_f16(unsafe { vld1_u16(sc.add(gi * PANEL + c * 4)) });
            for r in 0..R {
                facc[r][c] = vfmaq_f32(facc[r][c], vcvtq_f32_s32(sums_i32[r][c]), scale);
            }
        }
    }
    let valid = (n - p * PANEL).min(PANEL);
    for (r, facc_r) in facc.iter().enumerate() {
        let mut vals = [0f32; PANEL];
        for (v, o) in facc_r.iter().zip(vals.chunks_exact_mut(4)) {
            // SAFETY: `o` holds the 4 f32 written.
            unsafe { vst1q_f32(o.as_mut_ptr(), *v) };
        }
        let at = (i0 + r) * n + p * PANEL;
        out[at..at + valid].copy_from_slice(&vals[..valid]);
    }
}
