//! Turning f32 tensors into the byte encodings of docs/FORMAT.md §5.
//!
//! Linear weights go through the kernels' own packing (`edgebert_kernels::packed`), so the bytes
//! in the blob are exactly what the GEMM reads and nothing is repacked at load. Embedding tables
//! are quantized per row (each row is looked up on its own, so it gets its own scale). All
//! multi-byte values are written little-endian explicitly, whatever the host.

use crate::calib::gptq::Int4Weight;
use anyhow::{bail, Result};
use edgebert_engine::blob::crc32c;
use edgebert_engine::blob::encode::EntrySpec;
use edgebert_engine::blob::format::{self, Encoding, Layout};
use edgebert_kernels::packed::{pack_f16, pack_f32, pack_i8, quantize_weight_row};
use edgebert_kernels::packed_i4::{groups, pack_i4, quantize_row_i4, PackedI4Buf};
use half::f16;
use std::fmt;
use std::str::FromStr;

/// Storage precision chosen for a family of tensors (`--weights`, `--embeddings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Symmetric int4 in groups of 32 with f16 scales: along the inputs for linear weights
    /// (FORMAT.md `i4_group`), along a row for embedding tables (`i4_row_group`).
    Int4,
    Int8,
    F16,
    F32,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Self::Int4 => "int4",
            Self::Int8 => "int8",
            Self::F16 => "f16",
            Self::F32 => "f32",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "int4" | "i4" => Ok(Self::Int4),
            "int8" | "i8" => Ok(Self::Int8),
            "f16" => Ok(Self::F16),
            "f32" => Ok(Self::F32),
            _ => bail!("unknown precision `{s}` (expected int4, int8, f16 or f32)"),
        }
    }
}

/// A tensor ready to be written: its table-of-contents entry and its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedTensor {
    pub spec: EntrySpec,
    pub data: Vec<u8>,
}

fn check_finite(name: &str, values: &[f32]) -> Result<()> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        bail!("tensor `{name}`: value {i} is {} (weights must be finite)", values[i]);
    }
    Ok(())
}

/// int4 group scales are f16 `max |x| / 7`: they must stay finite (FORMAT.md W1 for int4).
fn check_i4_range(name: &str, values: &[f32]) -> Result<()> {
    if let Some(v) = values.iter().find(|v| v.abs() > 7.0 * 65504.0) {
        bail!("tensor `{name}`: value {v} is too large for int4's f16 group scales (|x| ≤ 458528)");
    }
    Ok(())
}

fn le<T: Copy, const N: usize>(values: &[T], to: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| to(v)).collect()
}

/// Lays `arrays` out at the sub-array offsets FORMAT.md gives for this encoding and shape.
fn assemble(
    name: &str,
    encoding: Encoding,
    layout: Layout,
    shape: &[usize],
    arrays: &[Vec<u8>],
) -> Result<EncodedTensor> {
    let Some(parts) = format::parts(encoding, layout, shape) else {
        bail!("tensor `{name}`: shape {shape:?} is too large for {encoding}");
    };
    let starts = [Some(0), parts.scales.map(|s| s.0), parts.col_sums.map(|c| c.0)];
    let mut data = vec![0u8; parts.byte_len];
    for (bytes, start) in arrays.iter().zip(starts) {
        let Some(slot) = start.and_then(|s| data.get_mut(s..s + bytes.len())) else {
            bail!("tensor `{name}`: internal error, an array does not fit the {encoding} layout");
        };
        slot.copy_from_slice(bytes);
    }
    let spec = EntrySpec {
        name: name.into(),
        encoding,
        layout,
        shape: shape.to_vec(),
        byte_len: data.len(),
        data_crc32c: crc32c(&data),
    };
    Ok(EncodedTensor { spec, data })
}

/// A PyTorch-layout `[n, k]` linear weight, in the kernels' `panel16` layout.
pub fn linear_weight(name: &str, w: &[f32], n: usize, k: usize, p: Precision) -> Result<EncodedTensor> {
    check_finite(name, w)?;
    if w.len() != n * k {
        bail!("tensor `{name}`: {} values for shape [{n}, {k}]", w.len());
    }
    let (encoding, arrays) = match p {
        Precision::Int8 => {
            let packed = pack_i8(w, n, k);
            let data = le(&packed.data, |v: i8| v.to_le_bytes());
            (
                Encoding::I8Channel,
                vec![data, le(&packed.scales, f32::to_le_bytes), le(&packed.col_sums, i32::to_le_bytes)],
            )
        }
        Precision::Int4 => {
            check_i4_range(name, w)?;
            (Encoding::I4Group, i4_arrays(pack_i4(w, n, k)))
        }
        Precision::F16 => (Encoding::F16, vec![le(&pack_f16(w, n, k).data, f16::to_le_bytes)]),
        Precision::F32 => (Encoding::F32, vec![le(&pack_f32(w, n, k).data, f32::to_le_bytes)]),
    };
    assemble(name, encoding, Layout::Panel16, &[n, k], &arrays)
}

