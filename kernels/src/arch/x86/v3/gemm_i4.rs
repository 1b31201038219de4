//! int4 GEMM on AVX2 (`PackedI4`: nibbles `q + 8`, groups of 32 inputs, f16 scales) through the
//! exact i16 `vpmaddwd` path of the int8 kernel ([`super::gemm_i8`]), never `vpmaddubsw`.
//!
//! Target cores: Haswell…Raptor Lake, Zen 1–4 (as the int8 GEMM).
//! Operands: activations are `generic::quantize_row_i8`'s integers widened to i16 (row-major,
//! `32 · groups` per row, depth padding 0). A 16-byte load of packed nibbles holds 4 columns × 8
//! inputs (two 4-input quads, low and high nibbles, in the int8 panel order); `vpmovzxbw` widens
//! it to i16, `and 0x0F` gives the first quad's offset-binary weights (`q_w + 8`, 0..15) and a
//! 16-bit `srl 4` the second's (the zero extension leaves nothing above the high nibble). Each
//! `vpmaddwd` sums two exact products (|q_a · (q_w + 8)| ≤ 127 · 15) into (column, input-pair)
//! i32 lanes; the `+ 8` is taken out per row and group by the frame's offsets
//! (`-8 · Σ_group q_a`), added after the `vphaddd` that folds the pairs.
//! Each group's exact i32 sums are converted and added by one fused multiply-add with the 8
//! widened f16 scales, in group order: bit-identical to `generic::gemm_i4_f32`. The `vphaddd`
//! leaves columns in the order `0 1 4 5 | 2 3 6 7`; the scales are permuted to it once per group
//! and the f32 sums back once per tile.
//! Tile: up to 4 rows × 8 columns (half a panel): 8 i32 accumulators, 4 f32 sums, 2 widened
//! weight registers and a broadcast: 15 of the 16 ymm registers. Depth is not blocked; a half
//! panel's weights (`4 · k` bytes) stay in L1 while every row tile passes over them.
//! Tolerance: bit-identical to the twin before the epilogue; GELU as the vector GELU.

use super::gemm_i8::RowQuant8;
use super::math::{store_epilogue, Span8};
use crate::arch::x86::V3;
use crate::frame::int4::{drive_tiles, Finish, Int4Gemm, TileInputs, TileOperands};
use crate::linear::RowQuant;
use crate::packed::PANEL;
use crate::packed_i4::{PackedI4, GROUP};
use core::arch::x86_64::*;

const MR: usize = 4;

impl Int4Gemm for V3 {
    type Act = i16;

    fn quantize_row(self, x: &[f32], row: &mut [i16]) -> RowQuant {
        // SAFETY: the V3 token proves AVX2/FMA.
        unsafe { quantize_row_i16(x, &mut row[..x.len()]) }
    }

    /// Every tile of the `m` × `n` output: half panels outside, row tiles inside.
    fn run(self, act: &[i16], sums: &[i32], m: usize, w: &PackedI4<'_>, mut fin: Finish<'_, '_>) {
        let t = TileInputs { act, sums, w };
        drive_tiles(m, w.n().div_ceil(8), MR, 1, |rr, _, i0, half| {
            // SAFETY: the V3 token proves AVX2/FMA/F16C.
            unsafe { tiles!(rows rr, tile (t, i0, half, &mut fin); 1 2 3 4) }
        });
    }
}

/// `generic::quantize_row_i8` of `x` widened to i16 into `dst` (`x.len()` values): the same
/// integers (see [`RowQuant8`]); returns the row's [`RowQuant`].
#[target_feature(enable = "avx2,fma")]
fn quantize_row_i16(x: &[f32], dst: &mut [i16]) -> RowQuant {
    assert_eq!(dst.len(), x.len(), "quantize_row_i16: dst must hold x.len() values");
    let (row, quant) = RowQuant8::of(x);
    for j0 in (0..x.len()).step_by(8) {
        // packs leaves inputs 0–3 in words 0–3 and 4–7 in words 8–11; the permute joins them.
        let q = quant.quantize8(x, j0);
        let words: [i16; 16] = bytemuck::cast(_mm256_permute4x64_epi64::<0b10_00>(_mm256_packs_epi32(q, q)));
        let end = (j0 + 8).min(x.len());
        dst[j0..end].copy_from_slice(&words[..end - j0]);
    }
    row
}

