//! Smaller sentence embeddings for an on-device index: fewer dimensions (Matryoshka truncation)
//! and fewer bits per dimension, with the rules of sentence-transformers' `quantize_embeddings`
//! so that vectors made here and vectors made in Python compare.
//!
//! - `int8`: per dimension, `start = min`, `step = (max - min) / 255` over calibration vectors
//!   (the embedded texts themselves, or given ranges), then `((x - start) / step - 128)` in f32,
//!   cast toward zero as numpy's `astype(np.int8)` does. Where numpy is undefined edgebert says
//!   what it does: values outside the range clamp to [-128, 127], and a dimension whose range is
//!   empty (`max == min`) gives -128.
//! - `ubinary`: one bit per dimension, `x > 0`, packed eight to a byte with the first dimension
//!   in the most significant bit (`np.packbits`). Each row is padded with zero bits to whole
//!   bytes; sentence-transformers packs the flattened matrix instead, which is the same whenever
//!   the dimension is a multiple of 8 (every common model's).

use edgebert_models::l2_normalize;
use half::f16;

/// How many bits each embedding dimension keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    F16,
    Int8,
    UBinary,
}

impl Precision {
    pub fn from_name(name: &str) -> Option<Precision> {
        match name {
            "f32" | "float32" => Some(Precision::F32),
            "f16" | "float16" => Some(Precision::F16),
            "int8" => Some(Precision::Int8),
            "ubinary" => Some(Precision::UBinary),
            _ => None,
        }
    }
}

/// Per-dimension `[min, max]` of int8 quantization (sentence-transformers' `ranges`, shape
/// `[2, dim]`: row 0 the minima, row 1 the maxima).
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Ranges {
    pub min: Vec<f32>,
    pub max: Vec<f32>,
}

impl Int8Ranges {
    /// The ranges of `rows` themselves (each of the same length); `None` for no rows.
    pub fn calibrate(rows: &[Vec<f32>]) -> Option<Int8Ranges> {
        let first = rows.first()?;
        let mut r = Int8Ranges { min: first.clone(), max: first.clone() };
        for row in &rows[1..] {
            for (d, &v) in row.iter().enumerate() {
                r.min[d] = r.min[d].min(v);
                r.max[d] = r.max[d].max(v);
            }
        }
        Some(r)
    }
}

/// A matrix of compact embeddings, one row per input.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactMatrix {
    pub rows: usize,
    /// Stored values per row: the dimension, or `ceil(dim / 8)` bytes for `ubinary`.
    pub cols: usize,
    pub values: CompactValues,
}

/// The stored values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum CompactValues {
    F32(Vec<f32>),
    F16(Vec<f16>),
    Int8(Vec<i8>),
    UBinary(Vec<u8>),
}

/// Why embeddings could not be made compact.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompactError {
    #[error("--dim {asked} is larger than the model's {dim} dimensions")]
    DimTooLarge { asked: usize, dim: usize },
    #[error("--dim must be at least 1")]
    DimZero,
    #[error("embeddings of different lengths ({first} and {other})")]
    Ragged { first: usize, other: usize },
    #[error("int8 ranges cover {ranges} dimensions, the embeddings have {dim}")]
    RangeWidth { ranges: usize, dim: usize },
}

/// Keeps the first `dim` dimensions of each vector and L2-normalises it again (how Matryoshka
/// models are meant to be cut).
pub fn truncate_dims(rows: &mut [Vec<f32>], dim: usize) -> Result<(), CompactError> {
    if dim == 0 {
        return Err(CompactError::DimZero);
    }
    for row in rows.iter_mut() {
        if dim > row.len() {
            return Err(CompactError::DimTooLarge { asked: dim, dim: row.len() });
        }
        row.truncate(dim);
        l2_normalize(row);
    }
    Ok(())
}

/// `rows` at `precision`; int8 uses `ranges`, or the ranges of `rows` themselves when `None`.
pub fn quantize(
    rows: &[Vec<f32>],
    precision: Precision,
    ranges: Option<&Int8Ranges>,
) -> Result<CompactMatrix, CompactError> {
    let dim = rows.first().map_or(0, Vec::len);
    if let Some(other) = rows.iter().map(Vec::len).find(|&l| l != dim) {
        return Err(CompactError::Ragged { first: dim, other });
    }
    let flat = || rows.iter().flatten().copied();
    let (cols, values) = match precision {
        Precision::F32 => (dim, CompactValues::F32(flat().collect())),
        Precision::F16 => (dim, CompactValues::F16(flat().map(f16::from_f32).collect())),
        Precision::Int8 => {
            let calibrated;
            let ranges = match ranges {
                Some(r) => r,
                None => {
                    calibrated = Int8Ranges::calibrate(rows)
                        .unwrap_or(Int8Ranges { min: Vec::new(), max: Vec::new() });
                    &calibrated
                }
            };
            if !rows.is_empty() && (ranges.min.len() != dim || ranges.max.len() != dim) {
                return Err(CompactError::RangeWidth { ranges: ranges.min.len().min(ranges.max.len()), dim });
            }
            let q = rows.iter().flat_map(|row| quantize_int8_row(row, ranges)).collect();
            (dim, CompactValues::Int8(q))
        }
        Precision::UBinary => {
            (dim.div_ceil(8), CompactValues::UBinary(rows.iter().flat_map(|r| pack_bits(r)).collect()))
        }
    };
    Ok(CompactMatrix { rows: rows.len(), cols, values })
}

