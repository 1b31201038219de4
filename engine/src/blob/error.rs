//! Why a blob was refused. Each variant is one rule of docs/FORMAT.md (the rule id is in its
//! doc comment and its message), so a user can look the problem up and a test can target it.

use super::format::{Encoding, Layout};
use std::path::PathBuf;

/// Where a malformed name sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Metadata,
    Tensor,
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Metadata => "metadata entry",
            Self::Tensor => "tensor entry",
        })
    }
}

/// The value type a metadata key holds or was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    U64,
    F64,
    Bool,
    Str,
    StrList,
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::U64 => "u64",
            Self::F64 => "f64",
            Self::Bool => "bool",
            Self::Str => "str",
            Self::StrList => "str[]",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The path names nothing.
    #[error("{path} does not exist: give the path of a `.ebq` blob written by `edgebert convert`")]
    NotFound { path: PathBuf },
    /// A folder where a blob file is expected; usually a Hugging Face checkpoint.
    #[error("{}", DirectoryHint { path, checkpoint: *checkpoint })]
    IsDirectory { path: PathBuf, checkpoint: bool },
    #[error("cannot open blob {path}")]
    Io { path: PathBuf, source: std::io::Error },
    /// H1
    #[error("H1: the file is {len} bytes, shorter than the 64-byte header: it is not a blob, or a truncated copy of one (rule H1 in docs/FORMAT.md)")]
    TooShort { len: usize },
    /// H2
    #[error("H2: not an edgebert blob (magic bytes {found:02x?}): {looks_like} (rule H2 in docs/FORMAT.md)")]
    BadMagic { found: [u8; 8], looks_like: ForeignFile },
    /// H3
    #[error("H3: blob format version {found}, this engine reads versions 1 to {supported}: convert the checkpoint again with this edgebert, or run the blob with the edgebert that wrote it (rule H3 in docs/FORMAT.md)")]
    UnsupportedVersion { found: u32, supported: u32 },
    /// H4
    #[error("H4: header byte {offset} is reserved and must be zero{}", Damaged("H4"))]
    ReservedNotZero { offset: usize },
    /// H5
    #[error(
        "H5: the header says the file is {expected} bytes but it is {found} (truncated or appended to){}",
        Damaged("H5")
    )]
    FileLength { expected: u64, found: u64 },
    /// H6
    #[error("H6: the index declares {what} = {found}, above the limit {max}{}", Damaged("H6"))]
    IndexTooLarge { what: &'static str, found: u64, max: u64 },
    /// H7
    #[error("H7: an index of {index_len} bytes does not fit in a file of {file_len} bytes{}", Damaged("H7"))]
    IndexOutOfBounds { index_len: u64, file_len: u64 },
    /// H8
    #[error("H8: header/index checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the file is corrupted{}", Damaged("H8"))]
    IndexChecksum { stored: u32, computed: u32 },
    /// I1
    #[error(
        "I1: {kind} {entry} runs past the end of the index (reading {field} at index byte {at}){}",
        Damaged("I1")
    )]
    IndexTruncated { kind: EntryKind, entry: usize, field: &'static str, at: usize },
    /// I2
    #[error("I2: {unused} bytes left in the index after the last entry{}", Damaged("I2"))]
    IndexTrailingBytes { unused: usize },
    /// M1
    #[error(
        "M1: metadata key {entry} is {len} bytes or not UTF-8 (1..=128 bytes of UTF-8 required){}",
        Damaged("M1")
    )]
    BadKey { entry: usize, len: usize },
    /// M2
    #[error("M2: metadata key `{key}` appears twice{}", Damaged("M2"))]
    DuplicateKey { key: String },
    /// M3
    #[error("M3: metadata key `{key}` has unknown value type {code}{}", Damaged("M3"))]
    UnknownValueType { key: String, code: u8 },
    /// M4
    #[error("M4: metadata key `{key}` holds an invalid {value_type} value{}", Damaged("M4"))]
    BadValue { key: String, value_type: ValueType },
    /// T1
    #[error(
        "T1: tensor name {entry} is {len} bytes or not UTF-8 (1..=256 bytes of UTF-8 required){}",
        Damaged("T1")
    )]
    BadName { entry: usize, len: usize },
    /// T2
    #[error("T2: tensor `{name}` appears twice{}", Damaged("T2"))]
    DuplicateName { name: String },
    /// T3
    #[error("T3: tensor `{name}` has encoding code {code}, which format version {version} does not define (version 1: 1 f32, 2 f16, 3 i8_channel, 4 i8_row, 5 u8; version 2 adds 6 i4_group, 7 i4_row_group){}", Damaged("T3"))]
    UnknownEncoding { name: String, code: u8, version: u32 },
    /// T4
    #[error("T4: tensor `{name}`: encoding {encoding} does not allow layout code {layout}{}", Damaged("T4"))]
    UnsupportedLayout { name: String, encoding: Encoding, layout: u8 },
    /// T5
    #[error(
        "T5: tensor `{name}`: rank {rank} is not allowed for {encoding} in layout {layout}{}",
        Damaged("T5")
    )]
    BadRank { name: String, encoding: Encoding, layout: Layout, rank: usize },
    /// T6
    #[error(
        "T6: tensor `{name}`: shape {shape:?} has a zero dimension or a size that overflows{}",
        Damaged("T6")
    )]
    BadShape { name: String, shape: Vec<u64> },
    /// T7
    #[error(
        "T7: tensor `{name}` stores {found} bytes, its encoding and shape need {expected}{}",
        Damaged("T7")
    )]
    ByteLength { name: String, expected: u64, found: u64 },
    /// T8
    #[error("T8: tensor `{name}` starts at offset {offset}, not a multiple of 64{}", Damaged("T8"))]
    Misaligned { name: String, offset: u64 },
    /// T9
    #[error("T9: tensor `{name}` bytes [{offset}, +{len}) fall outside the data section [{data_offset}, {file_len}){}", Damaged("T9"))]
    OutOfBounds { name: String, offset: u64, len: u64, data_offset: u64, file_len: u64 },
    /// T10
    #[error("T10: tensor `{name}` starts at {offset}; tensors are packed in order, so it must start at {expected}{}", Damaged("T10"))]
    Placement { name: String, offset: u64, expected: u64 },
    /// T11
    #[error("T11: the data ends at {data_end} but the file is {file_len} bytes{}", Damaged("T11"))]
    DataEnd { data_end: u64, file_len: u64 },
    /// D1
    #[error("D1: tensor `{name}` data checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the weights are corrupted{}", Damaged("D1"))]
    DataChecksum { name: String, stored: u32, computed: u32 },
    /// D2
    #[error("D2: padding byte at offset {offset} is not zero: the file is corrupted{}", Damaged("D2"))]
    NonZeroPadding { offset: u64 },
    #[error("{what}: a blob must start at a multiple of {align} bytes (copy it into malloc'd memory; in an APK, store it uncompressed and run `zipalign 4`)")]
    UnalignedBuffer { what: String, align: usize },
    #[error("the blob has no tensor `{name}`")]
    MissingTensor { name: String },
    #[error("tensor `{name}` is {found}, expected {expected}")]
    WrongEncoding { name: String, expected: &'static str, found: Encoding },
    #[error("the blob has no metadata key `{key}` (FORMAT.md §3.1)")]
    MissingMetadata { key: &'static str },
    #[error("metadata key `{key}` holds a {found}, expected a {expected}")]
    MetadataType { key: String, expected: ValueType, found: ValueType },
    #[error("metadata key `{key}`: {problem}")]
    InvalidMetadata { key: &'static str, problem: &'static str },
}

/// The plain sentence after a structural rule's code: what happened and what to do.
struct Damaged(&'static str);

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            ". The file is damaged or was not written by `edgebert convert`: copy it again or convert \
             the checkpoint again (rule {} in docs/FORMAT.md)",
            self.0
        )
    }
}

