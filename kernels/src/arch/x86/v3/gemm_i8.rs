//! Exact int8 GEMM on AVX2 through i16 `vpmaddwd`, never `vpmaddubsw`.
//!
//! `vpmaddubsw` adds two u8 × i8 products into a *saturating* i16: 255 · 127 · 2 = 64 770
//! overflows, which silently corrupts other engines' int8 on AVX2-only CPUs. Here both operands
//! are sign-extended to i16 first (activations once per call, quantized straight into 6-row
//! slabs `slab[group][row][4]` so broadcasts come from one stream; weights per load)
//! and `vpmaddwd` sums pairs into i32: |q · w| ≤ 127 · 127, so every step is exact. On Zen 4
//! this costs the same multiply-pipe slots per 32 products as the sign trick
//! (`vpsignb` + `vpmaddubsw` + `vpmaddwd`), with fewer instructions.
//!
//! Target cores: Haswell…Raptor Lake, Zen 1–4; also the int8 path of AVX-512 CPUs without VNNI.
//! Tile: 6 rows × 8 columns (half a panel). Per group of 4 inputs: 2 weight loads widened to
//! i16 (`vpmovsxbw`: 4 columns × 4 inputs each), 6 eight-byte activation broadcasts, 12
//! `vpmaddwd` into 12 accumulators holding (column, input-pair) sums, folded by `vphaddd`.
//! Tolerance: i32 exact; f32 outputs within 1e-6 relative of the generic twin.

use super::math::{gelu, lanes, load8, Span8};
use crate::arch::x86::V3;
use crate::frame::gemm::{drive, Depth, MicroKernel};
use crate::frame::int8::{Int8Gemm, Sink};
use crate::generic::row_quant;
use crate::linear::{RowQuant, Scratch};
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::x86_64::*;

const MR: usize = 6;

/// Element offset of input `kk` of row `i` in the 6-row i16 slabs (`slab[group][row][4]`), so a
/// tile's broadcasts come from one sequential stream.
fn slab_index(i: usize, kk: usize, k4: usize) -> usize {
    (i / MR) * MR * k4 + (kk / 4) * MR * 4 + (i % MR) * 4 + kk % 4
}

fn slab_len(m: usize, k: usize) -> usize {
    m.div_ceil(MR) * MR * k4(k)
}

impl Int8Gemm for V3 {
    type Act = i16;

    fn act_len(m: usize, k: usize) -> usize {
        slab_len(m, k)
    }

    fn buffers(s: &mut Scratch) -> (&mut Vec<i16>, &mut Vec<RowQuant>) {
        (&mut s.i16s, &mut s.rows)
    }

    fn quantize_row(self, x: &[f32], i: usize, act: &mut [i16]) -> RowQuant {
        // SAFETY: the V3 token proves AVX2/FMA.
        unsafe { quantize_row_into_slab(x, i, act) }
    }

    fn copy_row(self, q: &[i8], i: usize, act: &mut [i16]) {
        let (k, k4) = (q.len(), k4(q.len()));
        for kk in 0..k4 {
            act[slab_index(i, kk, k4)] = if kk < k { q[kk] as i16 } else { 0 };
        }
    }

    fn run(self, act: &[i16], m: usize, w: &PackedI8<'_>, sink: Sink<'_, '_>) {
        assert!(act.len() >= slab_len(m, w.k()));
        drive(&mut I8Gemm { t: self, a: act, w, sink }, m, w.n(), k4(w.k()));
    }
}

/// The i16 GEMM as a [`MicroKernel`]: half a panel (8 columns) per tile, one depth block.
struct I8Gemm<'a, 'w, 's, 'e> {
    t: V3,
    a: &'a [i16],
    w: &'a PackedI8<'w>,
    sink: Sink<'s, 'e>,
}

impl MicroKernel for I8Gemm<'_, '_, '_, '_> {
    const MR: usize = MR;
    const NP: usize = 1;
    const NR: usize = 8;

