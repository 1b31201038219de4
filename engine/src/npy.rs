//! NumPy `.npy` files (format version 1.0), the matrix format every vector tool reads: written by
//! `edgebert embed --output`, read by `edgebert search --corpus`.
//!
//! The format is tiny: the magic `\x93NUMPY`, version bytes `1 0`, a little-endian `u16` header
//! length, then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }`
//! padded with spaces and ending in `\n` so that the data starts at a multiple of 64 bytes, then
//! the values in C (row-major) order. Only what edgebert writes is read back: two-dimensional,
//! C order, `<f4`, `<f2`, `|i1` or `|u1`. Anything else is an [`NpyError`], never a panic.

use half::f16;

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Data starts at a multiple of this (numpy's own writer pads to 64 since 1.x).
const ALIGN: usize = 64;

/// The element types edgebert writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F16,
    I8,
    U8,
}

impl Dtype {
    /// numpy's `descr` string (little-endian where byte order matters).
    pub fn descr(self) -> &'static str {
        match self {
            Dtype::F32 => "<f4",
            Dtype::F16 => "<f2",
            Dtype::I8 => "|i1",
            Dtype::U8 => "|u1",
        }
    }

    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 => 2,
            Dtype::I8 | Dtype::U8 => 1,
        }
    }

    fn from_descr(d: &str) -> Option<Dtype> {
        // Byte order does not matter for single bytes: numpy writes `|i1`, some tools `<i1`.
        match d {
            "<f4" => Some(Dtype::F32),
            "<f2" => Some(Dtype::F16),
            "|i1" | "<i1" | "i1" => Some(Dtype::I8),
            "|u1" | "<u1" | "u1" => Some(Dtype::U8),
            _ => None,
        }
    }
}

/// A two-dimensional matrix as stored in a `.npy` file: raw little-endian element bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyMatrix {
    pub dtype: Dtype,
    pub rows: usize,
    pub cols: usize,
    /// `rows · cols · dtype.size()` bytes, row-major.
    pub data: Vec<u8>,
}

/// Why a `.npy` file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NpyError {
    #[error("not a .npy file (no \\x93NUMPY magic)")]
    Magic,
    #[error(".npy format version {major}.{minor} is not supported (edgebert reads 1.0, 2.0 and 3.0)")]
    Version { major: u8, minor: u8 },
    #[error(".npy file truncated: {what}")]
    Truncated { what: &'static str },
    #[error(".npy header: {problem}")]
    Header { problem: String },
    #[error(".npy dtype `{descr}` is not supported: edgebert reads <f4, <f2, |i1 and |u1")]
    Dtype { descr: String },
    #[error(".npy data is {found} bytes; shape ({rows}, {cols}) of {descr} needs {expected}")]
    DataLength { rows: usize, cols: usize, descr: &'static str, expected: usize, found: usize },
}

/// The bytes of a `.npy` file holding `rows × cols` elements of `dtype` (`data` as in
/// [`NpyMatrix::data`]).
///
/// # Panics
/// If `data` does not hold exactly `rows · cols` elements (a caller's bug, not user input).
pub fn encode(dtype: Dtype, rows: usize, cols: usize, data: &[u8]) -> Vec<u8> {
    assert_eq!(data.len(), rows * cols * dtype.size(), "npy::encode: data does not match the shape");
    let dict =
        format!("{{'descr': '{}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}", dtype.descr());
    // magic (6) + version (2) + header length (2) + dict + padding + '\n'
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    let total = unpadded.div_ceil(ALIGN) * ALIGN;
    let header_len = total - MAGIC.len() - 4;
    let mut out = Vec::with_capacity(total + data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out.extend_from_slice(data);
    out
}

/// `f32` rows as a `.npy` file.
pub fn encode_f32(rows: usize, cols: usize, values: &[f32]) -> Vec<u8> {
    encode(Dtype::F32, rows, cols, bytemuck::cast_slice(values))
}

/// Parses a `.npy` file's bytes (versions 1.0, 2.0 and 3.0; two-dimensional, C order).
pub fn decode(bytes: &[u8]) -> Result<NpyMatrix, NpyError> {
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(if bytes.len() >= MAGIC.len() && &bytes[..MAGIC.len()] == MAGIC {
            NpyError::Truncated { what: "version" }
        } else {
            NpyError::Magic
        });
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyError::Version { major, minor }),
    };
    let len_field = bytes.get(8..8 + len_bytes).ok_or(NpyError::Truncated { what: "header length" })?;
    let header_len = len_field.iter().rev().fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let start = 8 + len_bytes;
    let header = start
        .checked_add(header_len)
        .and_then(|end| bytes.get(start..end))
        .ok_or(NpyError::Truncated { what: "header" })?;
    let header =
        std::str::from_utf8(header).map_err(|_| NpyError::Header { problem: "not UTF-8 / ASCII".into() })?;
    let (dtype, rows, cols) = parse_header(header)?;
    let data = &bytes[start + header_len..];
    let expected = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(dtype.size()))
        .ok_or_else(|| NpyError::Header { problem: format!("shape ({rows}, {cols}) is too large") })?;
    if data.len() != expected {
        return Err(NpyError::DataLength { rows, cols, descr: dtype.descr(), expected, found: data.len() });
    }
    Ok(NpyMatrix { dtype, rows, cols, data: data.to_vec() })
}

