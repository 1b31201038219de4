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
//! Tiles of 1 or 2 rows (M = 128 = 21 · 6 + 2) take 4 or 2 panels at once, so they still have 8
//! accumulator chains.
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
        // Fewer than 3 rows would leave too few accumulator chains to hide the latency of
        // `vpdpbusd` with one panel: such tiles (M = 128 = 21 · 6 + 2) take several panels at once.
        let per = match rows {
            1 => 4,
            2 => 2,
            _ => 1,
        };
        let mut p = p0;
        while p < p0 + panels {
            let take = per.min(p0 + panels - p);
            // SAFETY: the V3Vnni token proves AVX2/FMA and AVX-VNNI.
            unsafe {
                tiles!((rows, take), tile (g.rows, i0, p, g.w, &mut g.sink);
                    (1, 1)(1, 2)(1, 3)(1, 4)(2, 1)(2, 2)(3, 1)(4, 1)(5, 1)(6, 1))
            }
            p += take;
        }
    }
}

/// `generic::quantize_row_i8` of `x` fused with the u8 shift, into `dst` (`k4(x.len())` bytes,
/// depth padding 128); returns the row's [`RowQuant`]. Same integers as the generic twin (see
/// [`RowQuant8`]).
#[target_feature(enable = "avx2,fma")]
fn quantize_row_u8(x: &[f32], dst: &mut [u8]) -> RowQuant {
    let (k, k4) = (x.len(), k4(x.len()));
    assert_eq!(dst.len(), k4, "quantize_row_u8: dst must hold k4 bytes");
    let (row, quant) = RowQuant8::of(x);
    let shift = _mm256_set1_epi32(128);
    // Whole 32-value chunks: four unmasked quantizations, q + 128 in [1, 255], which both packs
    // keep; they leave inputs 8c..8c+4 in dword c and 8c+4..8c+8 in dword c + 4 (c < 4), which
    // the permute puts back in order for one 32-byte store.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let full = k / 32 * 32;
    for (xs, d) in x[..full].chunks_exact(32).zip(dst.chunks_exact_mut(32)) {
        let q: [__m256i; 4] = core::array::from_fn(|c| {
            // SAFETY: `xs` holds the 128 bytes read, 32 at a time.
            let v = unsafe { _mm256_loadu_ps(xs[8 * c..].as_ptr()) };
            _mm256_add_epi32(quant.quantize(v), shift)
        });
        let words = (_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words.0, words.1), order);
        // SAFETY: `d` holds the 32 bytes written.
        unsafe { _mm256_storeu_si256(d.as_mut_ptr() as *mut __m256i, bytes) };
    }
    // The rest 8 at a time (padding: 128); the permute brings input c (byte c of dword 0 for
    // c < 4, of dword 4 for c ≥ 4) together.
    let low_bytes = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
    for j0 in (full..k4).step_by(8) {
        let q = _mm256_add_epi32(quant.quantize8(x, j0), shift);
        let words = _mm256_packs_epi32(q, q);
        let bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words, words), low_bytes);
        let eight = (_mm_cvtsi128_si64(_mm256_castsi256_si128(bytes)) as u64).to_le_bytes();
        // k4 - j0 is a multiple of 4: 4 or at least 8 bytes remain (constant-length copies).
        if j0 + 8 <= k4 {
            dst[j0..j0 + 8].copy_from_slice(&eight);
        } else {
            dst[j0..j0 + 4].copy_from_slice(&eight[..4]);
        }
    }
    row
}

/// One R × (16·P) tile: rows `i0..i0+R`, the columns of panels `p0..p0+P`, over the whole depth.
#[target_feature(enable = "avx2,fma,avxvnni")]
fn tile<const R: usize, const P: usize>(
    rows: &[u8],
    i0: usize,
    p0: usize,
    w: &PackedI8<'_>,
    sink: &mut Sink<'_, '_>,
) {
    let (n, k4) = (w.n(), k4(w.k()));
    assert!(rows.len() >= (i0 + R) * k4 && (p0 + P - 1) * PANEL < n && sink.len() >= (i0 + R) * n);
    let a = rows[i0 * k4..].as_ptr();
    let wp = w.data()[p0 * PANEL * k4..].as_ptr();
    // Start from -128 · col_sums (the u8 shift's compensation, exact in i32), so the epilogue
    // has nothing to subtract.
    let mut start = [[_mm256_setzero_si256(); 2]; P];
    for (p, sp) in start.iter_mut().enumerate() {
        for (h, s) in sp.iter_mut().enumerate() {
            let j = (p0 + p) * PANEL + 8 * h;
            let sums = &w.col_sums()[j..j + 8];
            // SAFETY: `sums` holds the 32 bytes read.
            let sums = unsafe { _mm256_loadu_si256(sums.as_ptr() as *const __m256i) };
            *s = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32::<7>(sums));
        }
    }
    let mut acc = [start; R];
    // SAFETY: rows i0..i0+R hold k4 bytes each (asserted), read 4 at a time at 4g < k4; panels
    // p0..p0+P hold 16 · k4 weight bytes each ((p0 + P - 1) · 16 < n and PackedI8's length is
    // panels(n) · 16 · k4), read 64 at a time at 64g < 16 · k4.
    unsafe {
        for g in 0..k4 / 4 {
            let wv: [[__m256i; 2]; P] = core::array::from_fn(|p| {
                let at = wp.add(p * PANEL * k4 + g * 64);
                [_mm256_loadu_si256(at as *const __m256i), _mm256_loadu_si256(at.add(32) as *const __m256i)]
            });
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_epi32((a.add(r * k4 + g * 4) as *const i32).read_unaligned());
                for (acc_rp, wvp) in acc_r.iter_mut().zip(&wv) {
                    acc_rp[0] = _mm256_dpbusd_avx_epi32(acc_rp[0], av, wvp[0]);
                    acc_rp[1] = _mm256_dpbusd_avx_epi32(acc_rp[1], av, wvp[1]);
                }
            }
        }
    }
    // Column block c (8 columns) is half c % 2 of panel p0 + c / 2.
    for c in 0..2 * P {
        let c0 = p0 * PANEL + 8 * c;
        if c0 < n {
            let vs: [__m256i; R] = core::array::from_fn(|r| acc[r][c / 2][c % 2]);
            Cols8::of(w, c0).finish(&vs, i0, sink);
        }
    }
}
