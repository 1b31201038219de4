//! int8 GEMM on AVX-VNNI: VEX `vpdpbusd` on ymm (u8 × i8, four products summed into each of 8
//! i32 lanes), for CPUs with AVX2 and AVX-VNNI but no AVX-512.
//!
//! Target cores: Alder Lake / Raptor Lake / Meteor Lake P- and E-cores, Zen 5 desktop (where
//! a ymm `vpdpbusd` has a latency of 4–5 cycles and issues 2 per cycle, so ≥ 10 independent
//! accumulators are needed to keep the pipes busy).
//! Tile: 6 rows × 16 columns (one packed panel = two ymm of 8 columns), 12 ymm accumulators, 2
//! weight registers and 1 broadcast: 15 of the 16 ymm registers, nothing spilled. Per group of
//! 4 inputs: 2 weight loads and 6 four-byte broadcasts feed 12 `vpdpbusd`. The weights are the
//! blob's packed panels as they are: a 64-byte group is 16 columns × 4 inputs, i.e. exactly two
//! ymm operands of `vpdpbusd` (columns 0–7 and 8–15).
//! Blocking: activations are quantized into row-major u8 rows of `k4` bytes (as the AVX-512
//! VNNI kernel does); the whole depth runs in one block (a 16-column panel of even k = 3072 is
//! 48 KiB, streamed sequentially), panels outermost so a panel stays in L1 while all row tiles
//! pass over it.
//! Activations are shifted to u8 (`q + 128`) since `vpdpbusd` wants one unsigned operand; the
//! accumulators start from `-128 · col_sums[j]`, so the i32 result equals `Σ q · w` exactly (no
//! saturation: |Σ| ≤ 255 · 127 · k < 2³¹ for k < 66 000).
//! Tolerance: i32 exact; f32 outputs within 1e-6 relative of the generic twin (GELU: 1e-6 abs).

use crate::arch::x86::v3::gemm_i8::{Cols8, RowQuant8};
use crate::arch::x86::V3Vnni;
use crate::frame::gemm::Depth;
use crate::frame::int8::{Sink, U8Gemm, U8Tiles};
use crate::linear::RowQuant;
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::x86_64::*;

const MR: usize = 6;
/// Panels one row tile runs in turn (64 columns): its rows stay in L1 across them.
const NP: usize = 4;

impl U8Tiles for V3Vnni {
    const MR: usize = MR;
    const NP: usize = NP;

    fn quantize_row_u8(self, x: &[f32], dst: &mut [u8]) -> RowQuant {
        // SAFETY: the token proves AVX2/FMA.
        unsafe { quantize_row_u8(x, dst) }
    }

    /// 6 × 16 tiles, one panel after the other, over the whole depth.
    #[inline(always)]
    fn tile(
        g: &mut U8Gemm<'_, '_, '_, '_, Self>,
        rows: usize,
        panels: usize,
        i0: usize,
        p0: usize,
        _d: Depth,
    ) {
        let _ = g.t;
        for p in p0..p0 + panels {
            // SAFETY: the V3Vnni token proves AVX2/FMA and AVX-VNNI.
            unsafe { tiles!(rows rows, tile (g.rows, i0, p, g.w, &mut g.sink); 1 2 3 4 5 6) }
        }
    }
}

/// `generic::quantize_row_i8` of `x` fused with the u8 shift, into `dst` (`k4(x.len())` bytes,
/// depth padding 128); returns the row's [`RowQuant`]. Same integers as the generic twin (see
/// [`RowQuant8`]).
#[target_feature(enable = "avx2,fma")]
fn quantize_row_u8(x: &[f32], dst: &mut [u8]) -> RowQuant {
    let k4 = k4(x.len());
    assert_eq!(dst.len(), k4, "quantize_row_u8: dst must hold k4 bytes");
    let (row, quant) = RowQuant8::of(x);
    let (shift, low_bytes) = (_mm256_set1_epi32(128), _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
    for j0 in (0..k4).step_by(8) {
        // q + 128 in [1, 255] (padding: 128); both packs keep it, leaving input c in byte c of
        // dword 0 (c < 4) or dword 4 (c ≥ 4), which the permute brings together.
        let q = _mm256_add_epi32(quant.quantize8(x, j0), shift);
        let words = _mm256_packs_epi32(q, q);
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words, words), low_bytes);
        let eight = (_mm_cvtsi128_si64(_mm256_castsi256_si128(bytes)) as u64).to_le_bytes();
        let end = (j0 + 8).min(k4);
        dst[j0..end].copy_from_slice(&eight[..end - j0]);
    }
    row
}

/// One R × 16 tile: rows `i0..i0+R`, the columns of panel `p`, over the whole depth.
#[target_feature(enable = "avx2,fma,avxvnni")]
fn tile<const R: usize>(rows: &[u8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let (n, k4) = (w.n(), k4(w.k()));
    assert!(rows.len() >= (i0 + R) * k4 && p * PANEL < n && sink.len() >= (i0 + R) * n);
    let a = rows[i0 * k4..].as_ptr();
    let wp = w.data()[p * PANEL * k4..].as_ptr();
    let j0 = p * PANEL;
    // Start from -128 · col_sums (the u8 shift's compensation, exact in i32), so the epilogue
    // has nothing to subtract.
    let mut start = [_mm256_setzero_si256(); 2];
    for (h, s) in start.iter_mut().enumerate() {
        let sums = &w.col_sums()[j0 + 8 * h..j0 + 8 * h + 8];
        // SAFETY: `sums` holds the 32 bytes read.
        let sums = unsafe { _mm256_loadu_si256(sums.as_ptr() as *const __m256i) };
        *s = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32::<7>(sums));
    }
    let mut acc = [start; R];
    // SAFETY: rows i0..i0+R hold k4 bytes each (asserted), read 4 at a time at 4g < k4; panel p
    // holds 16 · k4 weight bytes (p · 16 < n and PackedI8's length is panels(n) · 16 · k4), read
    // 64 at a time at 64g < 16 · k4.
    unsafe {
        for g in 0..k4 / 4 {
            let w0 = _mm256_loadu_si256(wp.add(g * 64) as *const __m256i);
            let w1 = _mm256_loadu_si256(wp.add(g * 64 + 32) as *const __m256i);
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_epi32((a.add(r * k4 + g * 4) as *const i32).read_unaligned());
                acc_r[0] = _mm256_dpbusd_avx_epi32(acc_r[0], av, w0);
                acc_r[1] = _mm256_dpbusd_avx_epi32(acc_r[1], av, w1);
            }
        }
    }
    for (h, c0) in [j0, j0 + 8].into_iter().enumerate() {
        if c0 < n {
            let vs: [__m256i; R] = core::array::from_fn(|r| acc[r][h]);
            Cols8::of(w, c0).finish(&vs, i0, sink);
        }
    }
}