fn i4_arrays(packed: PackedI4Buf) -> Vec<Vec<u8>> {
    vec![packed.data, le(&packed.scales, f16::to_le_bytes), le(&packed.w_sums, f32::to_le_bytes)]
}

/// An `[n, k]` linear weight whose int4 values and scales were already chosen (GPTQ), packed as
/// they are in the `i4_group` layout.
pub fn linear_weight_i4(name: &str, w: &Int4Weight, n: usize, k: usize) -> Result<EncodedTensor> {
    if (w.n, w.k) != (n, k) {
        bail!("tensor `{name}`: int4 values for [{}, {}], the weight is [{n}, {k}]", w.n, w.k);
    }
    if let Some(s) = w.scales.iter().find(|s| !s.is_finite()) {
        bail!("tensor `{name}`: int4 group scale {s} is not finite");
    }
    assemble(name, Encoding::I4Group, Layout::Panel16, &[n, k], &i4_arrays(w.packed()))
}

/// An embedding table `[rows, cols]`, row-major; int8 gets one scale per row, int4 one f16 scale
/// per 32 columns of a row (chosen by the same clipping search as int4 linear weights).
pub fn embedding_table(
    name: &str,
    t: &[f32],
    rows: usize,
    cols: usize,
    p: Precision,
) -> Result<EncodedTensor> {
    check_finite(name, t)?;
    if t.len() != rows * cols || cols == 0 {
        bail!("tensor `{name}`: {} values for shape [{rows}, {cols}]", t.len());
    }
    let (encoding, arrays) = match p {
        Precision::Int4 => {
            check_i4_range(name, t)?;
            let g = groups(cols);
            let stride = cols.div_ceil(2);
            let (mut data, mut scales) = (vec![0u8; rows * stride], vec![f16::ZERO; rows * g]);
            let mut q = vec![0i8; cols];
            let rows_out = data.chunks_exact_mut(stride).zip(scales.chunks_exact_mut(g));
            for (row, (bytes, s)) in t.chunks_exact(cols).zip(rows_out) {
                quantize_row_i4(row, &mut q, s);
                // Two values per byte in element order: even column low nibble, odd column high;
                // offset binary (q + 8), so an odd row's last high nibble (8) reads as 0.
                for (byte, pair) in bytes.iter_mut().zip(q.chunks(2)) {
                    let hi = pair.get(1).map_or(8, |&v| (v + 8) as u8);
                    *byte = (pair[0] + 8) as u8 | hi << 4;
                }
            }
            (Encoding::I4RowGroup, vec![data, le(&scales, f16::to_le_bytes)])
        }
        Precision::Int8 => {
            let mut q = vec![0i8; t.len()];
            let scales: Vec<f32> = t
                .chunks_exact(cols)
                .zip(q.chunks_exact_mut(cols))
                .map(|(row, q)| quantize_weight_row(row, q))
                .collect();
            (Encoding::I8Row, vec![le(&q, i8::to_le_bytes), le(&scales, f32::to_le_bytes)])
        }
        Precision::F16 => (Encoding::F16, vec![le(t, |v| f16::from_f32(v).to_le_bytes())]),
        Precision::F32 => (Encoding::F32, vec![le(t, f32::to_le_bytes)]),
    };
    assemble(name, encoding, Layout::RowMajor, &[rows, cols], &arrays)
}

/// A plain f32 tensor (biases, LayerNorm parameters).
pub fn f32_tensor(name: &str, values: &[f32], shape: &[usize]) -> Result<EncodedTensor> {
    check_finite(name, values)?;
    if values.len() != shape.iter().product::<usize>() {
        bail!("tensor `{name}`: {} values for shape {shape:?}", values.len());
    }
    assemble(name, Encoding::F32, Layout::RowMajor, shape, &[le(values, f32::to_le_bytes)])
}

