//! Packed weight panels: the one byte layout every backend reads and the blob stores as-is.
//!
//! A weight matrix arrives in PyTorch `nn.Linear` layout, `W[n][k]` row-major (`n` outputs,
//! `k` inputs). It is packed once (by the converter) into column panels of [`PANEL`] = 16
//! output columns, so a micro-kernel streams one contiguous run of bytes per panel. The same
//! bytes serve x86 (`vpdpbusd`, `vpmaddwd`, FMA) and ARM (`sdot`, `smlal`, `fmla`): a blob
//! converted once runs anywhere. All values little-endian; no alignment is required (kernels use
//! unaligned loads), though the blob puts each tensor at a 64-byte boundary.
//!
//! Notation: `np = ceil(n / 16)` panels, `n16 = 16 · np`, `k4 = 4 · ceil(k / 4)`.
//!
//! ## int8 (`PackedI8`): three arrays
//!
//! * `data: [i8; np · k4 · 16]`. The weight of output column `j`, input `kk` is at byte
//!   `(j / 16) · (16 · k4) + (kk / 4) · 64 + (j % 16) · 4 + (kk % 4)`.
//!   In words: per panel, per group of 4 consecutive inputs, 64 bytes = 16 columns × 4 inputs,
//!   the 4 inputs of one column adjacent. That is what `vpdpbusd` (16 i32 lanes, each summing 4
//!   byte products) and `sdot` (4 i32 lanes × 4 bytes, 4 registers per group) consume directly.
//!   Padding (`j ≥ n` or `kk ≥ k`) is 0, so it contributes nothing to any dot product.
//! * `scales: [f32; n16]`: symmetric per-output-channel scale, `scale[j] = max_kk |W[j][kk]| / 127`
//!   (0 for an all-zero row), `q = clamp(round_ties_even(W / scale), -127, 127)`. -128 never
//!   occurs: that keeps every product within ±127·127 and lets the AVX2 path stay exact.
//!   Padding columns have scale 0.
//! * `col_sums: [i32; n16]`: `Σ_kk q[j][kk]`. x86 feeds activations shifted to u8 (`q_a + 128`)
//!   and subtracts `128 · col_sums[j]` after the dot product. Padding columns have 0.
//!
//! ## f32 (`PackedF32`) and f16 (`PackedF16`): one array
//!
//! * `data: [T; np · k · 16]`, element of column `j`, input `kk` at index
//!   `(j / 16) · (16 · k) + kk · 16 + (j % 16)`: per panel, `k` rows of 16 consecutive columns
//!   (one zmm, two ymm, four q registers). Padding columns are 0. f16 is IEEE binary16.

use half::f16;
use std::fmt;

/// Output columns per panel.
pub const PANEL: usize = 16;

/// Number of panels for `n` output columns.
pub fn panels(n: usize) -> usize {
    n.div_ceil(PANEL)
}

/// `k` rounded up to a multiple of 4: the int8 depth stored per column.
pub fn k4(k: usize) -> usize {
    k.div_ceil(4) * 4
}

/// Element counts of each array of a packed tensor, for the blob writer and reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedLens {
    /// Elements of `data` (bytes for int8).
    pub data: usize,
    /// Elements of `scales` and of `col_sums` (int8 only; 0 for float encodings).
    pub per_column: usize,
}

/// Array lengths of an int8 packed `[n, k]` weight.
pub fn packed_i8_lens(n: usize, k: usize) -> PackedLens {
    PackedLens { data: panels(n) * PANEL * k4(k), per_column: panels(n) * PANEL }
}

/// Array lengths of an f32 or f16 packed `[n, k]` weight.
pub fn packed_float_lens(n: usize, k: usize) -> PackedLens {
    PackedLens { data: panels(n) * PANEL * k, per_column: 0 }
}

/// A packed tensor whose arrays do not have the lengths its shape requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutError {
    pub array: &'static str,
    pub expected: usize,
    pub found: usize,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "packed weight array `{}` has {} elements, the shape needs {}",
            self.array, self.found, self.expected
        )
    }
}

impl std::error::Error for LayoutError {}

fn check_len(array: &'static str, expected: usize, found: usize) -> Result<(), LayoutError> {
    if expected == found {
        Ok(())
    } else {
        Err(LayoutError { array, expected, found })
    }
}