fn quantize_int8_row<'a>(row: &'a [f32], ranges: &'a Int8Ranges) -> impl Iterator<Item = i8> + 'a {
    row.iter().zip(ranges.min.iter().zip(&ranges.max)).map(|(&x, (&lo, &hi))| {
        // f32 throughout, as numpy computes on a float32 matrix.
        let step = (hi - lo) / 255.0;
        let v = (x - lo) / step - 128.0;
        if v.is_nan() {
            -128
        } else {
            // `as` truncates toward zero and saturates, like a clamped `astype(np.int8)`.
            v.clamp(-128.0, 127.0) as i8
        }
    })
}

/// `x > 0` bits, first dimension in the most significant bit, zero-padded to whole bytes.
fn pack_bits(row: &[f32]) -> Vec<u8> {
    row.chunks(8)
        .map(|c| c.iter().enumerate().fold(0u8, |b, (i, &x)| b | (u8::from(x > 0.0) << (7 - i))))
        .collect()
}

impl CompactMatrix {
    /// The matrix as a NumPy `.npy` file (`float32`, `float16`, `int8` or `uint8`).
    pub fn to_npy(&self) -> Vec<u8> {
        use crate::npy::{encode, Dtype};
        match &self.values {
            CompactValues::F32(v) => encode(Dtype::F32, self.rows, self.cols, bytemuck::cast_slice(v)),
            CompactValues::F16(v) => {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                encode(Dtype::F16, self.rows, self.cols, &bytes)
            }
            CompactValues::Int8(v) => encode(Dtype::I8, self.rows, self.cols, bytemuck::cast_slice(v)),
            CompactValues::UBinary(v) => encode(Dtype::U8, self.rows, self.cols, v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed example, with what sentence-transformers' `quantize_embeddings` gives for it. Its
    /// rules, run in numpy 2.4 to get the expected values:
    /// ```python
    /// ranges = np.vstack((np.min(e, axis=0), np.max(e, axis=0)))   # or the given ranges
    /// starts = ranges[0, :]; steps = (ranges[1, :] - ranges[0, :]) / 255
    /// int8 = ((e - starts) / steps - 128).astype(np.int8)
    /// ubinary = np.packbits(e > 0).reshape(e.shape[0], -1)
    /// ```
    #[test]
    fn matches_sentence_transformers_quantize_embeddings_on_a_fixed_example() {
        let e: Vec<Vec<f32>> = vec![
            vec![0.12, -0.5, 0.33, 0.0, 0.9, -0.01, 0.25, -0.75, 0.4, 0.05],
            vec![-0.3, 0.2, 0.1, 0.6, -0.2, 0.45, -0.15, 0.35, 0.0, -0.6],
            vec![0.05, 0.7, -0.4, -0.1, 0.3, 0.2, 0.8, -0.05, -0.9, 0.15],
        ];
        let calibrated: [i8; 30] = [
            127, -128, 127, -91, 127, -128, -20, -128, 127, 93, -128, 20, 46, 127, -128, 127, -128, 127, 48,
            -128, 84, 127, -128, -128, -12, -11, 127, 34, -128, 127,
        ];
        let m = quantize(&e, Precision::Int8, None).unwrap();
        assert_eq!((m.rows, m.cols), (3, 10));
        assert_eq!(m.values, CompactValues::Int8(calibrated.to_vec()));
        // Given ranges [-1, 1]: truncation toward zero (-1.775 -> -1, 14.8 -> 14).
        let given: [i8; 30] = [
            14, -64, 41, 0, 114, -1, 31, -96, 50, 5, -38, 25, 12, 75, -26, 56, -19, 44, 0, -77, 5, 88, -51,
            -13, 37, 25, 101, -6, -115, 18,
        ];
        let ranges = Int8Ranges { min: vec![-1.0; 10], max: vec![1.0; 10] };
        assert_eq!(
            quantize(&e, Precision::Int8, Some(&ranges)).unwrap().values,
            CompactValues::Int8(given.to_vec())
        );
        // ubinary on the first 8 dimensions (a multiple of 8, where row and flat packing agree).
        let e8: Vec<Vec<f32>> = e.iter().map(|r| r[..8].to_vec()).collect();
        let m = quantize(&e8, Precision::UBinary, None).unwrap();
        assert_eq!((m.cols, m.values), (1, CompactValues::UBinary(vec![170, 117, 206])));
    }

    #[test]
    fn bits_pack_most_significant_first_and_pad_each_row() {
        let row = [0.5, -1.0, 0.0, 2.0, 1.0, 1.0, -3.0, 1.0, 4.0, -1.0];
        assert_eq!(pack_bits(&row), vec![0b1001_1101, 0b1000_0000]);
    }

    #[test]
    fn int8_edges_clamp_and_empty_ranges() {
        let ranges = Int8Ranges { min: vec![0.0, 1.0], max: vec![1.0, 1.0] };
        let q: Vec<i8> = quantize_int8_row(&[2.0, 1.0], &ranges).collect();
        assert_eq!(q, vec![127, -128]);
        let q: Vec<i8> = quantize_int8_row(&[-5.0, 7.0], &ranges).collect();
        assert_eq!(q[0], -128);
    }

    #[test]
    fn truncation_renormalises_and_checks_the_width() {
        let mut rows = vec![vec![3.0, 4.0, 12.0]];
        truncate_dims(&mut rows, 2).unwrap();
        assert_eq!(rows[0], vec![0.6, 0.8]);
        assert_eq!(truncate_dims(&mut rows, 3), Err(CompactError::DimTooLarge { asked: 3, dim: 2 }));
        assert_eq!(truncate_dims(&mut rows, 0), Err(CompactError::DimZero));
    }
}
