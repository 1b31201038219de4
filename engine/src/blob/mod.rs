//! The blob reader: open a `.ebq` file (docs/FORMAT.md), validate its structure, and hand out
//! typed views of its tensors without copying.
//!
//! Opening maps the file and validates only the header and index (their checksum included), so
//! it costs the same for a 2 MB or a 400 MB model; tensor data is read by the kernels straight
//! from the mapping. [`Blob::verify`] checks every tensor's checksum on demand.
//!
//! The reader never panics and never reads out of bounds, whatever the bytes: every rule of
//! FORMAT.md is one [`BlobError`] variant. `tests/blob_rules.rs` has one test per rule; the
//! parser is fuzzed (`fuzz/`).

mod crc32c;
pub mod encode;
mod error;
pub mod format;
mod index;
mod meta;
mod source;

pub use crc32c::{crc32c, Crc32c};
pub use error::{BlobError, EntryKind, ForeignFile, ValueType};
pub use format::{Encoding, Layout, Parts};
pub use index::{parse, Index, MetaValue, TensorInfo};
pub use meta::{HeadType, Metadata, ModelInfo, TOKENIZER_JSON, TOKENIZER_VOCAB};

use crate::mmap::MappedFile;
use half::f16;
use std::path::Path;

/// Where a blob's first byte must sit in memory for [`Blob::from_static`] and in its file for
/// [`Blob::open_fd_region`]: tensors start at 64-byte offsets from it and are read as f32, i32
/// and f16 slices, so 4 suffices (a mapped file starts on a page, a copy on 8).
pub const BUFFER_ALIGN: usize = 4;

enum Storage {
    Mapped(MappedFile),
    /// The caller's bytes, used in place (a blob embedded in the binary, or handed over by a C
    /// or JNI caller who keeps it alive for as long as the model).
    Borrowed(&'static [u8]),
    /// A copy in `u64`s, so every 64-byte-aligned offset is aligned for f32/i32/f16 views.
    Owned {
        words: Vec<u64>,
        len: usize,
    },
}

/// An open, validated blob.
pub struct Blob {
    storage: Storage,
    index: Index,
}

/// A tensor's values, typed by encoding; every slice borrows the blob's bytes.
#[derive(Clone, Copy, Debug)]
pub enum TensorData<'a> {
    F32(&'a [f32]),
    F16(&'a [f16]),
    /// Linear weight: int8 values, one f32 scale and one i32 column sum per output channel
    /// (padded to 16 in the `panel16` layout).
    I8Channel {
        data: &'a [i8],
        scales: &'a [f32],
        col_sums: &'a [i32],
    },
    /// Embedding table: int8 values and one f32 scale per row.
    I8Row {
        data: &'a [i8],
        scales: &'a [f32],
    },
    U8(&'a [u8]),
    /// Linear weight, int4 in groups of 32 inputs: packed nibbles, one f16 scale per (output
    /// channel, group) and one f32 dequantized row sum per output channel (`panel16` padded).
    I4Group {
        data: &'a [u8],
        scales: &'a [f16],
        w_sums: &'a [f32],
    },
    /// Embedding table, int4 in groups of 32 columns: nibbles in element order, two per byte
    /// (`ceil(cols / 2)` bytes a row), and one f16 scale per (row, group). Read a row with
    /// [`i4_table_row`].
    I4RowGroup {
        data: &'a [u8],
        scales: &'a [f16],
    },
}

/// Row `r` of an `i4_row_group` table `cols` wide, dequantized: `(nibble - 8) · f32(scale)`
/// (FORMAT.md §5), which is exact in f32 (a 4-bit integer times an 11-bit significand). A row
/// outside the arrays gives zeros (the reader checked the lengths against the shape, so only a
/// caller's wrong `r` or `cols` can get there).
pub fn i4_table_row<'a>(
    data: &'a [u8],
    scales: &'a [f16],
    cols: usize,
    r: usize,
) -> impl Iterator<Item = f32> + 'a {
    let g = cols.div_ceil(32);
    let row = |len: usize| r.checked_mul(len).and_then(|a| Some(a..a.checked_add(len)?));
    let bytes = row(cols.div_ceil(2)).and_then(|span| data.get(span)).unwrap_or(&[]);
    let scales = row(g).and_then(|span| scales.get(span)).unwrap_or(&[]);
    (0..cols).map(move |c| {
        let byte = bytes.get(c / 2).copied().unwrap_or(0x88);
        let nibble = if c % 2 == 0 { byte & 0x0F } else { byte >> 4 };
        (i32::from(nibble) - 8) as f32 * scales.get(c / 32).map_or(0.0, |s| s.to_f32())
    })
}

/// A tensor's table-of-contents entry and its data.
#[derive(Clone, Copy, Debug)]
pub struct Tensor<'a> {
    pub info: &'a TensorInfo,
    pub data: TensorData<'a>,
}