/// Opaque bytes (the tokenizer file).
pub fn byte_tensor(name: &str, bytes: &[u8]) -> Result<EncodedTensor> {
    if bytes.is_empty() {
        bail!("tensor `{name}` is empty (FORMAT.md T6: dimensions are at least 1)");
    }
    assemble(name, Encoding::U8, Layout::RowMajor, &[bytes.len()], &[bytes.to_vec()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_rows_reconstruct_within_half_a_step() {
        let t: Vec<f32> = (0..3 * 70).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
        let e = embedding_table("e", &t, 3, 70, Precision::Int8).unwrap();
        let scales_at = format::align64(210).unwrap();
        for r in 0..3 {
            let s = f32::from_le_bytes(e.data[scales_at + 4 * r..scales_at + 4 * r + 4].try_into().unwrap());
            for c in 0..70 {
                let q = e.data[r * 70 + c] as i8;
                assert_ne!(q, i8::MIN);
                assert!((q as f32 * s - t[r * 70 + c]).abs() <= s / 2.0 + 1e-6);
            }
        }
    }

    /// int4 tables: every value within half a step of its group's scale unless the clipping
    /// search clamped it to ±7 (then it is at least 7.5 steps out and stored as ±7), an odd row's
    /// padding nibble holds 8 (zero), and the engine's row reader gives `q · s`.
    #[test]
    fn int4_rows_reconstruct_within_half_a_step_per_group() {
        use edgebert_engine::blob::i4_table_row;
        let (rows, cols) = (5, 71);
        let mut t: Vec<f32> = (0..rows * cols).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
        t[3 * cols + 40] = 60.0; // an outlier the search may clip
        t[4 * cols..].fill(0.0); // an all-zero row: scale 0
        let e = embedding_table("e", &t, rows, cols, Precision::Int4).unwrap();
        assert_eq!(e.spec.encoding, Encoding::I4RowGroup);
        let parts = format::parts(Encoding::I4RowGroup, Layout::RowMajor, &[rows, cols]).unwrap();
        assert_eq!(e.data.len(), parts.byte_len);
        let (s_at, s_n) = parts.scales.unwrap();
        let scales: Vec<f16> =
            e.data[s_at..s_at + 2 * s_n].chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]])).collect();
        let data = &e.data[..parts.data_len];
        let mut clipped = 0;
        for r in 0..rows {
            let row: Vec<f32> = i4_table_row(data, &scales, cols, r).collect();
            for c in 0..cols {
                let (x, s) = (t[r * cols + c], scales[r * 3 + c / 32].to_f32());
                let nibble = (data[r * 36 + c / 2] >> (4 * (c % 2))) & 15;
                assert_ne!(nibble, 0, "W1: -8 is never written");
                let q = nibble as f32 - 8.0;
                assert_eq!(row[c], q * s, "row {r} col {c}");
                if x.abs() <= 7.5 * s {
                    assert!(
                        (row[c] - x).abs() <= s / 2.0 * (1.0 + 1e-6),
                        "row {r} col {c}: {x} -> {}",
                        row[c]
                    );
                } else {
                    assert_eq!(q, 7.0 * x.signum());
                    clipped += 1;
                }
            }
            // 71 columns: the high half of each row's 36th byte is padding, nibble 8.
            assert_eq!(data[r * 36 + 35] >> 4, 8, "row {r}");
        }
        assert!(clipped < rows * cols / 10, "{clipped} values clipped");
        assert!(scales[12..].iter().all(|s| s.to_f32() == 0.0));
        let err = embedding_table("big", &[1e6, 0.0], 1, 2, Precision::Int4).unwrap_err();
        assert!(err.to_string().contains("big"), "{err}");
    }

    #[test]
    fn int4_weights_are_stored_in_the_kernels_panel_layout() {
        let (n, k) = (17, 40);
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 13 % 29) as f32 - 14.0) / 9.0).collect();
        let e = linear_weight("w", &w, n, k, Precision::Int4).unwrap();
        assert_eq!(e.spec.encoding, Encoding::I4Group);
        let p = pack_i4(&w, n, k);
        let parts = format::parts(Encoding::I4Group, Layout::Panel16, &[n, k]).unwrap();
        assert_eq!(&e.data[..parts.data_len], &p.data[..]);
        let (s_at, s_n) = parts.scales.unwrap();
        assert_eq!(&e.data[s_at..s_at + 2 * s_n], &le(&p.scales, f16::to_le_bytes)[..]);
        let err = linear_weight("big", &[1e6, 0.0], 1, 2, Precision::Int4).unwrap_err();
        assert!(err.to_string().contains("big"), "{err}");
    }

    #[test]
    fn non_finite_weights_are_refused_by_name() {
        let err = linear_weight("enc.w", &[1.0, f32::NAN], 1, 2, Precision::Int8).unwrap_err();
        assert!(err.to_string().contains("enc.w"), "{err}");
    }
}
