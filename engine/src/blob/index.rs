//! Parsing and validating the header and index of a blob (docs/FORMAT.md §2–§4, §6 steps 1–2).
//!
//! Works on a plain byte slice and never touches tensor data, so the cost of opening a blob is
//! proportional to its index (a few kB), not to its weights. Every read goes through
//! [`Cursor`], which returns an error instead of indexing past the end; every size computation
//! is checked.

use super::crc32c::Crc32c;
use super::error::{BlobError, EntryKind, ForeignFile, ValueType};
use super::format::{self, Encoding, Layout, Parts};
use std::collections::{BTreeMap, BTreeSet};

/// A typed metadata value (FORMAT.md §3).
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(String),
    StrList(Vec<String>),
}

impl MetaValue {
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::U64(_) => ValueType::U64,
            Self::F64(_) => ValueType::F64,
            Self::Bool(_) => ValueType::Bool,
            Self::Str(_) => ValueType::Str,
            Self::StrList(_) => ValueType::StrList,
        }
    }

    pub fn code(&self) -> u8 {
        match self {
            Self::U64(_) => 1,
            Self::F64(_) => 2,
            Self::Bool(_) => 3,
            Self::Str(_) => 4,
            Self::StrList(_) => 5,
        }
    }
}

/// One validated table-of-contents entry.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub encoding: Encoding,
    pub layout: Layout,
    pub shape: Vec<usize>,
    /// Absolute byte offset in the file (a multiple of 64).
    pub offset: usize,
    pub byte_len: usize,
    pub data_crc32c: u32,
    /// Where the tensor's arrays sit, relative to `offset`.
    pub parts: Parts,
}

/// The validated header and index of a blob.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub version: u32,
    pub file_len: usize,
    pub data_offset: usize,
    pub index_len: usize,
    pub metadata: Vec<(String, MetaValue)>,
    pub tensors: Vec<TensorInfo>,
    by_name: BTreeMap<String, usize>,
}

