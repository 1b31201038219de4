//! int8 GEMM on AVX-512 VNNI: `vpdpbusd` (u8 × i8, four products summed into each i32 lane).
//!
//! Target cores: Ice Lake / Sapphire Rapids, Zen 4 (where a zmm `vpdpbusd` issues once per
//! cycle and a broadcast competes with it for a vector pipe).
//! Tile: 8 rows × 48 columns (three 16-column panels), 24 zmm accumulators. Per group of 4
//! inputs: 3 weight loads and 8 four-byte broadcasts feed 24 `vpdpbusd`. 8 rows divide the
//! usual M (32, 128) so no remainder tile runs at low occupancy.
//! Blocking: activations are quantized into row-major u8 rows of `k4` bytes (one vector store
//! per 16 inputs; an 8-row tile broadcasts from 8 row streams, which the prefetchers follow),
//! depth is cut into blocks of at most `KC` bytes per column so a panel group's block stays in
//! L1/L2 while all row tiles pass over it; partial i32 sums wait in the output buffer between
//! depth blocks. (An earlier slab layout, `slab[group][row][4]`, gave one broadcast stream but
//! needed four 4-byte scattered stores per 16 inputs: the quantization pass then cost ~6% of
//! the encoder.)
//! Activations are shifted to u8 (`q + 128`) since `vpdpbusd` wants one unsigned operand; the
//! accumulators of the first depth block start from `-128 · col_sums[j]`, so the i32 result
//! equals `Σ q · w` exactly (no saturation: |Σ| ≤ 255 · 127 · k < 2³¹ for k < 66 000).
//! Tolerance: i32 exact; f32 outputs within 1e-6 relative of the generic twin (GELU: 1e-6 abs).

use crate::arch::x86::v4::math::{col_mask, load16, store_epilogue, Span16};
use crate::arch::x86::V4Vnni;
use crate::frame::gemm::Depth;
use crate::frame::int8::{Sink, U8Gemm, U8Tiles};
use crate::generic::row_quant;
use crate::linear::RowQuant;
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::x86_64::*;

const MR: usize = 8;
/// Panels per tile (48 columns).
const NP: usize = 3;
/// Depth block, in inputs (bytes per column). 2048: MiniLM's output projection (k = 1536) runs as
/// one block, 2% faster than two of 768 (`cargo bench -p edgebert-benches --bench gemm`).
const KC: usize = 2048;

impl U8Tiles for V4Vnni {
    const MR: usize = MR;
    const NP: usize = NP;
    const KC: usize = KC;

    fn quantize_row_u8(self, x: &[f32], dst: &mut [u8]) -> RowQuant {
        // SAFETY: the token proves AVX-512F/BW/VL.
        unsafe { quantize_row_shifted(x, dst, 128) }
    }

    /// 8 × 48 tiles over depth blocks of at most [`KC`] bytes per column.
    #[inline(always)]
    fn tile(
        g: &mut U8Gemm<'_, '_, '_, '_, Self>,
        rows: usize,
        panels: usize,
        i0: usize,
        p0: usize,
        d: Depth,
    ) {
        let _ = g.t;
        // SAFETY: the V4Vnni token proves AVX-512F/BW/VL/VNNI.
        unsafe {
            tiles!((rows, panels), tile (g.rows, i0, p0, d, g.w, &mut g.sink);
                (1, 1)(1, 2)(1, 3)(2, 1)(2, 2)(2, 3)(3, 1)(3, 2)(3, 3)(4, 1)(4, 2)(4, 3)
                (5, 1)(5, 2)(5, 3)(6, 1)(6, 2)(6, 3)(7, 1)(7, 2)(7, 3)(8, 1)(8, 2)(8, 3))
        }
    }
}