impl NpyMatrix {
    /// The values widened to `f32` (f16 exactly; int8 and uint8 as their integer values).
    pub fn to_f32(&self) -> Vec<f32> {
        match self.dtype {
            Dtype::F32 => {
                self.data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
            }
            Dtype::F16 => {
                self.data.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
            }
            Dtype::I8 => self.data.iter().map(|&b| b as i8 as f32).collect(),
            Dtype::U8 => self.data.iter().map(|&b| b as f32).collect(),
        }
    }
}

/// The dtype and shape of a header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
fn parse_header(h: &str) -> Result<(Dtype, usize, usize), NpyError> {
    let bad = |problem: &str| NpyError::Header { problem: problem.to_string() };
    let descr = quoted_value(h, "descr").ok_or_else(|| bad("no 'descr' entry"))?;
    let dtype = Dtype::from_descr(descr).ok_or_else(|| NpyError::Dtype { descr: descr.to_string() })?;
    let fortran = raw_value(h, "fortran_order").ok_or_else(|| bad("no 'fortran_order' entry"))?;
    if fortran.starts_with("True") {
        return Err(bad("Fortran (column-major) order is not supported: save with np.ascontiguousarray"));
    }
    let shape = raw_value(h, "shape").ok_or_else(|| bad("no 'shape' entry"))?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split_once(')'))
        .map(|(inside, _)| inside)
        .ok_or_else(|| bad("'shape' is not a tuple"))?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("'shape' holds something other than integers")))
        .collect::<Result<_, _>>()?;
    match dims[..] {
        [rows, cols] => Ok((dtype, rows, cols)),
        _ => Err(NpyError::Header {
            problem: format!("shape has {} dimensions; edgebert reads matrices (rows, cols)", dims.len()),
        }),
    }
}

/// The text after `'key':` (trimmed at the start).
fn raw_value<'h>(h: &'h str, key: &str) -> Option<&'h str> {
    let at = h.find(&format!("'{key}'"))? + key.len() + 2;
    Some(h[at..].trim_start().strip_prefix(':')?.trim_start())
}

/// The string value of `'key': '...'`.
fn quoted_value<'h>(h: &'h str, key: &str) -> Option<&'h str> {
    let v = raw_value(h, key)?;
    let quote = v.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    v[1..].split(quote).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alignment() {
        let values = [1.0f32, -2.5, 3.25, 0.0, 7.0, -0.125];
        let bytes = encode_f32(2, 3, &values);
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0, "data must start 64-byte aligned");
        assert_eq!(bytes[10 + header_len - 1], b'\n');
        let m = decode(&bytes).unwrap();
        assert_eq!((m.dtype, m.rows, m.cols), (Dtype::F32, 2, 3));
        assert_eq!(m.to_f32(), values);
    }

    #[test]
    fn reads_numpy_spellings_and_rejects_the_rest() {
        let file = |dict: &str, data: &[u8]| {
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
            b.extend_from_slice(dict.as_bytes());
            b.extend_from_slice(data);
            b
        };
        let ok = file("{'descr': '<i1', 'fortran_order': False, 'shape': (1, 2), }\n", &[0xff, 1]);
        let m = decode(&ok).unwrap();
        assert_eq!((m.dtype, m.to_f32()), (Dtype::I8, vec![-1.0, 1.0]));
        let cases: [(&[u8], &str); 6] = [
            (b"PK\x03\x04", "magic"),
            (&file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", &[0; 8]), "<f8"),
            (&file("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", &[0; 4]), "Fortran"),
            (&file("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", &[0; 16]), "1 dimensions"),
            (&file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", &[0; 12]), "needs 16"),
            (&ok[..12], "truncated"),
        ];
        for (bytes, want) in cases {
            let err = decode(bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{want}: {err}");
        }
    }

    #[test]
    fn huge_shapes_do_not_overflow() {
        let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", usize::MAX, 3);
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        b.extend_from_slice(dict.as_bytes());
        assert!(decode(&b).unwrap_err().to_string().contains("too large"));
    }
}