fn checked_panels(first: usize, count: usize, n: usize) -> (usize, usize) {
    let end = first.checked_add(count).expect("panel_range overflows");
    assert!(count > 0 && end <= panels(n), "panel_range {first}+{count} outside {} panels", panels(n));
    (first, end)
}

/// Borrowed int8 packed weight (for example straight out of an mmap). See the module docs.
#[derive(Clone, Copy, Debug)]
pub struct PackedI8<'a> {
    data: &'a [i8],
    scales: &'a [f32],
    col_sums: &'a [i32],
    n: usize,
    k: usize,
}

impl<'a> PackedI8<'a> {
    /// Checks the array lengths against `n` and `k`. Values are not checked: a blob's checksum
    /// covers those, and any bytes give memory-safe (if meaningless) results.
    pub fn new(
        data: &'a [i8],
        scales: &'a [f32],
        col_sums: &'a [i32],
        n: usize,
        k: usize,
    ) -> Result<Self, LayoutError> {
        let lens = packed_i8_lens(n, k);
        check_len("data", lens.data, data.len())?;
        check_len("scales", lens.per_column, scales.len())?;
        check_len("col_sums", lens.per_column, col_sums.len())?;
        Ok(PackedI8 { data, scales, col_sums, n, k })
    }
    pub fn data(&self) -> &'a [i8] {
        self.data
    }
    pub fn scales(&self) -> &'a [f32] {
        self.scales
    }
    pub fn col_sums(&self) -> &'a [i32] {
        self.col_sums
    }
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn k(&self) -> usize {
        self.k
    }
    /// The output columns of panels `first..first + count` (columns `16·first ..
    /// min(n, 16·(first + count))`) as a view on the same bytes, so threads can split a layer by
    /// column blocks; with `m = 1` each block's output, bias and residual are contiguous slices.
    pub fn panel_range(&self, first: usize, count: usize) -> PackedI8<'a> {
        let (first, end) = checked_panels(first, count, self.n);
        let k4 = k4(self.k);
        PackedI8 {
            data: &self.data[first * PANEL * k4..end * PANEL * k4],
            scales: &self.scales[first * PANEL..end * PANEL],
            col_sums: &self.col_sums[first * PANEL..end * PANEL],
            n: self.n.min(end * PANEL) - first * PANEL,
            k: self.k,
        }
    }
    /// The quantized weight `q[j][kk]` (for tests and tools, not hot loops).
    pub fn get(&self, j: usize, kk: usize) -> i8 {
        assert!(j < self.n && kk < self.k, "PackedI8::get out of range");
        self.data[(j / PANEL) * PANEL * k4(self.k) + (kk / 4) * 64 + (j % PANEL) * 4 + kk % 4]
    }
}

/// Borrowed packed float weight; `T` is `f32` or `half::f16`. See the module docs.
#[derive(Clone, Copy, Debug)]
pub struct PackedFloat<'a, T> {
    data: &'a [T],
    n: usize,
    k: usize,
}

/// Packed f32 weight view.
pub type PackedF32<'a> = PackedFloat<'a, f32>;
/// Packed f16 weight view.
pub type PackedF16<'a> = PackedFloat<'a, f16>;

impl<'a, T: Copy> PackedFloat<'a, T> {
    pub fn new(data: &'a [T], n: usize, k: usize) -> Result<Self, LayoutError> {
        check_len("data", packed_float_lens(n, k).data, data.len())?;
        Ok(PackedFloat { data, n, k })
    }
    pub fn data(&self) -> &'a [T] {
        self.data
    }
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn k(&self) -> usize {
        self.k
    }
    /// The output columns of panels `first..first + count`; see [`PackedI8::panel_range`].
    pub fn panel_range(&self, first: usize, count: usize) -> PackedFloat<'a, T> {
        let (first, end) = checked_panels(first, count, self.n);
        PackedFloat {
            data: &self.data[first * PANEL * self.k..end * PANEL * self.k],
            n: self.n.min(end * PANEL) - first * PANEL,
            k: self.k,
        }
    }
    /// The weight `W[j][kk]` (for tests and tools, not hot loops).
    pub fn get(&self, j: usize, kk: usize) -> T {
        assert!(j < self.n && kk < self.k, "PackedFloat::get out of range");
        self.data[(j / PANEL) * PANEL * self.k + kk * PANEL + j % PANEL]
    }
}

/// Owned int8 packed weight, as produced by [`pack_i8`].
#[derive(Clone, Debug, PartialEq)]
pub struct PackedI8Buf {
    pub data: Vec<i8>,
    pub scales: Vec<f32>,
    pub col_sums: Vec<i32>,
    pub n: usize,
    pub k: usize,
}

