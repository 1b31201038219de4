//! int4 GEMM on AVX-VNNI (`PackedI4`: nibbles `q + 8`, groups of 32 inputs, f16 scales) through
//! the VEX ymm `vpdpbusd` of the int8 kernel ([`super::gemm_i8`]).
//!
//! Target cores: Alder Lake / Raptor Lake / Meteor Lake, Zen 5 desktop (as the int8 GEMM).
//! Operands: as the AVX-512 VNNI int4 kernel, the *weights* are `vpdpbusd`'s unsigned operand: a
//! 32-byte load of packed nibbles (8 columns × 8 inputs), `and 0x0F` and `srl 4 + and 0x0F`, gives
//! two registers of offset-binary weights (`q_w + 8`, 0..15) in the int8 panel order, and the
//! activations stay signed int8 (the int8 path's u8 rows, shifted back by `xor 0x80`). The offset
//! correction is the int8 path's idea applied to the other operand: where the int8 tiles start
//! from `-128 · col_sums`, these start each group from the frame's `-8 · Σ_group q_a` of the row.
//! Each group's exact i32 sums are converted and added with one fused multiply-add by the widened
//! f16 scales, in group order: bit-identical to `generic::gemm_i4_f32`.
//! Tile: up to 4 rows × 16 columns (one panel, two ymm): 8 i32 group accumulators (5-cycle
//! `vpdpbusd` latency, 2 per cycle), 4 unpacked weight registers and the broadcasts; the 8 f32
//! sums, touched once per group, are what does not fit in the 16 registers (left to the
//! compiler to spill).
//! Tolerance: bit-identical to the twin before the epilogue; GELU as the vector GELU.

use crate::arch::x86::v3::gemm_i4::finish8;
use crate::arch::x86::V3Vnni;
use crate::frame::int4::{drive_tiles, Finish, Int4Gemm, TileInputs, TileOperands};
use crate::frame::int8::U8Tiles;
use crate::linear::RowQuant;
use crate::packed::{k4, panels, PANEL};
use crate::packed_i4::{PackedI4, GROUP};
use core::arch::x86_64::*;

const MR: usize = 4;

impl Int4Gemm for V3Vnni {
    type Act = u8;

    fn quantize_row(self, x: &[f32], row: &mut [u8]) -> RowQuant {
        // The int8 path's shifted bytes `q + 128`; `xor 0x80` gives back the int8 bits.
        let k = x.len();
        let quant = self.quantize_row_u8(x, &mut row[..k4(k)]);
        row[..k].iter_mut().for_each(|b| *b ^= 0x80);
        quant
    }

    /// Every tile of the `m` × `n` output: panels outside, row tiles inside.
    fn run(self, act: &[u8], sums: &[i32], m: usize, w: &PackedI4<'_>, mut fin: Finish<'_, '_>) {
        let t = TileInputs { act, sums, w };
        drive_tiles(m, panels(w.n()), MR, 1, |rr, _, i0, p| {
            // SAFETY: the V3Vnni token proves AVX2/FMA/F16C and AVX-VNNI.
            unsafe { tiles!(rows rr, tile (t, i0, p, &mut fin); 1 2 3 4) }
        });
    }
}

/// One R × 16 tile over the whole depth: rows `i0..i0+R`, the columns of panel `p`.
#[target_feature(enable = "avx2,fma,f16c,avxvnni")]
fn tile<const R: usize>(t: TileInputs<'_, u8>, i0: usize, p: usize, fin: &mut Finish<'_, '_>) {
    let w = t.w;
    let TileOperands { a, sums: s, data: wd, scales: sc, kp, g } = t.operands(i0, R, p, 1);
    let nib = _mm256_set1_epi8(0x0F);
    let mut facc = [[_mm256_setzero_ps(); 2]; R];
    // SAFETY: TileInputs::operands checked rows i0..i0+R (kp bytes each, read 4 at a time below
    // kp; g group sums each) and panel p (256 · g data bytes, 16 · g scales).
    unsafe {
        for gi in 0..g {
            let mut acc = [[_mm256_setzero_si256(); 2]; R];
            for (r, acc_r) in acc.iter_mut().enumerate() {
                *acc_r = [_mm256_set1_epi32(*s.add(r * g + gi)); 2];
            }
            for t in 0..4 {
                let (mut lo, mut hi) = ([_mm256_setzero_si256(); 2], [_mm256_setzero_si256(); 2]);
                for h in 0..2 {
                    let v = _mm256_loadu_si256(wd.add(gi * 256 + t * 64 + h * 32) as *const __m256i);
                    lo[h] = _mm256_and_si256(v, nib);
                    hi[h] = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nib);
                }
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let ap = a.add(r * kp + gi * GROUP + t * 8);
                    let al = _mm256_set1_epi32((ap as *const i32).read_unaligned());
                    let ah = _mm256_set1_epi32((ap.add(4) as *const i32).read_unaligned());
                    for h in 0..2 {
                        acc_r[h] = _mm256_dpbusd_avx_epi32(acc_r[h], lo[h], al);
                        acc_r[h] = _mm256_dpbusd_avx_epi32(acc_r[h], hi[h], ah);
                    }
                }
            }
            for h in 0..2 {
                let scale = _mm256_cvtph_ps(_mm_loadu_si128(sc.add(gi * PANEL + h * 8) as *const __m128i));
                for (f, acc_r) in facc.iter_mut().zip(&acc) {
                    f[h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc_r[h]), scale, f[h]);
                }
            }
        }
    }
    for h in 0..2 {
        let j0 = p * PANEL + h * 8;
        if j0 < w.n() {
            finish8(&facc.map(|f| f[h]), i0, j0, w, fin);
        }
    }
}