impl Index {
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.by_name.get(name).and_then(|&i| self.tensors.get(i))
    }

    pub fn meta(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Validates everything FORMAT.md asks of a blob at open: header, index checksum, metadata and
/// tensor entries and their placement. `bytes` is the whole file.
pub fn parse(bytes: &[u8]) -> Result<Index, BlobError> {
    // H1: after this check the fixed-offset header reads below are in bounds.
    let Some(header) = bytes.get(..format::HEADER_LEN) else {
        return Err(BlobError::TooShort { len: bytes.len() });
    };
    let mut magic = [0u8; 8];
    magic.copy_from_slice(&header[..8]);
    if magic != format::MAGIC {
        return Err(BlobError::BadMagic { found: magic, looks_like: ForeignFile::guess(bytes) });
    }
    let version = le_u32(header, 8);
    if !(format::MIN_VERSION..=format::VERSION).contains(&version) {
        return Err(BlobError::UnsupportedVersion { found: version, supported: format::VERSION });
    }
    let reserved = (12..16).chain(40..60);
    if let Some(offset) = reserved.into_iter().find(|&i| header[i] != 0) {
        return Err(BlobError::ReservedNotZero { offset });
    }
    let file_len = le_u64(header, 16);
    if file_len != bytes.len() as u64 {
        return Err(BlobError::FileLength { expected: file_len, found: bytes.len() as u64 });
    }
    let index_len64 = le_u64(header, 24);
    let metadata_count = le_u32(header, 32);
    let tensor_count = le_u32(header, 36);
    for (what, found, max) in [
        ("index_len", index_len64, format::MAX_INDEX_LEN),
        ("tensor_count", tensor_count as u64, format::MAX_TENSORS as u64),
        ("metadata_count", metadata_count as u64, format::MAX_METADATA as u64),
    ] {
        if found > max {
            return Err(BlobError::IndexTooLarge { what, found, max });
        }
    }
    // index_len <= 16 MiB, so these cannot overflow; data_offset <= file_len = bytes.len().
    let index_len = index_len64 as usize;
    let index_end = format::HEADER_LEN + index_len;
    let data_offset = format::align64(index_end).unwrap_or(usize::MAX);
    if data_offset > bytes.len() {
        return Err(BlobError::IndexOutOfBounds { index_len: index_len64, file_len });
    }
    let index = &bytes[format::HEADER_LEN..index_end];
    let mut crc = Crc32c::new();
    crc.update(&header[..format::CHECKSUM_AT]);
    crc.update(index);
    let (stored, computed) = (le_u32(header, format::CHECKSUM_AT), crc.finish());
    if stored != computed {
        return Err(BlobError::IndexChecksum { stored, computed });
    }

    let mut cur = Cursor { buf: index, pos: 0, kind: EntryKind::Metadata, entry: 0 };
    let metadata = parse_metadata(&mut cur, metadata_count as usize)?;
    cur.kind = EntryKind::Tensor;
    let ctx = DataBounds { data_offset, file_len: bytes.len() };
    // A tensor entry takes at least 32 bytes, so the index bounds how many can really follow;
    // a hostile count with a valid checksum must not reserve memory for entries that are not there.
    let mut tensors = Vec::with_capacity((tensor_count as usize).min(index.len() / 32));
    let mut by_name = BTreeMap::new();
    for entry in 0..tensor_count as usize {
        cur.entry = entry;
        let info = parse_tensor(&mut cur, entry, &ctx, version)?;
        if by_name.insert(info.name.clone(), entry).is_some() {
            return Err(BlobError::DuplicateName { name: info.name });
        }
        tensors.push(info);
    }
    if cur.pos != index.len() {
        return Err(BlobError::IndexTrailingBytes { unused: index.len() - cur.pos });
    }
    let mut expected = data_offset;
    for t in &tensors {
        if t.offset != expected {
            return Err(BlobError::Placement {
                name: t.name.clone(),
                offset: t.offset as u64,
                expected: expected as u64,
            });
        }
        // T9 holds, so offset + byte_len <= file_len and align64 cannot overflow in practice.
        expected = format::align64(t.offset + t.byte_len).unwrap_or(usize::MAX);
    }
    let data_end = tensors.last().map_or(data_offset, |t| t.offset + t.byte_len);
    if data_end != bytes.len() {
        return Err(BlobError::DataEnd { data_end: data_end as u64, file_len });
    }
    Ok(Index { version, file_len: bytes.len(), data_offset, index_len, metadata, tensors, by_name })
}

struct DataBounds {
    data_offset: usize,
    file_len: usize,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    kind: EntryKind,
    entry: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], BlobError> {
        let truncated =
            || BlobError::IndexTruncated { kind: self.kind, entry: self.entry, field, at: self.pos };
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let slice = self.buf.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], BlobError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, field)?);
        Ok(a)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, BlobError> {
        Ok(self.array::<1>(field)?[0])
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, BlobError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, BlobError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, BlobError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// A `u32`-length-prefixed UTF-8 string; `None` when it is not UTF-8.
    fn string(&mut self, field: &'static str) -> Result<Option<String>, BlobError> {
        let len = self.u32(field)? as usize;
        let bytes = self.take(len, field)?;
        Ok(std::str::from_utf8(bytes).ok().map(str::to_owned))
    }
}

