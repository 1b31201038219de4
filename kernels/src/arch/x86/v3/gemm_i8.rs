//! Exact int8 GEMM on AVX2 through `vpmaddubsw` with the sign trick, never on shifted u8.
//!
//! `vpmaddubsw` adds two u8 × i8 products into a *saturating* i16: on shifted activations
//! (`q + 128`, as the VNNI kernels use) 255 · 127 · 2 = 64 770 overflows, which silently
//! corrupts other engines' int8 on AVX2-only CPUs. Here the unsigned operand is `|w|` (one
//! `vpabsb` per weight load, shared by all rows) and the signed one `q · sign(w)` (`vpsignb` of
//! the broadcast activations by the weights): each product is |q| · |w| ≤ 127 · 127, a pair
//! ≤ 32 258 < 32 767, so no step saturates and the i32 sums (`vpmaddwd` by ones) are exact on
//! the whole [-127, 127] range of both operands.
//!
//! Target cores: Haswell…Raptor Lake, Zen 1–4; also the int8 path of AVX-512 CPUs without VNNI.
//! Tile: 6 rows × 16 columns (one packed panel = two ymm of 8 columns, the blob's layout as it
//! is), 12 i32 accumulators. Per group of 4 inputs: 2 weight loads and 2 `vpabsb`, 6 four-byte
//! broadcasts, then per (row, half) `vpsignb` + `vpmaddubsw` + `vpmaddwd` + `vpaddd`.
//! Activations are plain i8 rows (`frame::int8::PlainRows`), the whole depth in one block.
//! Tolerance: i32 exact; f32 outputs within 1e-6 relative of the generic twin.

use super::math::{col_mask, lanes, load8, store_epilogue};
use crate::arch::x86::V3;
use crate::frame::int8::{PlainTiles, Sink};
use crate::generic::row_quant;
use crate::linear::RowQuant;
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::x86_64::*;

const MR: usize = 6;

impl PlainTiles for V3 {
    const MR: usize = MR;

    #[inline(always)]
    fn tile(self, rows: usize, q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
        // SAFETY: the V3 token proves AVX2/FMA.
        unsafe { tiles!(rows rows, tile (q, i0, p, w, sink); 1 2 3 4 5 6) }
    }
}

/// One R × 16 tile: rows `i0..i0+R` of the plain i8 rows, the columns of panel `p`, over the
/// whole depth.
#[target_feature(enable = "avx2,fma")]
fn tile<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let (n, k4) = (w.n(), k4(w.k()));
    assert!(q.len() >= (i0 + R) * k4 && p * PANEL < n && sink.len() >= (i0 + R) * n);
    let a = q[i0 * k4..].as_ptr();
    let wp = w.data()[p * PANEL * k4..].as_ptr();
    let ones = _mm256_set1_epi16(1);
    let mut acc = [[_mm256_setzero_si256(); 2]; R];
    // SAFETY: rows i0..i0+R hold k4 bytes each (asserted), read 4 at a time at 4g < k4; panel p
    // holds 16 · k4 weight bytes (p · 16 < n and PackedI8's length is panels(n) · 16 · k4), read
    // 64 at a time at 64g < 16 · k4.
    unsafe {
        for g in 0..k4 / 4 {
            let w0 = _mm256_loadu_si256(wp.add(g * 64) as *const __m256i);
            let w1 = _mm256_loadu_si256(wp.add(g * 64 + 32) as *const __m256i);
            let (u0, u1) = (_mm256_abs_epi8(w0), _mm256_abs_epi8(w1));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_epi32((a.add(r * k4 + g * 4) as *const i32).read_unaligned());
                let p0 = _mm256_maddubs_epi16(u0, _mm256_sign_epi8(av, w0));
                let p1 = _mm256_maddubs_epi16(u1, _mm256_sign_epi8(av, w1));
                acc_r[0] = _mm256_add_epi32(acc_r[0], _mm256_madd_epi16(p0, ones));
                acc_r[1] = _mm256_add_epi32(acc_r[1], _mm256_madd_epi16(p1, ones));
            }
        }
    }
    let j0 = p * PANEL;
    let cols = [Cols8::of(w, j0), Cols8::of(w, j0 + 8)];
    for (r, acc_r) in acc.iter().enumerate() {
        for (h, (v, c)) in acc_r.iter().zip(&cols).enumerate() {
            if j0 + 8 * h < n {
                c.finish(*v, i0 + r, sink);
            }
        }
    }
}