/// `generic::quantize_row_i8` of `x` fused with a shift (128: the u8 layout of the int8 GEMM,
/// depth padding 128; 0: plain int8 bytes for the int4 GEMM, padding 0), into `dst`
/// (`k4(x.len())` bytes); returns the row's [`RowQuant`]. Same integers as the generic
/// twin: the same range (exact min/max, 0 included), `offset`, `inv`, one subtract and one
/// multiply, conversion under the default round-to-nearest-even mode, clamp to [-127, 127].
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(super) fn quantize_row_shifted(x: &[f32], dst: &mut [u8], shift: i32) -> RowQuant {
    let (k, k4) = (x.len(), k4(x.len()));
    assert_eq!(dst.len(), k4, "quantize_row_u8: dst must hold k4 bytes");
    let full = k / 16 * 16;
    // Lanes past k load as 0, which the range includes anyway.
    let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    // Whole 16-value chunks (j0 + 16 ≤ full ≤ k) unmasked; the tail by a masked load.
    let whole = |j0: usize| {
        let chunk = &x[j0..j0 + 16];
        // SAFETY: `chunk` holds the 64 bytes read.
        unsafe { _mm512_loadu_ps(chunk.as_ptr()) }
    };
    for j0 in (0..full).step_by(16) {
        let v = whole(j0);
        (lo, hi) = (_mm512_min_ps(lo, v), _mm512_max_ps(hi, v));
    }
    if full < k {
        let v = load16(x, full);
        (lo, hi) = (_mm512_min_ps(lo, v), _mm512_max_ps(hi, v));
    }
    let (row, inv) = row_quant(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
    let (inv, off) = (_mm512_set1_ps(inv), _mm512_set1_ps(row.offset));
    let (qlo, qhi, shift) = (_mm512_set1_epi32(-127), _mm512_set1_epi32(127), _mm512_set1_epi32(shift));
    // Lanes outside `valid` become q = 0, i.e. the shift: the depth padding.
    let quantize16 = |x16: __m512, valid: __mmask16| {
        let q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(x16, off), inv));
        let q = _mm512_maskz_mov_epi32(valid, _mm512_min_epi32(_mm512_max_epi32(q, qlo), qhi));
        _mm512_cvtepi32_epi8(_mm512_add_epi32(q, shift))
    };
    for j0 in (0..full).step_by(16) {
        let bytes = quantize16(whole(j0), !0);
        // SAFETY: dst[j0..j0 + 16] is inside dst (j0 + 16 ≤ full ≤ k4 = dst.len()).
        unsafe { _mm_storeu_si128(dst[j0..j0 + 16].as_mut_ptr() as *mut __m128i, bytes) };
    }
    if full < k4 {
        let bytes = quantize16(load16(x, full), col_mask(full, k));
        // SAFETY: the mask enables only bytes full + c < k4 = dst.len().
        unsafe { _mm_mask_storeu_epi8(dst[full..].as_mut_ptr() as *mut i8, col_mask(full, k4), bytes) };
    }
    row
}

