//! One test per rule of docs/FORMAT.md: a valid blob with exactly one thing broken must be
//! refused with that rule's error variant.

mod blob_common;

use blob_common::{f32_bytes, patch, Spec};
use edgebert_engine::blob::encode::{write_meta, RawTensor};
use edgebert_engine::blob::format::{Encoding, Layout};
use edgebert_engine::blob::{Blob, BlobError, EntryKind, MetaValue, TensorData, ValueType};

fn open(file: &[u8]) -> Result<Blob, BlobError> {
    Blob::from_bytes(file)
}

fn err(file: &[u8]) -> BlobError {
    match open(file) {
        Ok(_) => panic!("a broken blob was accepted"),
        Err(e) => e,
    }
}

fn with_tensor(edit: impl FnOnce(&mut Vec<RawTensor>)) -> Vec<u8> {
    let mut spec = Spec::valid();
    edit(&mut spec.tensors);
    spec.build()
}

#[test]
fn the_valid_blob_opens_and_its_views_hold_the_stored_values() {
    let blob = open(&Spec::valid().build()).expect("valid blob");
    assert_eq!(blob.f32("bias").unwrap(), &[0.5, -1.0, 2.0]);
    match blob.tensor("w").unwrap().data {
        TensorData::I8Channel { data, scales, col_sums } => {
            let (q, s, c) = blob_common::panel_fixture();
            assert_eq!((data, scales, col_sums), (&q[..], &s[..], &c[..]));
        }
        other => panic!("{other:?}"),
    }
    match blob.tensor("emb").unwrap().data {
        TensorData::I8Row { data, scales } => {
            assert_eq!((data, scales), (&[1, 2, 3, -4, -5, -6][..], &[0.5, 0.25][..]))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(blob.bytes_of("tok").unwrap(), b"hello");
    let m = blob.metadata();
    assert_eq!(m.u64("answer").unwrap(), 42);
    assert_eq!(m.str_list("labels").unwrap(), vec!["neg", "pos"]);
    assert!(m.bool("flag").unwrap());
    blob.verify().expect("checksums of untouched data");
}

#[test]
fn typed_lookups_name_what_is_wrong() {
    let blob = open(&Spec::valid().build()).unwrap();
    assert!(matches!(blob.tensor("nope"), Err(BlobError::MissingTensor { .. })));
    assert!(matches!(blob.f32("w"), Err(BlobError::WrongEncoding { found: Encoding::I8Channel, .. })));
    assert!(matches!(blob.metadata().u64("missing"), Err(BlobError::MissingMetadata { key: "missing" })));
    assert!(matches!(
        blob.metadata().u64("name"),
        Err(BlobError::MetadataType { expected: ValueType::U64, found: ValueType::Str, .. })
    ));
}

#[test]
fn h1_too_short() {
    let file = Spec::valid().build();
    assert!(matches!(err(&file[..63]), BlobError::TooShort { len: 63 }));
    assert!(matches!(err(&[]), BlobError::TooShort { len: 0 }));
}

#[test]
fn h2_bad_magic() {
    let mut file = Spec::valid().build();
    file[3] = b'X';
    assert!(matches!(err(&file), BlobError::BadMagic { .. }));
}

#[test]
fn h3_unsupported_version() {
    let mut file = Spec::valid().build();
    patch(&mut file, 8, &3u32.to_le_bytes());
    assert!(matches!(err(&file), BlobError::UnsupportedVersion { found: 3, supported: 2 }));
    patch(&mut file, 8, &0u32.to_le_bytes());
    assert!(matches!(err(&file), BlobError::UnsupportedVersion { found: 0, supported: 2 }));
    // Version 1 (no int4 tensors) still opens.
    patch(&mut file, 8, &1u32.to_le_bytes());
    assert!(open(&file).is_ok());
}

#[test]
fn h4_reserved_not_zero() {
    for at in [12, 40, 59] {
        let mut file = Spec::valid().build();
        patch(&mut file, at, &[1]);
        assert!(matches!(err(&file), BlobError::ReservedNotZero { offset } if offset == at), "byte {at}");
    }
}

#[test]
fn h5_file_length() {
    let file = Spec::valid().build();
    let n = file.len() as u64;
    assert!(
        matches!(err(&file[..file.len() - 1]), BlobError::FileLength { expected, found } if expected == n && found == n - 1)
    );
    let mut longer = file.clone();
    longer.push(0);
    assert!(matches!(err(&longer), BlobError::FileLength { .. }));
}

#[test]
fn h6_index_too_large() {
    let mut file = Spec::valid().build();
    patch(&mut file, 24, &((16u64 << 20) + 1).to_le_bytes());
    assert!(matches!(err(&file), BlobError::IndexTooLarge { what: "index_len", .. }));
    let mut file = Spec::valid().build();
    patch(&mut file, 36, &70_000u32.to_le_bytes());
    assert!(matches!(err(&file), BlobError::IndexTooLarge { what: "tensor_count", .. }));
    let mut file = Spec::valid().build();
    patch(&mut file, 32, &5_000u32.to_le_bytes());
    assert!(matches!(err(&file), BlobError::IndexTooLarge { what: "metadata_count", .. }));
}

#[test]
fn h7_index_out_of_bounds() {
    let mut file = Spec::valid().build();
    let len = file.len() as u64;
    patch(&mut file, 24, &len.to_le_bytes());
    assert!(matches!(err(&file), BlobError::IndexOutOfBounds { .. }));
}

#[test]
fn h8_index_checksum() {
    let clean = Spec::valid().build();
    for at in [16, 33, 64, 100, 200] {
        let mut file = clean.clone();
        file[at] ^= 0x10;
        // A flipped length field may be caught earlier (H5/H6/H7); anything else by H8.
        let e = err(&file);
        assert!(
            matches!(
                e,
                BlobError::IndexChecksum { .. }
                    | BlobError::FileLength { .. }
                    | BlobError::IndexTooLarge { .. }
                    | BlobError::IndexOutOfBounds { .. }
            ),
            "byte {at}: {e}"
        );
    }
    let mut file = clean;
    file[100] ^= 1;
    assert!(matches!(err(&file), BlobError::IndexChecksum { .. }));
}

#[test]
fn i1_index_truncated() {
    let mut file = Spec::valid().build();
    patch(&mut file, 36, &5u32.to_le_bytes());
    assert!(matches!(err(&file), BlobError::IndexTruncated { kind: EntryKind::Tensor, entry: 4, .. }));
    // A string whose length runs past the index.
    let mut spec = Spec::valid();
    let mut raw = Vec::new();
    write_meta(&mut raw, b"s", &MetaValue::Str(String::new()));
    let n = raw.len();
    raw[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    spec.raw_meta = (raw, 1);
    assert!(matches!(err(&spec.build()), BlobError::IndexTruncated { kind: EntryKind::Metadata, .. }));
}

#[test]
fn i2_index_trailing_bytes() {
    let mut spec = Spec::valid();
    spec.trailing_index = vec![0; 3];
    assert!(matches!(err(&spec.build()), BlobError::IndexTrailingBytes { unused: 3 }));
}

fn with_raw_meta(key: &[u8], code: u8, value: &[u8]) -> Vec<u8> {
    let mut spec = Spec::valid();
    let mut raw = (key.len() as u16).to_le_bytes().to_vec();
    raw.extend_from_slice(key);
    raw.push(code);
    raw.extend_from_slice(value);
    spec.raw_meta = (raw, 1);
    spec.build()
}

#[test]
fn m1_bad_key() {
    assert!(matches!(err(&with_raw_meta(b"", 3, &[1])), BlobError::BadKey { len: 0, .. }));
    assert!(matches!(err(&with_raw_meta(&[b'k'; 129], 3, &[1])), BlobError::BadKey { len: 129, .. }));
    assert!(matches!(err(&with_raw_meta(&[0xFF, 0xFE], 3, &[1])), BlobError::BadKey { .. }));
    assert!(open(&with_raw_meta(&[b'k'; 128], 3, &[1])).is_ok());
}

#[test]
fn m2_duplicate_key() {
    let e = err(&with_raw_meta(b"answer", 3, &[1]));
    assert!(matches!(e, BlobError::DuplicateKey { ref key } if key == "answer"), "{e}");
}

#[test]
fn m3_unknown_value_type() {
    assert!(matches!(err(&with_raw_meta(b"k", 6, &[0; 8])), BlobError::UnknownValueType { code: 6, .. }));
    assert!(matches!(err(&with_raw_meta(b"k", 0, &[0; 8])), BlobError::UnknownValueType { code: 0, .. }));
}

#[test]
fn m4_bad_value() {
    assert!(matches!(
        err(&with_raw_meta(b"k", 3, &[2])),
        BlobError::BadValue { value_type: ValueType::Bool, .. }
    ));
    let bad_utf8 = [2, 0, 0, 0, 0xC3, 0x28];
    assert!(matches!(
        err(&with_raw_meta(b"k", 4, &bad_utf8)),
        BlobError::BadValue { value_type: ValueType::Str, .. }
    ));
    let list = [1, 0, 0, 0, 2, 0, 0, 0, 0xC3, 0x28];
    assert!(matches!(
        err(&with_raw_meta(b"k", 5, &list)),
        BlobError::BadValue { value_type: ValueType::StrList, .. }
    ));
}

#[test]
fn t1_bad_name() {
    for name in [Vec::new(), vec![b'n'; 257], vec![0xFF]] {
        let file = with_tensor(|t| t[0].name = name.clone());
        assert!(matches!(err(&file), BlobError::BadName { entry: 0, .. }), "{name:?}");
    }
    assert!(open(&with_tensor(|t| t[0].name = vec![b'n'; 256])).is_ok());
}

#[test]
fn t2_duplicate_name() {
    let file = with_tensor(|t| t[2].name = b"w".to_vec());
    assert!(matches!(err(&file), BlobError::DuplicateName { ref name } if name == "w"));
}

#[test]
fn t3_unknown_encoding() {
    for code in [0, 8, 255] {
        assert!(
            matches!(err(&with_tensor(|t| t[0].encoding = code)), BlobError::UnknownEncoding { code: c, .. } if c == code)
        );
    }
    // i4_group (6) arrived with version 2: a version-1 file that uses it is invalid.
    let mut file = with_tensor(|t| t[1].encoding = Encoding::I4Group.code());
    patch(&mut file, 8, &1u32.to_le_bytes());
    let e = err(&file);
    assert!(matches!(e, BlobError::UnknownEncoding { code: 6, version: 1, .. }), "{e}");
    assert!(e.to_string().contains("i4_group"), "{e}");
    // So did i4_row_group (7, int4 embedding tables): a version-1 reader path refuses it by name.
    let mut file = with_tensor(|t| t[2].encoding = Encoding::I4RowGroup.code());
    patch(&mut file, 8, &1u32.to_le_bytes());
    let e = err(&file);
    assert!(matches!(e, BlobError::UnknownEncoding { code: 7, version: 1, .. }), "{e}");
    assert!(e.to_string().contains("7 i4_row_group"), "{e}");
}

#[test]
fn t4_unsupported_layout() {
    let file = with_tensor(|t| t[2].layout = Layout::Panel16.code());
    assert!(matches!(err(&file), BlobError::UnsupportedLayout { encoding: Encoding::I8Row, layout: 1, .. }));
    assert!(matches!(err(&with_tensor(|t| t[0].layout = 7)), BlobError::UnsupportedLayout { layout: 7, .. }));
    // int8 linear weights exist only in the kernels' panels.
    let file = with_tensor(|t| t[1].layout = Layout::RowMajor.code());
    assert!(matches!(
        err(&file),
        BlobError::UnsupportedLayout { encoding: Encoding::I8Channel, layout: 0, .. }
    ));
}

#[test]
fn t5_bad_rank() {
    let e = err(&with_tensor(|t| t[3].shape = vec![5, 1]));
    assert!(matches!(e, BlobError::BadRank { encoding: Encoding::U8, rank: 2, .. }), "{e}");
    let e = err(&with_tensor(|t| t[0].shape = vec![3, 1, 1, 1, 1]));
    assert!(matches!(e, BlobError::BadRank { rank: 5, .. }), "{e}");
    let e = err(&with_tensor(|t| t[1].shape = vec![15]));
    assert!(matches!(e, BlobError::BadRank { encoding: Encoding::I8Channel, rank: 1, .. }), "{e}");
}

#[test]
fn t6_bad_shape() {
    assert!(matches!(err(&with_tensor(|t| t[0].shape = vec![0])), BlobError::BadShape { .. }));
    let e = err(&with_tensor(|t| t[0].shape = vec![u64::MAX / 2, 4]));
    assert!(matches!(e, BlobError::BadShape { .. }), "{e}");
    let e = err(&with_tensor(|t| t[1].shape = vec![u64::MAX, u64::MAX]));
    assert!(matches!(e, BlobError::BadShape { .. }), "{e}");
}

#[test]
fn t7_byte_length() {
    let e = err(&with_tensor(|t| t[0].shape = vec![4]));
    assert!(matches!(e, BlobError::ByteLength { expected: 16, found: 12, .. }), "{e}");
    // [3, 5] panels: 16 columns × 8 inputs = 128 bytes, then 16 scales and 16 column sums.
    let e = err(&with_tensor(|t| t[1].byte_len -= 1));
    assert!(matches!(e, BlobError::ByteLength { expected: 256, found: 255, .. }), "{e}");
}

#[test]
fn t8_misaligned() {
    let mut spec = Spec::valid();
    let at = spec.build().len() as u64 - 5 - 64;
    spec.offset_override = vec![(3, at + 1)];
    assert!(matches!(err(&spec.build()), BlobError::Misaligned { .. }));
}

#[test]
fn t9_out_of_bounds() {
    let mut spec = Spec::valid();
    spec.offset_override = vec![(3, 1 << 20)];
    assert!(matches!(err(&spec.build()), BlobError::OutOfBounds { .. }));
    spec.offset_override = vec![(0, 0)];
    assert!(matches!(err(&spec.build()), BlobError::OutOfBounds { offset: 0, .. }));
    spec.offset_override = vec![(3, u64::MAX - 63)];
    assert!(matches!(err(&spec.build()), BlobError::OutOfBounds { .. }));
}

#[test]
fn t10_placement() {
    // Overlap: the second tensor at the first one's offset.
    let spec = Spec::valid();
    let file = spec.build();
    let blob = open(&file).unwrap();
    let first = blob.tensors()[0].offset as u64;
    let mut overlap = spec.clone();
    overlap.offset_override = vec![(1, first)];
    assert!(matches!(err(&overlap.build()), BlobError::Placement { ref name, .. } if name == "w"));
    // Hole: the last tensor one alignment unit later than packed order puts it.
    let mut hole = spec.clone();
    let last = blob.tensors()[3].offset as u64;
    hole.offset_override = vec![(3, last + 64)];
    hole.trailing_file = vec![0; 64];
    assert!(matches!(err(&hole.build()), BlobError::Placement { ref name, .. } if name == "tok"));
}

#[test]
fn t11_data_end() {
    let mut spec = Spec::valid();
    spec.trailing_file = vec![0; 7];
    assert!(matches!(err(&spec.build()), BlobError::DataEnd { .. }));
}

#[test]
fn d1_data_checksum_is_checked_by_verify_not_at_open() {
    let mut file = Spec::valid().build();
    let at = file.len() - 2;
    file[at] ^= 0x01;
    let blob = open(&file).expect("data bytes are not read at open");
    assert!(matches!(blob.verify(), Err(BlobError::DataChecksum { ref name, .. }) if name == "tok"));
}

#[test]
fn a_float_tensor_of_every_allowed_rank_opens() {
    for shape in [vec![6u64], vec![2, 3], vec![1, 2, 3], vec![1, 1, 2, 3]] {
        let data = f32_bytes(&[1.0; 6]);
        let mut spec = Spec::valid();
        spec.tensors[0].shape = shape.clone();
        spec.tensors[0].byte_len = data.len() as u64;
        spec.tensors[0].data_crc32c = edgebert_engine::blob::crc32c(&data);
        spec.data[0] = data;
        let blob = open(&spec.build()).unwrap_or_else(|e| panic!("{shape:?}: {e}"));
        assert_eq!(blob.f32("bias").unwrap().len(), 6);
    }
}

#[test]
fn d2_non_zero_padding_is_caught_by_verify() {
    let clean = Spec::valid().build();
    let blob = open(&clean).unwrap();
    let (first, second) = (&blob.tensors()[0], &blob.tensors()[1]);
    let gap_between_tensors = first.offset + first.byte_len;
    assert!(gap_between_tensors < second.offset, "the fixture has padding between tensors");
    let index_end = 64 + blob.index().index_len;
    assert!(index_end < blob.index().data_offset, "the fixture has padding after the index");
    for at in [gap_between_tensors, index_end] {
        let mut file = clean.clone();
        file[at] = 0x5A;
        let blob = open(&file).expect("padding is not read at open");
        assert!(matches!(blob.verify(), Err(BlobError::NonZeroPadding { offset }) if offset == at as u64));
    }
}

/// An `i4_group` tensor (format version 2) opens as a view of its three arrays, and its byte
/// length is held to §5 like every other encoding (T7).
#[test]
fn i4_group_tensors_open_as_views_and_their_length_is_checked() {
    use edgebert_engine::blob::{crc32c, format};
    let (n, k) = (17, 40);
    let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.3).sin()).collect();
    let p = edgebert_kernels::pack_i4(&w, n, k);
    let parts = format::parts(Encoding::I4Group, Layout::Panel16, &[n, k]).unwrap();
    let mut bytes = vec![0u8; parts.byte_len];
    bytes[..parts.data_len].copy_from_slice(&p.data);
    let (s_at, c_at) = (parts.scales.unwrap().0, parts.col_sums.unwrap().0);
    for (i, s) in p.scales.iter().enumerate() {
        bytes[s_at + 2 * i..s_at + 2 * i + 2].copy_from_slice(&s.to_le_bytes());
    }
    bytes[c_at..].copy_from_slice(&f32_bytes(&p.w_sums));
    let raw = RawTensor {
        name: b"w4".to_vec(),
        encoding: Encoding::I4Group.code(),
        layout: Layout::Panel16.code(),
        shape: vec![n as u64, k as u64],
        offset: 0,
        byte_len: bytes.len() as u64,
        data_crc32c: crc32c(&bytes),
    };
    let mut spec = Spec::valid();
    spec.tensors.push(raw.clone());
    spec.data.push(bytes.clone());
    let blob = open(&spec.build()).expect("valid blob with an int4 tensor");
    match blob.tensor("w4").unwrap().data {
        TensorData::I4Group { data, scales, w_sums } => {
            assert_eq!((data, scales, w_sums), (&p.data[..], &p.scales[..], &p.w_sums[..]))
        }
        other => panic!("{other:?}"),
    }
    let mut spec = Spec::valid();
    let short = bytes.len() - 4;
    spec.tensors.push(RawTensor { byte_len: short as u64, data_crc32c: crc32c(&bytes[..short]), ..raw });
    spec.data.push(bytes[..short].to_vec());
    assert!(matches!(err(&spec.build()), BlobError::ByteLength { .. }));
}

/// An `i4_row_group` table `[3, 40]` (two groups a row, the second ragged): nibbles of row `r`,
/// column `c` in byte `r · 20 + c / 2`, then 6 f16 scales at byte 64.
fn i4_table_fixture() -> (Vec<u8>, Vec<half::f16>, Vec<u8>) {
    let data: Vec<u8> = (0..60u32).map(|i| (1 + i % 15) as u8 | ((1 + (i * 7) % 15) as u8) << 4).collect();
    let scales: Vec<half::f16> = (0..6).map(|i| half::f16::from_f32(0.125 * (i + 1) as f32)).collect();
    let mut bytes = data.clone();
    bytes.resize(64, 0);
    bytes.extend(scales.iter().flat_map(|s| s.to_le_bytes()));
    (data, scales, bytes)
}

fn i4_table_raw(bytes: &[u8], shape: &[u64]) -> RawTensor {
    use edgebert_engine::blob::crc32c;
    RawTensor {
        name: b"t4".to_vec(),
        encoding: Encoding::I4RowGroup.code(),
        layout: Layout::RowMajor.code(),
        shape: shape.to_vec(),
        offset: 0,
        byte_len: bytes.len() as u64,
        data_crc32c: crc32c(bytes),
    }
}

fn with_i4_table(raw: RawTensor, bytes: &[u8]) -> Vec<u8> {
    let mut spec = Spec::valid();
    spec.tensors.push(raw);
    spec.data.push(bytes.to_vec());
    spec.build()
}

/// An `i4_row_group` table (format version 2) opens as a view of its two arrays, rows read back
/// as `(nibble - 8) · scale`, and the reader holds it to T4 (row-major only), T5 (rank 2), T6
/// (sizes that overflow) and T7 (the byte length §5 computes) like every other encoding.
#[test]
fn i4_row_group_tables_open_as_views_and_are_bounds_checked() {
    use edgebert_engine::blob::i4_table_row;
    let (data, scales, bytes) = i4_table_fixture();
    assert_eq!(bytes.len(), 76);
    let raw = i4_table_raw(&bytes, &[3, 40]);
    let blob = open(&with_i4_table(raw.clone(), &bytes)).expect("valid blob with an int4 table");
    blob.verify().unwrap();
    match blob.tensor("t4").unwrap().data {
        TensorData::I4RowGroup { data: d, scales: s } => {
            assert_eq!((d, s), (&data[..], &scales[..]));
            for r in 0..3 {
                let row: Vec<f32> = i4_table_row(d, s, 40, r).collect();
                assert_eq!(row.len(), 40);
                for (c, v) in row.iter().enumerate() {
                    let byte = data[r * 20 + c / 2];
                    let q = if c % 2 == 0 { byte & 15 } else { byte >> 4 } as f32 - 8.0;
                    assert_eq!(*v, q * scales[r * 2 + c / 32].to_f32(), "row {r} col {c}");
                }
            }
            // A row past the table reads as zeros, never out of bounds.
            assert!(i4_table_row(d, s, 40, 3).all(|v| v == 0.0));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(blob.f32("t4"), Err(BlobError::WrongEncoding { found: Encoding::I4RowGroup, .. })));
    // T4: tables are row-major only.
    let file = with_i4_table(RawTensor { layout: Layout::Panel16.code(), ..raw.clone() }, &bytes);
    assert!(matches!(
        err(&file),
        BlobError::UnsupportedLayout { encoding: Encoding::I4RowGroup, layout: 1, .. }
    ));
    // T5: rank 2 only.
    for shape in [vec![120u64], vec![3, 40, 1]] {
        let file = with_i4_table(i4_table_raw(&bytes, &shape), &bytes);
        assert!(matches!(err(&file), BlobError::BadRank { encoding: Encoding::I4RowGroup, .. }), "{shape:?}");
    }
    // T6: a zero dimension, or rows · groups · 16 overflowing.
    for shape in [vec![0u64, 40], vec![3, 0], vec![u64::MAX / 8, 64]] {
        let file = with_i4_table(i4_table_raw(&bytes, &shape), &bytes);
        assert!(matches!(err(&file), BlobError::BadShape { .. }), "{shape:?}");
    }
    // T7: one byte short, or a shape whose arrays need more (33 bytes and 3 scales a row).
    let short = &bytes[..bytes.len() - 1];
    let file = with_i4_table(i4_table_raw(short, &[3, 40]), short);
    assert!(matches!(err(&file), BlobError::ByteLength { expected: 76, found: 75, .. }));
    let file = with_i4_table(i4_table_raw(&bytes, &[3, 65]), &bytes);
    assert!(matches!(err(&file), BlobError::ByteLength { expected: 146, .. }));
}
