//! int4 weight panels (`PackedI4`): symmetric 4-bit weights in groups of [`GROUP`] = 32 inputs,
//! one f16 scale per (output column, group), in the same 16-column panels as int8
//! ([`crate::packed`]), so the blob stores exactly what the kernels read.
//!
//! Notation: `np = ceil(n / 16)`, `n16 = 16 · np`, `g = ceil(k / 32)` groups, `k32 = 32 · g`.
//!
//! * `data: [u8; np · g · 256]` (`n16 · k32 / 2` bytes). The weight `q ∈ [-7, 7]` of column `j`,
//!   input `kk` is stored as the nibble `q + 8` (offset binary, 1..=15; padding is 8, i.e. 0) in
//!   byte `(j / 16) · (256 · g) + (kk / 32) · 256 + ((kk % 32) / 8) · 64 + (j % 16) · 4 + (kk % 4)`,
//!   low nibble when `(kk % 8) < 4`, high nibble otherwise. In words: per panel, per group, four
//!   64-byte blocks; block `t` holds the int8 layout's 4-input quad `2t` in its low nibbles and
//!   quad `2t + 1` in its high nibbles. One 64-byte load, an `and` and a shift give two `vpdpbusd`
//!   (or four `sdot` register) operands in the int8 panel order; offset binary makes the nibbles
//!   unsigned bytes with no sign extension, which `vpdpbusd` takes as its u8 operand.
//! * `scales: [f16; n16 · g]`: scale of column `j`, group `gi` at `(j / 16) · (16 · g) + gi · 16
//!   \+ (j % 16)` (16 consecutive columns per group: one `vcvtph2ps`). `scale` is the f16 value, among
//!   `max |W| / 7 · (1 - 0.025 · i)` for `i < 13`, of least squared error over the group,
//!   `q = clamp(round_ties_even(W / scale), -7, 7)` with the f16 scale widened to f32; 0 for an
//!   all-zero group and for padding.
//! * `w_sums: [f32; n16]`: `Σ_gi scale[j][gi] · Σ_{kk ∈ gi} q[j][kk]` (f32, groups in order),
//!   the dequantized row sum that the activation rows' offsets multiply. 0 for padding.

use crate::packed::{panels, LayoutError, PANEL};
use half::f16;

/// Inputs per int4 group (one f16 scale each).
pub const GROUP: usize = 32;
/// Largest weight magnitude: symmetric, so ±7 (the nibble 0, i.e. -8, never occurs).
pub const I4_MAX: i32 = 7;

/// Number of groups for depth `k`.
pub fn groups(k: usize) -> usize {
    k.div_ceil(GROUP)
}

/// Element counts of the arrays of an int4 packed `[n, k]` weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedI4Lens {
    /// Bytes of `data`.
    pub data: usize,
    /// f16 elements of `scales`.
    pub scales: usize,
    /// f32 elements of `w_sums`.
    pub w_sums: usize,
}

/// Array lengths of an int4 packed `[n, k]` weight.
pub fn packed_i4_lens(n: usize, k: usize) -> PackedI4Lens {
    let (cols, g) = (panels(n) * PANEL, groups(k));
    PackedI4Lens { data: cols * g * GROUP / 2, scales: cols * g, w_sums: cols }
}

/// Byte index and nibble shift (0 or 4) of the weight of column `j`, input `kk`.
pub fn i4_position(j: usize, kk: usize, k: usize) -> (usize, u32) {
    let byte =
        (j / PANEL) * 256 * groups(k) + (kk / GROUP) * 256 + (kk % GROUP) / 8 * 64 + (j % PANEL) * 4 + kk % 4;
    (byte, if kk % 8 < 4 { 0 } else { 4 })
}

fn check(array: &'static str, expected: usize, found: usize) -> Result<(), LayoutError> {
    if expected == found {
        Ok(())
    } else {
        Err(LayoutError { array, expected, found })
    }
}

/// Borrowed int4 packed weight (for example straight out of an mmap). See the module docs.
#[derive(Clone, Copy, Debug)]
pub struct PackedI4<'a> {
    data: &'a [u8],
    scales: &'a [f16],
    w_sums: &'a [f32],
    n: usize,
    k: usize,
}