/// One R × (16·P) tile over depth block `d`: rows `i0..i0+R`, panels `p0..p0+P`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
fn tile<const R: usize, const P: usize>(
    rows: &[u8],
    i0: usize,
    p0: usize,
    d: Depth,
    w: &PackedI8<'_>,
    sink: &mut Sink<'_, '_>,
) {
    let n = w.n();
    assert!(rows.len() >= (i0 + R) * d.len && d.kb + d.kc <= d.len && d.len == k4(w.k()));
    assert!((p0 + P - 1) * PANEL < n && sink.len() >= (i0 + R) * n);
    let a = rows[i0 * d.len + d.kb..].as_ptr();
    let wp = w.data()[p0 * PANEL * d.len + d.kb * PANEL..].as_ptr();
    // The first depth block starts from -128 · col_sums (the u8 shift's compensation, exact in
    // i32), so the epilogue has nothing to subtract; later blocks start from zero and add the
    // partial sums waiting in the output.
    let mut start = [_mm512_setzero_si512(); P];
    if d.kb == 0 {
        for (p, s) in start.iter_mut().enumerate() {
            let sums = &w.col_sums()[(p0 + p) * PANEL..(p0 + p + 1) * PANEL];
            // SAFETY: `sums` holds the 64 bytes read.
            let sums = unsafe { _mm512_loadu_si512(sums.as_ptr() as *const _) };
            *s = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32::<7>(sums));
        }
    }
    let mut acc = [start; R];
    // SAFETY: rows i0..i0+R hold len bytes each, read 4 at a time at kb + 4g < kb + kc ≤ len;
    // panels p0..p0+P hold 16 · len weight bytes each (asserted; PackedI8's length is
    // panels(n) · 16 · k4).
    unsafe {
        for g in 0..d.kc / 4 {
            let mut wv = [_mm512_setzero_si512(); P];
            for (p, v) in wv.iter_mut().enumerate() {
                *v = _mm512_loadu_si512(wp.add(p * PANEL * d.len + g * 64) as *const _);
            }
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_epi32((a.add(r * d.len + g * 4) as *const i32).read_unaligned());
                for (acc_rp, wvp) in acc_r.iter_mut().zip(&wv) {
                    *acc_rp = _mm512_dpbusd_epi32(*acc_rp, av, *wvp);
                }
            }
        }
    }
    // Spill once to a plain array: indexing the accumulators by a run-time `p` below would
    // otherwise keep them in memory inside the hot loop (LLVM then stores all 24 per step).
    let mut fin = [[0i32; PANEL]; NP * MR];
    for (r, acc_r) in acc.iter().enumerate() {
        for (p, v) in acc_r.iter().enumerate() {
            // SAFETY: each `fin` row holds 16 i32.
            unsafe { _mm512_storeu_si512(fin[r * NP + p].as_mut_ptr() as *mut _, *v) };
        }
    }
    let last = d.last();
    for p in 0..P {
        let j0 = (p0 + p) * PANEL;
        if j0 >= n {
            break;
        }
        let cols = Span16::new(j0, n);
        let mask = cols.mask();
        let (scales, sums) = (&w.scales()[j0..j0 + PANEL], &w.col_sums()[j0..j0 + PANEL]);
        // SAFETY: the slices hold the 64 bytes read.
        let (wscale, sums) =
            unsafe { (_mm512_loadu_ps(scales.as_ptr()), _mm512_loadu_si512(sums.as_ptr() as *const _)) };
        // w_scale · col_sum: the dequantized weight row's sum, which the row offsets multiply.
        let wsum = _mm512_mul_ps(wscale, _mm512_cvtepi32_ps(sums));
        for r in 0..R {
            let i = i0 + r;
            // Between depth blocks the partial i32 sums wait in the output buffer (as raw bits
            // when the output is f32; they are overwritten by the finished value at the end).
            let o: *mut i32 = match sink {
                Sink::I32(out) => out[i * n..].as_mut_ptr().wrapping_add(j0),
                Sink::F32 { out, .. } => out[i * n..].as_mut_ptr().wrapping_add(j0) as *mut i32,
            };
            // SAFETY: `fin` rows hold 16 i32; `o` is column j0 < n of row i < i0 + R, inside the
            // sink (asserted), and the mask enables only its columns < n.
            let v = unsafe {
                let mut v = _mm512_loadu_si512(fin[r * NP + p].as_ptr() as *const _);
                if d.kb > 0 {
                    v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(mask, o as *const _));
                }
                if !last || matches!(sink, Sink::I32(_)) {
                    _mm512_mask_storeu_epi32(o as *mut _, mask, v);
                }
                v
            };
            if let (true, Sink::F32 { out, rows, ep }) = (last, &mut *sink) {
                // RowQuant::dequantize, lane by lane, in its order.
                let y = _mm512_add_ps(
                    _mm512_mul_ps(
                        _mm512_mul_ps(_mm512_cvtepi32_ps(v), wscale),
                        _mm512_set1_ps(rows[i].scale),
                    ),
                    _mm512_mul_ps(_mm512_set1_ps(rows[i].offset), wsum),
                );
                store_epilogue(y, i, cols, ep, out);
            }
        }
    }
}