    #[inline(always)]
    fn tile(&mut self, rows: usize, _units: usize, i0: usize, half: usize, _d: Depth) {
        let _ = self.t;
        // SAFETY: the V3 token proves AVX2/FMA.
        unsafe { tiles!(rows rows, tile (self.a, i0, half, self.w, &mut self.sink); 1 2 3 4 5 6) }
    }
}

/// `generic::quantize_row_i8` of row `i` fused with the widening to i16 and the slab scatter;
/// returns the row's [`RowQuant`]. Same integers as the generic twin (same range, `offset`
/// and `inv`, one subtract and one multiply, round-to-nearest-even conversion, clamp to
/// [-127, 127]).
#[target_feature(enable = "avx2,fma")]
fn quantize_row_into_slab(x: &[f32], i: usize, slabs: &mut [i16]) -> RowQuant {
    let (k, k4) = (x.len(), k4(x.len()));
    assert!(slabs.len() >= slab_len(i + 1, k), "quantize_row_into_slab: slabs too short");
    // Row i's first group; with k = 0 (k4 = 0) it may equal slabs.len() and nothing is written.
    let (dst, base) = (slabs.as_mut_ptr(), slab_index(i, 0, k4));
    let (row, quant) = RowQuant8::of(x);
    // 8 inputs = 2 groups of 4 i16, each group landing MR·4 values after the previous.
    for j0 in (0..k4).step_by(8) {
        let q = quant.quantize8(x, j0);
        let packed = _mm256_permute4x64_epi64::<0b10_00>(_mm256_packs_epi32(q, q));
        let halves: [i64; 4] = bytemuck::cast(packed);
        // SAFETY: group g of row i lies at base + g·MR·4 = slab_index(i, 4g, k4) <
        // slab_len(i + 1, k) ≤ slabs.len() (asserted) for every g < k4 / 4 (the loop runs only
        // when k4 > 0), and each write is 4 i16.
        unsafe {
            (dst.add(base + (j0 / 4) * MR * 4) as *mut i64).write_unaligned(halves[0]);
            if j0 + 4 < k4 {
                (dst.add(base + (j0 / 4 + 1) * MR * 4) as *mut i64).write_unaligned(halves[1]);
            }
        }
    }
    row
}

/// One R × 8 tile: rows `i0..i0+R`, columns `8·half..8·half+8`.
#[target_feature(enable = "avx2,fma")]
fn tile<const R: usize>(a: &[i16], i0: usize, half: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let (n, k4) = (w.n(), k4(w.k()));
    assert!(a.len() >= slab_len(i0 + R, w.k()) && half * 8 < n && sink.len() >= (i0 + R) * n);
    let ap = a[slab_index(i0, 0, k4)..].as_ptr();
    let wp = w.data()[(half / 2) * PANEL * k4..].as_ptr().wrapping_add((half % 2) * 32);
    let mut acc = [[_mm256_setzero_si256(); 2]; R];
    // SAFETY: rows i0..i0+R of the slabs hold k4 values each (asserted), read 4 at a time;
    // the half-panel's k4 / 4 groups of 64 bytes exist since half · 8 < n (PackedI8's lengths).
    unsafe {
        for g in 0..k4 / 4 {
            let w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(wp.add(g * 64) as *const __m128i));
            let w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(wp.add(g * 64 + 16) as *const __m128i));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_epi64x((ap.add(g * MR * 4 + r * 4) as *const i64).read_unaligned());
                acc_r[0] = _mm256_add_epi32(acc_r[0], _mm256_madd_epi16(w0, av));
                acc_r[1] = _mm256_add_epi32(acc_r[1], _mm256_madd_epi16(w1, av));
            }
        }
    }
    let cols = Cols8::of(w, half * 8);
    let mut vs = [_mm256_setzero_si256(); R];
    for (v, acc_r) in vs.iter_mut().zip(&acc) {
        // Lanes of acc_r[0]: (c0,k01) (c0,k23) (c1,k01) (c1,k23) | (c2,..) (c3,..); acc_r[1]
        // likewise for c4..c7. hadd gives [c0 c1 c4 c5 | c2 c3 c6 c7]; the permute restores
        // column order.
        *v = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_hadd_epi32(acc_r[0], acc_r[1]));
    }
    cols.finish(&vs, i0, sink);
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
        // Two accumulator pairs over whole 16-value chunks (unmasked loads), the tail masked;
        // lanes past k load as 0, which the range includes anyway. Any order gives the same
        // range: min/max only differ in the sign of a zero, which `row_quant` does not see.
        let (mut lo, mut hi) = ([_mm256_setzero_ps(); 2], [_mm256_setzero_ps(); 2]);
        let full = x.len() / 16 * 16;
        for pair in x[..full].chunks_exact(16) {
            for (h, half) in pair.chunks_exact(8).enumerate() {
                // SAFETY: `half` holds the 32 bytes read.
                let v = unsafe { _mm256_loadu_ps(half.as_ptr()) };
                (lo[h], hi[h]) = (_mm256_min_ps(lo[h], v), _mm256_max_ps(hi[h], v));
            }
        }
        for j0 in (full..x.len()).step_by(8) {
            let v = load8(x, j0);
            (lo[0], hi[0]) = (_mm256_min_ps(lo[0], v), _mm256_max_ps(hi[0], v));
        }
        let (lo, hi) = (_mm256_min_ps(lo[0], lo[1]), _mm256_max_ps(hi[0], hi[1]));
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
        let cols = Span8::new(j0, x.len());
        _mm256_and_si256(self.quantize(cols.load(x)), _mm256_castps_si256(cols.mask_ps()))
    }

    /// The quantized values of the 8 inputs `v` as i32 lanes (see [`RowQuant8::quantize8`]).
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn quantize(&self, v: __m256) -> __m256i {
        let v = _mm256_mul_ps(_mm256_sub_ps(v, self.off), self.inv);
        let (qlo, qhi) = (_mm256_set1_epi32(-127), _mm256_set1_epi32(127));
        _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(v), qlo), qhi)
    }
}