fn parse_metadata(cur: &mut Cursor<'_>, count: usize) -> Result<Vec<(String, MetaValue)>, BlobError> {
    let mut entries = Vec::with_capacity(count);
    let mut seen = BTreeSet::new();
    for entry in 0..count {
        cur.entry = entry;
        let len = cur.u16("key_len")? as usize;
        let raw = cur.take(len, "key")?;
        let key = match std::str::from_utf8(raw) {
            Ok(k) if (1..=format::MAX_KEY_LEN).contains(&len) => k.to_owned(),
            _ => return Err(BlobError::BadKey { entry, len }),
        };
        if !seen.insert(key.clone()) {
            return Err(BlobError::DuplicateKey { key });
        }
        let code = cur.u8("value_type")?;
        let bad = |value_type| BlobError::BadValue { key: key.clone(), value_type };
        let value = match code {
            1 => MetaValue::U64(cur.u64("value")?),
            2 => MetaValue::F64(f64::from_le_bytes(cur.array("value")?)),
            3 => match cur.u8("value")? {
                0 => MetaValue::Bool(false),
                1 => MetaValue::Bool(true),
                _ => return Err(bad(ValueType::Bool)),
            },
            4 => MetaValue::Str(cur.string("value")?.ok_or_else(|| bad(ValueType::Str))?),
            5 => {
                let n = cur.u32("count")?;
                // No capacity from `n`: a hostile count must not allocate; the index bounds it.
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(cur.string("item")?.ok_or_else(|| bad(ValueType::StrList))?);
                }
                MetaValue::StrList(items)
            }
            _ => return Err(BlobError::UnknownValueType { key, code }),
        };
        entries.push((key, value));
    }
    Ok(entries)
}

fn parse_tensor(
    cur: &mut Cursor<'_>,
    entry: usize,
    ctx: &DataBounds,
    version: u32,
) -> Result<TensorInfo, BlobError> {
    let len = cur.u16("name_len")? as usize;
    let raw = cur.take(len, "name")?;
    let name = match std::str::from_utf8(raw) {
        Ok(n) if (1..=format::MAX_NAME_LEN).contains(&len) => n.to_owned(),
        _ => return Err(BlobError::BadName { entry, len }),
    };
    let code = cur.u8("encoding")?;
    let layout_code = cur.u8("layout")?;
    let rank = cur.u8("rank")? as usize;
    // An encoding newer than the file's version is as unknown to that version as any other.
    let Some(encoding) = Encoding::from_code(code).filter(|e| e.since() <= version) else {
        return Err(BlobError::UnknownEncoding { name, code, version });
    };
    let layout = match Layout::from_code(layout_code).filter(|&l| encoding.allows_layout(l)) {
        Some(l) => l,
        None => return Err(BlobError::UnsupportedLayout { name, encoding, layout: layout_code }),
    };
    if !encoding.allows_rank(layout, rank) {
        return Err(BlobError::BadRank { name, encoding, layout, rank });
    }
    let mut dims = Vec::with_capacity(rank);
    for _ in 0..rank {
        dims.push(cur.u64("shape")?);
    }
    let offset = cur.u64("offset")?;
    let byte_len = cur.u64("byte_len")?;
    let data_crc32c = cur.u32("data_crc32c")?;
    let shape: Option<Vec<usize>> =
        dims.iter().map(|&d| usize::try_from(d).ok().filter(|&d| d > 0)).collect();
    let Some((shape, parts)) = shape.and_then(|s| format::parts(encoding, layout, &s).map(|p| (s, p))) else {
        return Err(BlobError::BadShape { name, shape: dims });
    };
    if parts.byte_len as u64 != byte_len {
        return Err(BlobError::ByteLength { name, expected: parts.byte_len as u64, found: byte_len });
    }
    if offset % format::ALIGN as u64 != 0 {
        return Err(BlobError::Misaligned { name, offset });
    }
    let inside = offset >= ctx.data_offset as u64
        && offset.checked_add(byte_len).is_some_and(|end| end <= ctx.file_len as u64);
    if !inside {
        return Err(BlobError::OutOfBounds {
            name,
            offset,
            len: byte_len,
            data_offset: ctx.data_offset as u64,
            file_len: ctx.file_len as u64,
        });
    }
    // Inside a file we hold in memory, so both fit in usize.
    Ok(TensorInfo {
        name,
        encoding,
        layout,
        shape,
        offset: offset as usize,
        byte_len: parts.byte_len,
        data_crc32c,
        parts,
    })
}