impl<'a> PackedI4<'a> {
    /// Checks the array lengths against `n` and `k` (values are not checked: any bytes give
    /// memory-safe, if meaningless, results).
    pub fn new(
        data: &'a [u8],
        scales: &'a [f16],
        w_sums: &'a [f32],
        n: usize,
        k: usize,
    ) -> Result<Self, LayoutError> {
        let lens = packed_i4_lens(n, k);
        check("data", lens.data, data.len())?;
        check("scales", lens.scales, scales.len())?;
        check("w_sums", lens.w_sums, w_sums.len())?;
        Ok(PackedI4 { data, scales, w_sums, n, k })
    }
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
    pub fn scales(&self) -> &'a [f16] {
        self.scales
    }
    pub fn w_sums(&self) -> &'a [f32] {
        self.w_sums
    }
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn k(&self) -> usize {
        self.k
    }
    /// Number of groups, `ceil(k / 32)`.
    pub fn groups(&self) -> usize {
        groups(self.k)
    }
    /// The output columns of panels `first..first + count`, as a view on the same bytes (see
    /// `PackedI8::panel_range`).
    pub fn panel_range(&self, first: usize, count: usize) -> PackedI4<'a> {
        let end = first.checked_add(count).expect("panel_range overflows");
        assert!(
            count > 0 && end <= panels(self.n),
            "panel_range {first}+{count} outside {} panels",
            panels(self.n)
        );
        let g = self.groups();
        PackedI4 {
            data: &self.data[first * 256 * g..end * 256 * g],
            scales: &self.scales[first * PANEL * g..end * PANEL * g],
            w_sums: &self.w_sums[first * PANEL..end * PANEL],
            n: self.n.min(end * PANEL) - first * PANEL,
            k: self.k,
        }
    }
    /// The quantized weight `q[j][kk]` in [-7, 7] (tests and tools, not hot loops).
    pub fn get(&self, j: usize, kk: usize) -> i8 {
        assert!(j < self.n && kk < self.k, "PackedI4::get out of range");
        let (byte, shift) = i4_position(j, kk, self.k);
        ((self.data[byte] >> shift) & 0x0F) as i8 - 8
    }
    /// The f16 scale of column `j`, group `gi`, widened to f32.
    pub fn scale(&self, j: usize, gi: usize) -> f32 {
        self.scales[(j / PANEL) * PANEL * self.groups() + gi * PANEL + j % PANEL].to_f32()
    }
}

/// Owned int4 packed weight, as produced by [`pack_i4`].
#[derive(Clone, Debug, PartialEq)]
pub struct PackedI4Buf {
    pub data: Vec<u8>,
    pub scales: Vec<f16>,
    pub w_sums: Vec<f32>,
    pub n: usize,
    pub k: usize,
}

impl PackedI4Buf {
    pub fn view(&self) -> PackedI4<'_> {
        PackedI4::new(&self.data, &self.scales, &self.w_sums, self.n, self.k)
            .expect("PackedI4Buf keeps consistent lengths")
    }
}

/// Scales tried by [`quantize_group_i4`]: `max / 7 · (1 - 0.025 · i)`, `i < CLIP_STEPS` (down
/// to 0.7 · max / 7).
pub const CLIP_STEPS: usize = 13;