/// What finishing 8 output columns `j0..j0 + 8` of an int8 GEMM needs, loaded once per tile.
pub(crate) struct Cols8 {
    cols: Span8,
    wscale: __m256,
    /// w_scale · col_sum: the dequantized weight row's sum, which the row offsets multiply.
    wsum: __m256,
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
        Cols8 { cols: Span8::new(j0, w.n()), wscale, wsum }
    }

    /// Finishes the exact i32 dot products `vs[r]` of rows `i0 + r` into `sink` (columns
    /// clipped to `n`): stored as they are, or dequantized (`RowQuant::dequantize`) and finished
    /// by the epilogue. One call per tile column block, not per row: the call did not inline.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn finish(&self, vs: &[__m256i], i0: usize, sink: &mut Sink<'_, '_>) {
        let n = self.cols.n();
        match sink {
            Sink::I32(out) => {
                for (r, v) in vs.iter().enumerate() {
                    self.cols.store_i32(&mut out[(i0 + r) * n..], *v);
                }
            }
            Sink::F32 { out, rows, ep } => {
                // The epilogue's operands once per tile, not per row (`store_epilogue`'s steps
                // in its order: bias, GELU, residual).
                let bias = ep.bias.map(|b| self.cols.load(b));
                let (gelu_on, residual) = (ep.gelu, ep.residual);
                for ((r, v), q) in vs.iter().enumerate().zip(&rows[i0..i0 + vs.len()]) {
                    // RowQuant::dequantize, lane by lane, in its order.
                    let i = i0 + r;
                    let mut y = _mm256_add_ps(
                        _mm256_mul_ps(
                            _mm256_mul_ps(_mm256_cvtepi32_ps(*v), self.wscale),
                            _mm256_set1_ps(q.scale),
                        ),
                        _mm256_mul_ps(_mm256_set1_ps(q.offset), self.wsum),
                    );
                    if let Some(b) = bias {
                        y = _mm256_add_ps(y, b);
                    }
                    if gelu_on {
                        y = gelu(y);
                    }
                    if let Some(res) = residual {
                        y = _mm256_add_ps(y, self.cols.load(&res[i * n..]));
                    }
                    self.cols.store(&mut out[i * n..], y);
                }
            }
        }
    }
}