impl Blob {
    /// Maps `path` and validates it (FORMAT.md §6 steps 1–2).
    pub fn open(path: impl AsRef<Path>) -> Result<Blob, BlobError> {
        let path = path.as_ref();
        let io = |source| BlobError::Io { path: path.to_path_buf(), source };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound { path: path.to_path_buf() })
            }
            Ok(m) if m.is_dir() => {
                let checkpoint = path.join("config.json").is_file();
                return Err(BlobError::IsDirectory { path: path.to_path_buf(), checkpoint });
            }
            _ => {}
        }
        let storage = Storage::Mapped(MappedFile::open(path).map_err(io)?);
        Blob::validated(storage)
    }

    /// Maps bytes `[offset, offset + len)` of the open file `fd` and validates them: how an
    /// Android app reads a blob stored uncompressed inside its APK (`AssetFileDescriptor` gives
    /// the fd, offset and length). `offset` must be a multiple of [`BUFFER_ALIGN`] (zipalign's
    /// default 4 gives that). The fd may be closed once this returns.
    #[cfg(unix)]
    pub fn open_fd_region(fd: std::os::fd::BorrowedFd<'_>, offset: u64, len: u64) -> Result<Blob, BlobError> {
        use std::os::fd::AsRawFd;
        let what = || format!("fd {} region at offset {offset}, {len} bytes", fd.as_raw_fd());
        if !offset.is_multiple_of(BUFFER_ALIGN as u64) {
            return Err(BlobError::UnalignedBuffer { what: what(), align: BUFFER_ALIGN });
        }
        let map = MappedFile::open_region(fd, offset, len)
            .map_err(|source| BlobError::Io { path: what().into(), source })?;
        Blob::validated(Storage::Mapped(map))
    }

    /// Validates `bytes` and uses them in place, without a copy: for a blob in static memory
    /// (`include_bytes!` into an aligned static) or one a foreign caller keeps alive. The first
    /// byte must sit at a multiple of [`BUFFER_ALIGN`] (the tensors' f32 views need it).
    pub fn from_static(bytes: &'static [u8]) -> Result<Blob, BlobError> {
        if !(bytes.as_ptr() as usize).is_multiple_of(BUFFER_ALIGN) {
            let what = format!("buffer at address {:p}", bytes.as_ptr());
            return Err(BlobError::UnalignedBuffer { what, align: BUFFER_ALIGN });
        }
        Blob::validated(Storage::Borrowed(bytes))
    }

    /// Validates a copy of `bytes` (tests, fuzzing, blobs embedded in a binary).
    pub fn from_bytes(bytes: &[u8]) -> Result<Blob, BlobError> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        dst[..bytes.len()].copy_from_slice(bytes);
        Blob::validated(Storage::Owned { words, len: bytes.len() })
    }

    fn validated(storage: Storage) -> Result<Blob, BlobError> {
        let index = parse(storage_bytes(&storage))?;
        Ok(Blob { storage, index })
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        storage_bytes(&self.storage)
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn tensors(&self) -> &[TensorInfo] {
        &self.index.tensors
    }

    pub fn metadata(&self) -> Metadata<'_> {
        Metadata::new(&self.index)
    }

    /// The stored bytes of a tensor (every array and the padding between them).
    pub fn raw(&self, info: &TensorInfo) -> &[u8] {
        // The index validated offset + byte_len <= file length (T9).
        self.bytes().get(info.offset..info.offset + info.byte_len).unwrap_or(&[])
    }

    /// The tensor called `name`, typed by its encoding.
    pub fn tensor(&self, name: &str) -> Result<Tensor<'_>, BlobError> {
        let info = self.index.tensor(name).ok_or_else(|| BlobError::MissingTensor { name: name.into() })?;
        self.view(info)
    }

    /// Typed view of an entry of this blob's index.
    pub fn view<'a>(&'a self, info: &'a TensorInfo) -> Result<Tensor<'a>, BlobError> {
        let raw = self.raw(info);
        let cast_err = || BlobError::Misaligned { name: info.name.clone(), offset: info.offset as u64 };
        let part = |at: usize, bytes: usize| raw.get(at..at.checked_add(bytes)?);
        let cast = |at: usize, bytes: usize| part(at, bytes).ok_or_else(cast_err);
        let p = info.parts;
        let data = match info.encoding {
            Encoding::F32 => TensorData::F32(bytemuck::try_cast_slice(raw).map_err(|_| cast_err())?),
            Encoding::F16 => TensorData::F16(bytemuck::try_cast_slice(raw).map_err(|_| cast_err())?),
            Encoding::U8 => TensorData::U8(raw),
            Encoding::I8Row | Encoding::I8Channel => {
                let data: &[i8] = bytemuck::cast_slice(cast(0, p.data_len)?);
                let (s_at, s_n) = p.scales.ok_or_else(cast_err)?;
                let scales = bytemuck::try_cast_slice(cast(s_at, s_n * 4)?).map_err(|_| cast_err())?;
                match p.col_sums {
                    Some((c_at, c_n)) => {
                        let col_sums =
                            bytemuck::try_cast_slice(cast(c_at, c_n * 4)?).map_err(|_| cast_err())?;
                        TensorData::I8Channel { data, scales, col_sums }
                    }
                    None => TensorData::I8Row { data, scales },
                }
            }
            Encoding::I4RowGroup => {
                let (s_at, s_n) = p.scales.ok_or_else(cast_err)?;
                TensorData::I4RowGroup {
                    data: cast(0, p.data_len)?,
                    scales: bytemuck::try_cast_slice(cast(s_at, s_n * 2)?).map_err(|_| cast_err())?,
                }
            }
            Encoding::I4Group => {
                let (s_at, s_n) = p.scales.ok_or_else(cast_err)?;
                let (c_at, c_n) = p.col_sums.ok_or_else(cast_err)?;
                TensorData::I4Group {
                    data: cast(0, p.data_len)?,
                    scales: bytemuck::try_cast_slice(cast(s_at, s_n * 2)?).map_err(|_| cast_err())?,
                    w_sums: bytemuck::try_cast_slice(cast(c_at, c_n * 4)?).map_err(|_| cast_err())?,
                }
            }
        };
        Ok(Tensor { info, data })
    }

    /// An f32 tensor's values (biases, LayerNorm parameters, f32 weights).
    pub fn f32(&self, name: &str) -> Result<&[f32], BlobError> {
        match self.tensor(name)? {
            Tensor { data: TensorData::F32(v), .. } => Ok(v),
            Tensor { info, .. } => {
                Err(BlobError::WrongEncoding { name: name.into(), expected: "f32", found: info.encoding })
            }
        }
    }

    /// A `u8` tensor's bytes (the tokenizer file).
    pub fn bytes_of(&self, name: &str) -> Result<&[u8], BlobError> {
        match self.tensor(name)? {
            Tensor { data: TensorData::U8(v), .. } => Ok(v),
            Tensor { info, .. } => {
                Err(BlobError::WrongEncoding { name: name.into(), expected: "u8", found: info.encoding })
            }
        }
    }

    /// D1 for one tensor.
    pub fn verify_tensor(&self, info: &TensorInfo) -> Result<(), BlobError> {
        let computed = crc32c(self.raw(info));
        if computed != info.data_crc32c {
            return Err(BlobError::DataChecksum {
                name: info.name.clone(),
                stored: info.data_crc32c,
                computed,
            });
        }
        Ok(())
    }

    /// D1 for every tensor and D2 for every padding byte: reads the whole file.
    pub fn verify(&self) -> Result<(), BlobError> {
        self.tensors().iter().try_for_each(|t| self.verify_tensor(t))?;
        let bytes = self.bytes();
        let index_end = format::HEADER_LEN + self.index.index_len;
        let mut gaps = vec![(index_end, self.index.data_offset)];
        let ends = self.tensors().iter().map(|t| t.offset + t.byte_len);
        let starts = self.tensors().iter().skip(1).map(|t| t.offset);
        gaps.extend(ends.zip(starts));
        for (from, to) in gaps {
            let gap = bytes.get(from..to).unwrap_or(&[]);
            if let Some(i) = gap.iter().position(|&b| b != 0) {
                return Err(BlobError::NonZeroPadding { offset: (from + i) as u64 });
            }
        }
        Ok(())
    }
}

fn storage_bytes(storage: &Storage) -> &[u8] {
    match storage {
        Storage::Mapped(m) => m.bytes(),
        Storage::Borrowed(bytes) => bytes,
        Storage::Owned { words, len } => {
            let all: &[u8] = bytemuck::cast_slice(words);
            &all[..*len]
        }
    }
}