/// Quantizes one group of weights symmetrically to [-7, 7] with an f16 scale: among the
/// [`CLIP_STEPS`] scales `f16(max |w| / 7 · (1 - 0.025 · i))`, the one of least squared
/// reconstruction error (the integers are computed against the f16-rounded scale). Returns the
/// scale; an all-zero (or all-subnormal-in-f16) group gives scale 0 and zeros.
///
/// # Panics
/// On non-finite weights or a scale above f16's range (`max |w| > 7 · 65504`): the converter
/// refuses those with a clear error first.
pub fn quantize_group_i4(w: &[f32], q: &mut [i8]) -> f16 {
    assert_eq!(w.len(), q.len());
    let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(max.is_finite() && max <= 7.0 * 65504.0, "quantize_group_i4: weights out of the f16 scale range");
    // Clipping search: the scale `max / 7` wastes most of the 15 levels on one outlier, so try
    // shrinking it (the outlier then clamps to ±7) and keep the scale of least squared error
    // (first one on ties, so an exactly representable group keeps `max / 7`).
    let mut best = (f32::INFINITY, f16::ZERO);
    for step in 0..CLIP_STEPS {
        let scale = f16::from_f32(max / 7.0 * (1.0 - 0.025 * step as f32));
        let s = scale.to_f32();
        if s == 0.0 {
            break;
        }
        let err: f32 = w
            .iter()
            .map(|v| {
                let d = v - (v / s).round_ties_even().clamp(-7.0, 7.0) * s;
                d * d
            })
            .sum();
        if err < best.0 {
            best = (err, scale);
        }
    }
    let s = best.1.to_f32();
    if s == 0.0 {
        q.fill(0);
        return f16::ZERO;
    }
    for (d, v) in q.iter_mut().zip(w) {
        *d = (v / s).round_ties_even().clamp(-7.0, 7.0) as i8;
    }
    best.1
}

/// Quantizes one row (an output channel's weights, or an embedding table's row) in groups of
/// [`GROUP`] consecutive values with [`quantize_group_i4`]: `scales[gi]` is group `gi`'s scale
/// (the last group is shorter when `w.len()` is not a multiple of 32). Shared by [`pack_i4`] and
/// the converter's int4 embedding tables, so both choose scales the same way.
///
/// # Panics
/// If `q` is not as long as `w`, `scales` is not `groups(w.len())` long, or as
/// [`quantize_group_i4`].
pub fn quantize_row_i4(w: &[f32], q: &mut [i8], scales: &mut [f16]) {
    assert_eq!(w.len(), q.len(), "quantize_row_i4: q must be as long as w");
    assert_eq!(scales.len(), groups(w.len()), "quantize_row_i4: one scale per group");
    for ((w, q), s) in w.chunks(GROUP).zip(q.chunks_mut(GROUP)).zip(scales) {
        *s = quantize_group_i4(w, q);
    }
}

/// Quantizes a PyTorch-layout `[n, k]` f32 weight in groups of 32 along `k` and packs it.
pub fn pack_i4(w: &[f32], n: usize, k: usize) -> PackedI4Buf {
    assert_eq!(w.len(), n * k, "pack_i4: w must be [n, k]");
    let g = groups(k);
    let mut q = vec![0i8; n * k];
    let mut scales = vec![f16::ZERO; n * g];
    if k > 0 {
        for ((w, q), s) in w.chunks(k).zip(q.chunks_mut(k)).zip(scales.chunks_mut(g)) {
            quantize_row_i4(w, q, s);
        }
    }
    pack_i4_quantized(&q, &scales, n, k)
}