impl PackedI8Buf {
    pub fn view(&self) -> PackedI8<'_> {
        PackedI8::new(&self.data, &self.scales, &self.col_sums, self.n, self.k)
            .expect("PackedI8Buf keeps consistent lengths")
    }
}

/// Owned packed float weight, as produced by [`pack_f32`] or [`pack_f16`].
#[derive(Clone, Debug, PartialEq)]
pub struct PackedFloatBuf<T> {
    pub data: Vec<T>,
    pub n: usize,
    pub k: usize,
}

impl<T: Copy> PackedFloatBuf<T> {
    pub fn view(&self) -> PackedFloat<'_, T> {
        PackedFloat::new(&self.data, self.n, self.k).expect("PackedFloatBuf keeps consistent lengths")
    }
}

/// Quantizes one weight row symmetrically to [-127, 127]; returns the scale.
pub fn quantize_weight_row(row: &[f32], q: &mut [i8]) -> f32 {
    assert_eq!(row.len(), q.len());
    let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        q.fill(0);
        return if max == 0.0 { 0.0 } else { f32::NAN };
    }
    let inv = 127.0 / max;
    for (d, v) in q.iter_mut().zip(row) {
        *d = (v * inv).round_ties_even().clamp(-127.0, 127.0) as i8;
    }
    max / 127.0
}

/// Quantizes a PyTorch-layout `[n, k]` f32 weight per output channel and packs it.
pub fn pack_i8(w: &[f32], n: usize, k: usize) -> PackedI8Buf {
    assert_eq!(w.len(), n * k, "pack_i8: w must be [n, k]");
    let mut q = vec![0i8; n * k];
    let mut scales = vec![0.0f32; panels(n) * PANEL];
    for j in 0..n {
        scales[j] = quantize_weight_row(&w[j * k..(j + 1) * k], &mut q[j * k..(j + 1) * k]);
    }
    pack_i8_quantized(&q, &scales[..n], n, k)
}

/// Packs already-quantized `[n, k]` int8 weights (values in [-127, 127]) with their scales.
///
/// # Panics
/// If a weight is -128: it would break the exactness argument of the AVX2 kernels.
pub fn pack_i8_quantized(q: &[i8], scales: &[f32], n: usize, k: usize) -> PackedI8Buf {
    assert_eq!(q.len(), n * k, "pack_i8_quantized: q must be [n, k]");
    assert_eq!(scales.len(), n, "pack_i8_quantized: scales must be [n]");
    assert!(!q.contains(&i8::MIN), "pack_i8_quantized: weights must lie in [-127, 127]");
    let lens = packed_i8_lens(n, k);
    let (k4, mut data) = (k4(k), vec![0i8; lens.data]);
    let mut col_sums = vec![0i32; lens.per_column];
    let mut padded_scales = vec![0.0f32; lens.per_column];
    padded_scales[..n].copy_from_slice(scales);
    for j in 0..n {
        let base = (j / PANEL) * PANEL * k4 + (j % PANEL) * 4;
        for kk in 0..k {
            let v = q[j * k + kk];
            data[base + (kk / 4) * 64 + kk % 4] = v;
            col_sums[j] += v as i32;
        }
    }
    PackedI8Buf { data, scales: padded_scales, col_sums, n, k }
}

fn pack_float<T: Copy + Default>(
    w: &[f32],
    n: usize,
    k: usize,
    conv: impl Fn(f32) -> T,
) -> PackedFloatBuf<T> {
    assert_eq!(w.len(), n * k, "pack: w must be [n, k]");
    let mut data = vec![T::default(); packed_float_lens(n, k).data];
    for j in 0..n {
        let base = (j / PANEL) * PANEL * k + j % PANEL;
        for kk in 0..k {
            data[base + kk * PANEL] = conv(w[j * k + kk]);
        }
    }
    PackedFloatBuf { data, n, k }
}

/// Packs `W[j][kk] = get(j, kk)` (`[n, k]`) into f32 panels in `dst` (reused, no allocation
/// once large enough): how attention packs a head of K, or of Vᵀ, straight from strided rows.
pub fn pack_f32_with(dst: &mut Vec<f32>, n: usize, k: usize, get: impl Fn(usize, usize) -> f32) {
    dst.clear();
    dst.resize(packed_float_lens(n, k).data, 0.0);
    for j in 0..n {
        let base = (j / PANEL) * PANEL * k + j % PANEL;
        for kk in 0..k {
            dst[base + kk * PANEL] = get(j, kk);
        }
    }
}