/// A row's quantization as ymm constants (see `generic::quantize_row_i8`): the same range
/// (exact min/max, 0 included), `offset` and `inv`, so the same integers as the twin.
pub(crate) struct RowQuant8 {
    off: __m256,
    inv: __m256,
}

impl RowQuant8 {
    /// The [`RowQuant`] of row `x` and its constants.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn of(x: &[f32]) -> (RowQuant, RowQuant8) {
        // Lanes past k load as 0, which the range includes anyway.
        let (mut lo, mut hi) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        for j0 in (0..x.len()).step_by(8) {
            let v = load8(x, j0);
            (lo, hi) = (_mm256_min_ps(lo, v), _mm256_max_ps(hi, v));
        }
        let (row, inv) =
            row_quant(lanes(lo).into_iter().fold(0.0, f32::min), lanes(hi).into_iter().fold(0.0, f32::max));
        (row, RowQuant8 { off: _mm256_set1_ps(row.offset), inv: _mm256_set1_ps(inv) })
    }

    /// The quantized inputs `j0..j0 + 8` of `x` as i32 lanes: one subtract and one multiply,
    /// round-to-nearest-even conversion, clamp to [-127, 127]; lanes past `x.len()` (the depth
    /// padding) are 0.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn quantize8(&self, x: &[f32], j0: usize) -> __m256i {
        let v = _mm256_mul_ps(_mm256_sub_ps(load8(x, j0), self.off), self.inv);
        let (qlo, qhi) = (_mm256_set1_epi32(-127), _mm256_set1_epi32(127));
        let q = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(v), qlo), qhi);
        _mm256_and_si256(q, col_mask(j0, x.len()))
    }
}

/// What finishing 8 output columns `j0..j0 + 8` of an int8 GEMM needs, loaded once per tile.
pub(crate) struct Cols8 {
    j0: usize,
    n: usize,
    wscale: __m256,
    /// w_scale · col_sum: the dequantized weight row's sum, which the row offsets multiply.
    wsum: __m256,
    mask: __m256i,
}

impl Cols8 {
    /// Columns `j0..j0 + 8` of `w` (`j0` a multiple of 8: inside the padded per-column arrays).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn of(w: &PackedI8<'_>, j0: usize) -> Cols8 {
        let (scales, sums): (&[f32; 8], &[i32; 8]) = (
            w.scales()[j0..j0 + 8].try_into().expect("8 scales"),
            w.col_sums()[j0..j0 + 8].try_into().expect("8 column sums"),
        );
        // SAFETY: the arrays hold the 32 bytes read.
        let (wscale, sums) = unsafe {
            (_mm256_loadu_ps(scales.as_ptr()), _mm256_loadu_si256(sums.as_ptr() as *const __m256i))
        };
        let wsum = _mm256_mul_ps(wscale, _mm256_cvtepi32_ps(sums));
        Cols8 { j0, n: w.n(), wscale, wsum, mask: col_mask(j0, w.n()) }
    }

    /// Finishes the exact i32 dot products `v` of row `i` into `sink` (columns clipped to `n`):
    /// stored as they are, or dequantized (`RowQuant::dequantize`) and finished by the epilogue.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn finish(&self, v: __m256i, i: usize, sink: &mut Sink<'_, '_>) {
        let (j0, n) = (self.j0, self.n);
        match sink {
            Sink::I32(out) => {
                assert!(j0 < n && out.len() >= (i + 1) * n);
                let o = out[i * n..].as_mut_ptr().wrapping_add(j0);
                // SAFETY: the mask enables the columns j0.. < n of row i, inside `out` (asserted).
                unsafe { _mm256_maskstore_epi32(o, self.mask, v) }
            }
            Sink::F32 { out, rows, ep } => {
                // RowQuant::dequantize, lane by lane, in its order.
                let q = rows[i];
                let y = _mm256_add_ps(
                    _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v), self.wscale), _mm256_set1_ps(q.scale)),
                    _mm256_mul_ps(_mm256_set1_ps(q.offset), self.wsum),
                );
                store_epilogue(y, i, j0, n, ep, out);
            }
        }
    }
}