/// One R × 8 tile over the whole depth: rows `i0..i0+R`, columns `8·half..8·half+8`.
#[target_feature(enable = "avx2,fma,f16c")]
fn tile<const R: usize>(t: TileInputs<'_, i16>, i0: usize, half: usize, fin: &mut Finish<'_, '_>) {
    let w = t.w;
    let TileOperands { a, sums: s, data, scales, kp, g } = t.operands(i0, R, half / 2, 1);
    assert!(half * 8 < w.n(), "half panel out of range");
    let (wd, sc) = (data.wrapping_add((half % 2) * 32), scales.wrapping_add((half % 2) * 8));
    let low = _mm256_set1_epi16(0x0F);
    let mut facc = [_mm256_setzero_ps(); R];
    // SAFETY: TileInputs::operands checked rows i0..i0+R (kp i16 each, read 4 at a time below kp;
    // g group sums each) and panel half / 2 (256 · g data bytes, read 32 per 64-byte block at
    // offset 32 · (half % 2); 16 · g scales, 8 per group at offset 8 · (half % 2)).
    unsafe {
        for gi in 0..g {
            let mut acc = [[_mm256_setzero_si256(); 2]; R];
            for t in 0..4 {
                let blk = wd.add(gi * 256 + t * 64);
                let v0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(blk as *const __m128i));
                let v1 = _mm256_cvtepu8_epi16(_mm_loadu_si128(blk.add(16) as *const __m128i));
                let (lo0, lo1) = (_mm256_and_si256(v0, low), _mm256_and_si256(v1, low));
                let (hi0, hi1) = (_mm256_srli_epi16::<4>(v0), _mm256_srli_epi16::<4>(v1));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let ap = a.add(r * kp + gi * GROUP + t * 8);
                    let al = _mm256_set1_epi64x((ap as *const i64).read_unaligned());
                    let ah = _mm256_set1_epi64x((ap.add(4) as *const i64).read_unaligned());
                    acc_r[0] = _mm256_add_epi32(acc_r[0], _mm256_madd_epi16(lo0, al));
                    acc_r[1] = _mm256_add_epi32(acc_r[1], _mm256_madd_epi16(lo1, al));
                    acc_r[0] = _mm256_add_epi32(acc_r[0], _mm256_madd_epi16(hi0, ah));
                    acc_r[1] = _mm256_add_epi32(acc_r[1], _mm256_madd_epi16(hi1, ah));
                }
            }
            let scale = _mm256_cvtph_ps(_mm_loadu_si128(sc.add(gi * PANEL) as *const __m128i));
            let scale = hadd_order(scale);
            for (r, (f, acc_r)) in facc.iter_mut().zip(&acc).enumerate() {
                let v = _mm256_hadd_epi32(acc_r[0], acc_r[1]);
                let v = _mm256_add_epi32(v, _mm256_set1_epi32(*s.add(r * g + gi)));
                *f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), scale, *f);
            }
        }
    }
    finish8(&facc.map(|v| hadd_order(v)), i0, half * 8, w, fin);
}

/// Swaps the middle two 64-bit quarters: column order `0 1 2 3 4 5 6 7` ↔ `0 1 4 5 2 3 6 7`
/// (what `vphaddd` of two (column, input-pair) accumulators gives).
#[inline]
#[target_feature(enable = "avx2")]
fn hadd_order(v: __m256) -> __m256 {
    _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)))
}

/// Finishes the group-scaled sums `f[r]` of rows `i0 + r`, columns `j0..j0 + 8` (clipped to `n`;
/// `j0` a multiple of 8 below `n`) into `fin`: as they are, or `generic::finish_i4` lane by lane
/// in its order (two products, one sum) and the epilogue. Shared with the AVX-VNNI int4 tiles.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) fn finish8(f: &[__m256], i0: usize, j0: usize, w: &PackedI4<'_>, fin: &mut Finish<'_, '_>) {
    let n = w.n();
    let cols = Span8::new(j0, n);
    let wsum: &[f32; 8] = w.w_sums()[j0..j0 + 8].try_into().expect("8 weight sums");
    // SAFETY: `wsum` holds the 32 bytes read.
    let wsum = unsafe { _mm256_loadu_ps(wsum.as_ptr()) };
    for (r, &v) in f.iter().enumerate() {
        let i = i0 + r;
        match fin {
            Finish::Raw(out) => cols.store(&mut out[i * n..(i + 1) * n], v),
            Finish::Linear { out, rows, ep } => {
                let y = _mm256_add_ps(
                    _mm256_mul_ps(v, _mm256_set1_ps(rows[i].scale)),
                    _mm256_mul_ps(_mm256_set1_ps(rows[i].offset), wsum),
                );
                store_epilogue(y, i, cols, ep, out);
            }
        }
    }
}