/// Packs a PyTorch-layout `[n, k]` f32 weight into f32 panels.
pub fn pack_f32(w: &[f32], n: usize, k: usize) -> PackedFloatBuf<f32> {
    pack_float(w, n, k, |v| v)
}

/// Packs a PyTorch-layout `[n, k]` f32 weight into f16 panels (round to nearest even).
pub fn pack_f16(w: &[f32], n: usize, k: usize) -> PackedFloatBuf<f16> {
    pack_float(w, n, k, f16::from_f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_layout_matches_the_documented_byte_formula() {
        let (n, k) = (19, 7);
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let p = pack_i8(&w, n, k);
        let v = p.view();
        assert_eq!(p.data.len(), 2 * 16 * 8);
        for j in 0..n {
            let mut sum = 0;
            for kk in 0..k {
                let byte = (j / 16) * (16 * 8) + (kk / 4) * 64 + (j % 16) * 4 + kk % 4;
                assert_eq!(p.data[byte], v.get(j, kk));
                let want = (w[j * k + kk] / p.scales[j]).round_ties_even() as i32;
                assert_eq!(v.get(j, kk) as i32, want);
                sum += want;
            }
            assert_eq!(p.col_sums[j], sum);
        }
        // Padding is zero everywhere.
        assert!(p.scales[n..].iter().all(|&s| s == 0.0));
        assert!(p.col_sums[n..].iter().all(|&s| s == 0));
        let nonzero = p.data.iter().filter(|&&b| b != 0).count();
        assert!(nonzero <= n * k);
    }

    #[test]
    fn quantized_weights_stay_in_symmetric_range() {
        let row = [-3.0, 3.0, 1.5, -0.0, 2.999];
        let mut q = [0i8; 5];
        let s = quantize_weight_row(&row, &mut q);
        assert_eq!(q, [-127, 127, 64, 0, 127]);
        assert!((s - 3.0 / 127.0).abs() < 1e-9);
        assert_eq!(quantize_weight_row(&[0.0; 5], &mut q), 0.0);
        assert_eq!(q, [0; 5]);
    }

    #[test]
    fn float_layout_matches_the_documented_index() {
        let (n, k) = (17, 3);
        let w: Vec<f32> = (0..n * k).map(|i| i as f32).collect();
        let p = pack_f32(&w, n, k);
        assert_eq!(p.data.len(), 2 * 16 * 3);
        for j in 0..n {
            for kk in 0..k {
                assert_eq!(p.data[(j / 16) * 16 * k + kk * 16 + j % 16], w[j * k + kk]);
            }
        }
        let h = pack_f16(&w, n, k);
        assert_eq!(h.view().get(16, 2), f16::from_f32(w[16 * k + 2]));
    }

    #[test]
    fn panel_ranges_are_column_blocks() {
        let (n, k) = (37, 6);
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.7).cos()).collect();
        let p = pack_i8(&w, n, k);
        let f = pack_f32(&w, n, k);
        let (sub, subf) = (p.view().panel_range(1, 2), f.view().panel_range(1, 2));
        assert_eq!((sub.n(), subf.n()), (21, 21));
        for j in 0..21 {
            for kk in 0..k {
                assert_eq!(sub.get(j, kk), p.view().get(16 + j, kk));
                assert_eq!(subf.get(j, kk), w[(16 + j) * k + kk]);
            }
            assert_eq!(sub.scales()[j], p.scales[16 + j]);
        }
        assert!(PackedI8::new(sub.data(), sub.scales(), sub.col_sums(), sub.n(), k).is_ok());
    }

    #[test]
    fn views_reject_wrong_lengths() {
        let p = pack_i8(&[1.0; 12], 3, 4);
        assert!(PackedI8::new(&p.data, &p.scales, &p.col_sums, 3, 4).is_ok());
        let e = PackedI8::new(&p.data[1..], &p.scales, &p.col_sums, 3, 4).unwrap_err();
        assert_eq!(e.array, "data");
        assert!(PackedI8::new(&p.data, &p.scales[..3], &p.col_sums, 3, 4).is_err());
        assert!(PackedF32::new(&[0.0; 10], 1, 1).is_err());
    }
}
