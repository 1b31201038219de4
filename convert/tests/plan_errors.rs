//! The engine's semantic checks at open (`Plan::resolve`) on blobs that are structurally valid
//! (checksums, bounds, layouts all fine) but cannot run: a tensor missing, one with the wrong
//! shape, one in an encoding its role cannot use. Each is an error naming the tensor.

mod blob_common;

use blob_common::{description, synthetic_model, wordpiece};
use edgebert_convert::blob::quantize::{f32_tensor, linear_weight};
use edgebert_convert::blob::{metadata, tensors, write_blob, EncodedTensor, Precision, Recipe};
use edgebert_engine::blob::{Blob, BlobError, Encoding, Layout};
use edgebert_engine::{EngineError, Model};

const NORM: &str = "encoder.layer.1.output.LayerNorm.weight";
const BIAS: &str = "encoder.layer.0.intermediate.dense.bias";
const WEIGHT: &str = "encoder.layer.1.intermediate.dense.weight";

/// Opens the synthetic int8 model written with `tamper` applied to its tensors.
fn open_tampered(tamper: impl FnOnce(&mut Vec<EncodedTensor>)) -> Result<Model, EngineError> {
    let model = synthetic_model();
    let tok = wordpiece();
    let d = description(&model, &tok);
    let recipe = Recipe::default();
    let mut encoded = tensors(&d, recipe, &mut |_, _, _| {}).expect("encodes");
    tamper(&mut encoded);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tampered.ebq");
    write_blob(&path, &metadata(&d, recipe), &encoded, false).expect("a structurally valid blob");
    let blob = Blob::open(&path).expect("opens");
    blob.verify().expect("every checksum holds");
    Model::from_blob(blob)
}

fn replace(tensors: &mut [EncodedTensor], with: EncodedTensor) {
    let slot = tensors.iter_mut().find(|t| t.spec.name == with.spec.name).expect("the tensor exists");
    *slot = with;
}

#[test]
fn the_untampered_blob_opens() {
    open_tampered(|_| {}).expect("the synthetic blob is valid");
}

#[test]
fn a_missing_tensor_is_named() {
    let err = open_tampered(|t| t.retain(|t| t.spec.name != WEIGHT)).err().expect("an error");
    assert!(matches!(&err, EngineError::Blob(BlobError::MissingTensor { name }) if name == WEIGHT), "{err}");
}

#[test]
fn a_wrong_shape_is_named_with_both_shapes() {
    let h = synthetic_model().config.hidden_size;
    let err = open_tampered(|t| replace(t, f32_tensor(BIAS, &vec![0.5; h], &[h]).expect("encodes")))
        .err()
        .expect("an error");
    let EngineError::Shape { name, expected, found } = &err else { panic!("{err}") };
    assert_eq!((name.as_str(), expected.as_slice(), found.as_slice()), (BIAS, &[21][..], &[h][..]));
    assert!(err.to_string().contains(BIAS), "{err}");
}

#[test]
fn an_unusable_encoding_is_named_with_its_role() {
    let h = synthetic_model().config.hidden_size;
    // A LayerNorm weight packed as an int8 linear weight: right bytes for a GEMM, wrong role.
    let packed = linear_weight(NORM, &vec![1.0; h], 1, h, Precision::Int8).expect("encodes");
    let err = open_tampered(|t| replace(t, packed)).err().expect("an error");
    let EngineError::UnusableEncoding { name, encoding, layout, role } = &err else { panic!("{err}") };
    assert_eq!((name.as_str(), *encoding, *layout), (NORM, Encoding::I8Channel, Layout::Panel16));
    assert_eq!(*role, "an f32 vector");
    // A linear weight stored row-major, as an embedding table would be.
    let (n, k) = (synthetic_model().config.intermediate_size, h);
    let row_major = f32_tensor(WEIGHT, &vec![0.1; n * k], &[n, k]).expect("encodes");
    let err = open_tampered(|t| replace(t, row_major)).err().expect("an error");
    assert!(
        matches!(&err, EngineError::UnusableEncoding { name, role: "a packed linear weight", .. } if name == WEIGHT),
        "{err}"
    );
}

/// `i4_row_group` is a table encoding only: a linear weight stored as an int4 table (right shape,
/// valid bytes) is refused with the weight's role, and an `i4_group` panel in the word table's
/// place is refused with the table's.
#[test]
fn int4_tables_are_admitted_for_tables_only() {
    use edgebert_convert::blob::quantize::embedding_table;
    let (n, k) = (synthetic_model().config.intermediate_size, synthetic_model().config.hidden_size);
    let as_table = embedding_table(WEIGHT, &vec![0.1; n * k], n, k, Precision::Int4).expect("encodes");
    assert_eq!(as_table.spec.encoding, Encoding::I4RowGroup);
    let err = open_tampered(|t| replace(t, as_table)).err().expect("an error");
    assert!(
        matches!(&err, EngineError::UnusableEncoding { name, encoding: Encoding::I4RowGroup, role: "a packed linear weight", .. } if name == WEIGHT),
        "{err}"
    );
    let m = synthetic_model();
    let (rows, width) = (m.config.vocab_size, m.config.hidden_size);
    let word = "embeddings.word_embeddings.weight";
    let panel =
        linear_weight(word, &m.weights.embeddings.word, rows, width, Precision::Int4).expect("encodes");
    let err = open_tampered(|t| replace(t, panel)).err().expect("an error");
    assert!(
        matches!(&err, EngineError::UnusableEncoding { name, encoding: Encoding::I4Group, role: "an embedding table", .. } if name == word),
        "{err}"
    );
}
