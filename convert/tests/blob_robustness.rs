//! Hostile bytes against the reader: a real blob truncated at many points and with bytes flipped
//! across header, index, data and padding — each is a clean error at open or at verify, never a
//! panic — and proptest-generated headers, indexes and layouts.

mod blob_common;

use blob_common::{asset, description, synthetic_model, wordpiece};
use edgebert_convert::blob::{convert_dir, metadata, tensors, Recipe};
use edgebert_engine::blob::encode::{assemble, seal, write_header, EntrySpec};
use edgebert_engine::blob::format::{Encoding, Layout};
use edgebert_engine::blob::{parse, Blob, BlobError, MetaValue};
use proptest::prelude::*;

/// The tiny shared classifier converted for real when the assets are there, else the synthetic
/// model: both go through the same writer.
fn real_blob() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ebq");
    if let Some(model) = asset("models/categorium-tiny-bert-en") {
        convert_dir(&model, &path, Recipe::default(), false, &mut |_| {}).unwrap();
        return std::fs::read(&path).unwrap();
    }
    let (model, tok) = (synthetic_model(), wordpiece());
    let d = description(&model, &tok);
    let encoded = tensors(&d, Recipe::default(), &mut |_, _, _| {}).unwrap();
    let specs: Vec<(EntrySpec, &[u8])> =
        encoded.iter().map(|t| (t.spec.clone(), t.data.as_slice())).collect();
    assemble(&metadata(&d, Recipe::default()), &specs)
}

/// Points to cut at: every byte of header and index, then a spread over the data, then the tail.
fn cut_points(len: usize, data_offset: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..data_offset + 64).collect();
    v.extend((data_offset..len).step_by((len / 509).max(1)));
    v.extend(len.saturating_sub(70)..len);
    v
}

#[test]
fn every_truncation_is_a_clean_error() {
    let file = real_blob();
    let index = parse(&file).expect("the untouched blob opens");
    let points = cut_points(file.len(), index.data_offset);
    for &n in &points {
        match parse(&file[..n]) {
            Err(BlobError::TooShort { .. }) if n < 64 => {}
            Err(BlobError::FileLength { expected, found })
                if expected == file.len() as u64 && found == n as u64 => {}
            other => panic!("cut at {n}: {other:?}"),
        }
    }
    assert!(points.len() > 1000, "{} cut points", points.len());
}

#[test]
fn every_flipped_byte_is_caught_at_open_or_by_verify() {
    let file = real_blob();
    let blob = Blob::from_bytes(&file).unwrap();
    blob.verify().unwrap();
    let (index_end, data_offset) = (64 + blob.index().index_len, blob.index().data_offset);
    // Every header and index byte: open must refuse (parse validates in place, no copy).
    let mut copy = file.clone();
    for at in 0..index_end {
        for mask in [0x01u8, 0x80, 0xFF] {
            copy[at] ^= mask;
            assert!(parse(&copy).is_err(), "byte {at} ^ {mask:#x} of the header/index went unnoticed");
            copy[at] ^= mask;
        }
    }
    // ~1000 positions over index padding, tensor data and padding between tensors: the blob
    // opens (data is not read at open), and verify refuses it.
    let step = ((file.len() - index_end) / 1000).max(1);
    let mut caught = 0;
    for at in (index_end..file.len()).step_by(step) {
        copy[at] ^= 0x10;
        let b = Blob::from_bytes(&copy).unwrap_or_else(|e| panic!("byte {at} is data, yet open failed: {e}"));
        match b.verify() {
            Err(BlobError::DataChecksum { .. } | BlobError::NonZeroPadding { .. }) => caught += 1,
            other => panic!("byte {at} ^ 0x10: verify gave {other:?}"),
        }
        copy[at] ^= 0x10;
    }
    println!(
        "{} header/index flips refused at open, {caught} data/padding flips refused by verify",
        index_end * 3
    );
    assert!(caught >= 1000 && data_offset >= index_end);
}

fn arb_meta() -> impl Strategy<Value = (String, MetaValue)> {
    let value = prop_oneof![
        any::<u64>().prop_map(MetaValue::U64),
        any::<f64>().prop_map(MetaValue::F64),
        any::<bool>().prop_map(MetaValue::Bool),
        ".{0,20}".prop_map(MetaValue::Str),
        proptest::collection::vec(".{0,8}", 0..4).prop_map(MetaValue::StrList),
    ];
    ("[a-z.]{1,20}", value)
}

fn arb_tensor() -> impl Strategy<Value = (Encoding, Layout, Vec<usize>)> {
    let dims = |r| proptest::collection::vec(1usize..40, r);
    prop_oneof![
        (prop_oneof![Just(Encoding::F32), Just(Encoding::F16)], dims(1..=4)).prop_map(|(e, s)| (
            e,
            Layout::RowMajor,
            s
        )),
        (prop_oneof![Just(Encoding::F32), Just(Encoding::F16), Just(Encoding::I8Channel)], dims(2..=2))
            .prop_map(|(e, s)| (e, Layout::Panel16, s)),
        dims(2..=2).prop_map(|s| (Encoding::I8Row, Layout::RowMajor, s)),
        dims(1..=1).prop_map(|s| (Encoding::U8, Layout::RowMajor, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any header, sealed or not, over any index bytes: an error or a blob, never a panic.
    #[test]
    fn arbitrary_headers_never_panic(
        file_len in prop_oneof![Just(None), any::<u64>().prop_map(Some)],
        index_len in prop_oneof![0u64..600, any::<u64>()],
        counts in (0u32..8, 0u32..8),
        body in proptest::collection::vec(any::<u8>(), 0..700),
        sealed in any::<bool>(),
    ) {
        let len = file_len.unwrap_or(64 + body.len() as u64);
        let mut file = write_header(len, index_len, counts.0, counts.1).to_vec();
        file.extend_from_slice(&body);
        if sealed {
            seal(&mut file);
        }
        let _ = parse(&file);
    }

    /// Any valid layout the writer can produce opens, with the same entries it was given.
    #[test]
    fn planned_blobs_round_trip(
        meta in proptest::collection::btree_map("[a-z.]{1,20}", arb_meta().prop_map(|m| m.1), 0..6),
        shapes in proptest::collection::vec(arb_tensor(), 0..6),
    ) {
        let meta: Vec<(String, MetaValue)> = meta.into_iter().collect();
        let data: Vec<Vec<u8>> = shapes
            .iter()
            .map(|(e, l, s)| vec![0u8; edgebert_engine::blob::format::parts(*e, *l, s).unwrap().byte_len])
            .collect();
        let specs: Vec<(EntrySpec, &[u8])> = shapes.iter().zip(&data).enumerate().map(|(i, ((e, l, s), d))| {
            let spec = EntrySpec {
                name: format!("t{i}"), encoding: *e, layout: *l, shape: s.clone(),
                byte_len: d.len(), data_crc32c: edgebert_engine::blob::crc32c(d),
            };
            (spec, d.as_slice())
        }).collect();
        let file = assemble(&meta, &specs);
        let blob = Blob::from_bytes(&file).unwrap();
        blob.verify().unwrap();
        prop_assert_eq!(&blob.index().metadata, &meta);
        for ((spec, _), info) in specs.iter().zip(blob.tensors()) {
            prop_assert_eq!((&spec.name, spec.encoding, spec.layout, &spec.shape), (&info.name, info.encoding, info.layout, &info.shape));
            prop_assert!(blob.view(info).is_ok());
        }
    }
}
