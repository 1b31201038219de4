//! Byte-level encoding of a blob's header and index (docs/FORMAT.md §2–§4), the mirror of
//! [`super::index::parse`]. The converter writes blobs with [`plan`]; tests and fuzz seeds use
//! the raw pieces ([`RawTensor`], [`write_index`], [`write_header`], [`seal`]) to build files that
//! break exactly one rule. Nothing here validates: that is the reader's job.

use super::crc32c::Crc32c;
use super::format::{self, Encoding, Layout};
use super::index::MetaValue;

/// A tensor entry with every field as stored, so a test can write any value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawTensor {
    pub name: Vec<u8>,
    pub encoding: u8,
    pub layout: u8,
    pub shape: Vec<u64>,
    pub offset: u64,
    pub byte_len: u64,
    pub data_crc32c: u32,
}

/// Appends one metadata entry. Keys longer than `u16::MAX` bytes are cut (the reader rejects
/// anything above 128 anyway).
pub fn write_meta(out: &mut Vec<u8>, key: &[u8], value: &MetaValue) {
    let key = &key[..key.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(key);
    out.push(value.code());
    let put_str = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    match value {
        MetaValue::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
        MetaValue::Bool(v) => out.push(u8::from(*v)),
        MetaValue::Str(s) => put_str(out, s),
        MetaValue::StrList(items) => {
            out.extend_from_slice(&(items.len() as u32).to_le_bytes());
            for s in items {
                put_str(out, s);
            }
        }
    }
}

/// Appends one tensor entry.
pub fn write_tensor(out: &mut Vec<u8>, t: &RawTensor) {
    let name = &t.name[..t.name.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&[t.encoding, t.layout, t.shape.len().min(255) as u8]);
    for d in t.shape.iter().take(255) {
        out.extend_from_slice(&d.to_le_bytes());
    }
    out.extend_from_slice(&t.offset.to_le_bytes());
    out.extend_from_slice(&t.byte_len.to_le_bytes());
    out.extend_from_slice(&t.data_crc32c.to_le_bytes());
}

/// The index: metadata entries then tensor entries.
pub fn write_index(metadata: &[(String, MetaValue)], tensors: &[RawTensor]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in metadata {
        write_meta(&mut out, k.as_bytes(), v);
    }
    for t in tensors {
        write_tensor(&mut out, t);
    }
    out
}

/// A header with the given fields and a zero checksum (fill it with [`seal`]).
pub fn write_header(file_len: u64, index_len: u64, metadata_count: u32, tensor_count: u32) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[..8].copy_from_slice(&format::MAGIC);
    h[8..12].copy_from_slice(&format::VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&file_len.to_le_bytes());
    h[24..32].copy_from_slice(&index_len.to_le_bytes());
    h[32..36].copy_from_slice(&metadata_count.to_le_bytes());
    h[36..40].copy_from_slice(&tensor_count.to_le_bytes());
    h
}

/// Recomputes the header/index checksum (H8) of a file whose header declares `index_len`, so a
/// test can change a field and still reach the rule it targets. Files too short for their
/// header or index are left as they are.
pub fn seal(file: &mut [u8]) {
    let Some(len_bytes) = file.get(24..32) else { return };
    let mut a = [0u8; 8];
    a.copy_from_slice(len_bytes);
    let Some(end) = usize::try_from(u64::from_le_bytes(a)).ok().and_then(|l| l.checked_add(64)) else {
        return;
    };
    let Some(index) = file.get(64..end) else { return };
    let mut crc = Crc32c::new();
    crc.update(&file[..format::CHECKSUM_AT]);
    crc.update(index);
    let sum = crc.finish();
    file[format::CHECKSUM_AT..64].copy_from_slice(&sum.to_le_bytes());
}

/// One tensor the writer is about to store; its data bytes are already encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntrySpec {
    pub name: String,
    pub encoding: Encoding,
    pub layout: Layout,
    pub shape: Vec<usize>,
    pub byte_len: usize,
    pub data_crc32c: u32,
}

/// Where everything goes: `prefix` is the header, index and padding up to the first tensor;
/// tensor `i` is written at `offsets[i]`, zero padding between; the file is `file_len` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePlan {
    pub prefix: Vec<u8>,
    pub offsets: Vec<usize>,
    pub file_len: usize,
}

/// Lays out a valid blob (T8, T10, T11) and encodes its header and index.
pub fn plan(metadata: &[(String, MetaValue)], entries: &[EntrySpec]) -> FilePlan {
    let raw = |e: &EntrySpec, offset: usize| RawTensor {
        name: e.name.as_bytes().to_vec(),
        encoding: e.encoding.code(),
        layout: e.layout.code(),
        shape: e.shape.iter().map(|&d| d as u64).collect(),
        offset: offset as u64,
        byte_len: e.byte_len as u64,
        data_crc32c: e.data_crc32c,
    };
    // Offsets have a fixed width, so the index length does not depend on their values.
    let probe: Vec<RawTensor> = entries.iter().map(|e| raw(e, 0)).collect();
    let index_len = write_index(metadata, &probe).len();
    let align = |x: usize| x.div_ceil(format::ALIGN) * format::ALIGN;
    let mut offsets = Vec::with_capacity(entries.len());
    let mut at = align(format::HEADER_LEN + index_len);
    let mut file_len = at;
    for e in entries {
        offsets.push(at);
        file_len = at + e.byte_len;
        at = align(file_len);
    }
    let tensors: Vec<RawTensor> = entries.iter().zip(&offsets).map(|(e, &o)| raw(e, o)).collect();
    let index = write_index(metadata, &tensors);
    let mut header =
        write_header(file_len as u64, index.len() as u64, metadata.len() as u32, entries.len() as u32);
    // The oldest version that defines every encoding used (FORMAT.md §9).
    let version = entries.iter().map(|e| e.encoding.since()).fold(format::MIN_VERSION, u32::max);
    header[8..12].copy_from_slice(&version.to_le_bytes());
    let mut prefix = header.to_vec();
    prefix.extend_from_slice(&index);
    prefix.resize(align(prefix.len()), 0);
    seal(&mut prefix);
    FilePlan { prefix, offsets, file_len }
}

/// A whole blob in memory from already-encoded tensor data (tests, small files).
pub fn assemble(metadata: &[(String, MetaValue)], tensors: &[(EntrySpec, &[u8])]) -> Vec<u8> {
    let specs: Vec<EntrySpec> = tensors.iter().map(|(e, _)| e.clone()).collect();
    let plan = plan(metadata, &specs);
    let mut file = plan.prefix;
    for ((_, data), &offset) in tensors.iter().zip(&plan.offsets) {
        file.resize(offset, 0);
        file.extend_from_slice(data);
    }
    file
}