/// Packs already-quantized `[n, k]` int4 weights (values in [-7, 7]) with their `[n, groups]`
/// row-major scales.
///
/// # Panics
/// If a weight lies outside [-7, 7].
pub fn pack_i4_quantized(q: &[i8], scales: &[f16], n: usize, k: usize) -> PackedI4Buf {
    let g = groups(k);
    assert_eq!(q.len(), n * k, "pack_i4_quantized: q must be [n, k]");
    assert_eq!(scales.len(), n * g, "pack_i4_quantized: scales must be [n, groups]");
    assert!(q.iter().all(|&v| (-7..=7).contains(&v)), "pack_i4_quantized: weights must lie in [-7, 7]");
    let lens = packed_i4_lens(n, k);
    let mut data = vec![0x88u8; lens.data];
    let mut packed_scales = vec![f16::ZERO; lens.scales];
    let mut w_sums = vec![0.0f32; lens.w_sums];
    for j in 0..n {
        let mut sum = 0.0f32;
        for gi in 0..g {
            let s = scales[j * g + gi];
            packed_scales[(j / PANEL) * PANEL * g + gi * PANEL + j % PANEL] = s;
            let mut isum = 0i32;
            for kk in gi * GROUP..((gi + 1) * GROUP).min(k) {
                let v = q[j * k + kk];
                let (byte, shift) = i4_position(j, kk, k);
                data[byte] = (data[byte] & !(0x0F << shift)) | (((v + 8) as u8) << shift);
                isum += v as i32;
            }
            sum += s.to_f32() * isum as f32;
        }
        w_sums[j] = sum;
    }
    PackedI4Buf { data, scales: packed_scales, w_sums, n, k }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_documented_byte_formula() {
        let (n, k) = (19, 70);
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let p = pack_i4(&w, n, k);
        let v = p.view();
        assert_eq!(p.data.len(), 2 * 3 * 256);
        assert_eq!(p.scales.len(), 32 * 3);
        for j in 0..n {
            let mut want_sum = 0.0f32;
            for gi in 0..3 {
                let s = v.scale(j, gi);
                let mut isum = 0;
                for kk in gi * 32..((gi + 1) * 32).min(k) {
                    let byte = (j / 16) * 768 + (kk / 32) * 256 + (kk % 32) / 8 * 64 + (j % 16) * 4 + kk % 4;
                    let nib = if kk % 8 < 4 { p.data[byte] & 15 } else { p.data[byte] >> 4 };
                    assert_eq!(nib as i8 - 8, v.get(j, kk));
                    let want = (w[j * k + kk] / s).round_ties_even().clamp(-7.0, 7.0) as i8;
                    assert_eq!(v.get(j, kk), want);
                    isum += want as i32;
                }
                want_sum += s * isum as f32;
            }
            assert_eq!(p.w_sums[j], want_sum);
        }
        // Padding: nibble 8 (zero), scale 0, sum 0.
        assert!(p.w_sums[n..].iter().all(|&s| s == 0.0));
        let (byte, shift) = i4_position(5, 69, k);
        assert_eq!((p.data[byte + 1] >> shift) & 15, 8, "input 70 is depth padding");
    }

    #[test]
    fn extremes_use_the_full_symmetric_range() {
        let row = [-3.5, 3.5, 1.5, 0.0];
        let mut q = [0i8; 4];
        let s = quantize_group_i4(&row, &mut q);
        assert_eq!((q, s.to_f32()), ([-7, 7, 3, 0], 0.5));
        assert_eq!(quantize_group_i4(&[0.0; 4], &mut q), f16::ZERO);
    }

    #[test]
    fn clipping_lowers_the_group_error_below_the_max_scale() {
        // One outlier among small values: max / 7 would round every small value to 0 or ±1.
        let mut w: Vec<f32> = (0..32).map(|i| ((i * 7 % 13) as f32 - 6.0) / 20.0).collect();
        w[5] = 2.0;
        let mut q = vec![0i8; 32];
        let s = quantize_group_i4(&w, &mut q).to_f32();
        let err = |s: f32| -> f32 {
            w.iter().map(|v| (v - (v / s).round_ties_even().clamp(-7.0, 7.0) * s).powi(2)).sum()
        };
        assert!(s < 2.0 / 7.0 && err(s) < err(f16::from_f32(2.0 / 7.0).to_f32()), "scale {s}");
        assert!(q.iter().all(|v| (-7..=7).contains(v)));
    }

    #[test]
    fn panel_ranges_and_wrong_lengths() {
        let (n, k) = (37, 40);
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.7).cos()).collect();
        let p = pack_i4(&w, n, k);
        let sub = p.view().panel_range(1, 2);
        assert_eq!(sub.n(), 21);
        for j in 0..21 {
            for kk in 0..k {
                assert_eq!(sub.get(j, kk), p.view().get(16 + j, kk));
            }
            assert_eq!((sub.scale(j, 1), sub.w_sums()[j]), (p.view().scale(16 + j, 1), p.w_sums[16 + j]));
        }
        let e = PackedI4::new(&p.data[1..], &p.scales, &p.w_sums, n, k).unwrap_err();
        assert_eq!(e.array, "data");
        assert!(PackedI4::new(&p.data, &p.scales[1..], &p.w_sums, n, k).is_err());
    }
}
