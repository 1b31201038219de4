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