struct DirectoryHint<'a> {
    path: &'a std::path::Path,
    checkpoint: bool,
}

impl std::fmt::Display for DirectoryHint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.path.display();
        if self.checkpoint {
            write!(
                f,
                "{p} is a checkpoint directory, not a blob: run `edgebert convert {p} -o model.ebq` \
                 and use model.ebq, or pass the directory to classify/embed directly"
            )
        } else {
            write!(f, "{p} is a directory, not a blob: give the path of a `.ebq` file written by `edgebert convert`")
        }
    }
}

/// What a file that is not a blob seems to be, from its first bytes: the H2 error says what to
/// pass instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForeignFile {
    /// An 8-byte little-endian header length then `{`: a `model.safetensors`.
    Safetensors,
    /// Starts with `{` or `[` after white space: `config.json`, `tokenizer.json`.
    Json,
    Unknown,
}

impl ForeignFile {
    pub fn guess(bytes: &[u8]) -> ForeignFile {
        let header_len = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0xff; 8])));
        let after_len = bytes.get(8).copied();
        if matches!((header_len, after_len), (Some(n), Some(b'{')) if n > 0 && n < bytes.len() as u64) {
            return ForeignFile::Safetensors;
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | Some(b'[') => ForeignFile::Json,
            _ => ForeignFile::Unknown,
        }
    }
}

impl std::fmt::Display for ForeignFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Safetensors => {
                "this is a safetensors file: pass the checkpoint folder that holds it (with config.json) \
                 to classify/embed, or convert that folder with `edgebert convert DIR -o model.ebq`"
            }
            Self::Json => {
                "this is a JSON file: pass the checkpoint folder that holds it to classify/embed, or \
                 convert that folder with `edgebert convert DIR -o model.ebq`"
            }
            Self::Unknown => "give a `.ebq` blob written by `edgebert convert`",
        })
    }
}
