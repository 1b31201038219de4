//! The writer against the reader: every recipe round-trips within its precision, int8 panels are
//! exactly what the kernels read, and the file on disk is replaced only when it should be.

mod blob_common;

use blob_common::{description, synthetic_model, wordpiece};
use edgebert_convert::blob::{metadata, tensors, write_blob, Precision, Recipe, WriteOutcome};
use edgebert_engine::blob::{Blob, BlobError, HeadType, MetaValue, TensorData};
use edgebert_kernels::packed::PackedI8;
use edgebert_models::{BertModel, BertWeights};
use std::path::Path;

const ALL: [Precision; 3] = [Precision::Int8, Precision::F16, Precision::F32];

fn write(model: &BertModel, recipe: Recipe, path: &Path, force: bool) -> anyhow::Result<WriteOutcome> {
    let tok = wordpiece();
    let d = description(model, &tok);
    let encoded = tensors(&d, recipe, &mut |_, _, _| {})?;
    Ok(write_blob(path, &metadata(&d, recipe), &encoded, force)?.0)
}

/// Largest error allowed for one stored value: half an int8 step of its row, or f16 rounding.
fn tolerance(p: Precision, row: &[f32], x: f32) -> f32 {
    let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    match p {
        Precision::Int8 => max / 127.0 / 2.0 * 1.0001,
        // The group's scale may be clipped to 0.7 · max / 7 (least squared error): its largest
        // value may then lose 0.3 · max; everything else stays within half a step.
        Precision::Int4 => max * 0.3 * 1.001 + max / 1024.0,
        Precision::F16 => x.abs() * 1.0 / 2048.0 + 6e-8,
        Precision::F32 => 0.0,
    }
}

fn check_rows(name: &str, p: Precision, orig: &[f32], back: &[f32], width: usize) {
    assert_eq!(orig.len(), back.len(), "{name}");
    for (r, (o, b)) in orig.chunks(width).zip(back.chunks(width)).enumerate() {
        for (x, y) in o.iter().zip(b) {
            assert!((x - y).abs() <= tolerance(p, o, *x), "{name} row {r} ({p}): {x} stored as {y}");
        }
    }
}

#[test]
fn every_recipe_round_trips_within_its_precision() {
    let model = synthetic_model();
    let dir = tempfile::tempdir().unwrap();
    let mut sizes = Vec::new();
    for weights in ALL {
        for embeddings in ALL {
            let recipe = Recipe { weights, embeddings };
            let path = dir.path().join(format!("{weights}-{embeddings}.ebq"));
            assert_eq!(write(&model, recipe, &path, false).unwrap(), WriteOutcome::Created);
            let blob = Blob::open(&path).unwrap();
            blob.verify().unwrap();
            let info = blob.model_info().unwrap();
            assert_eq!(info.config, model.config);
            assert_eq!(info.head, HeadType::SequenceClassification);
            assert_eq!((info.quant_weights.as_str(), info.max_seq_len), (weights.name(), 12));
            assert_eq!(blob.tokenizer_spec().unwrap(), wordpiece());
            let back = BertWeights::load(&model.config, &blob).unwrap();
            let (w, b) = (&model.weights, &back);
            let h = model.config.hidden_size;
            check_rows("word", embeddings, &w.embeddings.word, &b.embeddings.word, h);
            check_rows("position", embeddings, &w.embeddings.position, &b.embeddings.position, h);
            for (lo, lb) in w.layers.iter().zip(&b.layers) {
                check_rows("query", weights, &lo.query.weight, &lb.query.weight, h);
                check_rows("intermediate", weights, &lo.intermediate.weight, &lb.intermediate.weight, h);
                check_rows(
                    "output",
                    weights,
                    &lo.output.weight,
                    &lb.output.weight,
                    model.config.intermediate_size,
                );
                assert_eq!(lo.query.bias, lb.query.bias, "biases stay f32");
                assert_eq!(lo.output_norm, lb.output_norm, "LayerNorm stays f32");
            }
            let (co, cb) = (w.classifier.as_ref().unwrap(), b.classifier.as_ref().unwrap());
            check_rows("classifier", weights, &co.weight, &cb.weight, h);
            sizes.push(((weights, embeddings), blob.bytes().len()));
        }
    }
    let size = |w, e| sizes.iter().find(|(r, _)| *r == (w, e)).unwrap().1;
    assert!(size(Precision::Int8, Precision::Int8) < size(Precision::F16, Precision::F16));
    assert!(size(Precision::F16, Precision::F16) < size(Precision::F32, Precision::F32));
}

/// int4 linear weights mixed per tensor with f16 (`--keep-f16`) and int8 tables in one blob:
/// version 2 (int8-only blobs stay version 1), every tensor round-trips within its precision.
#[test]
fn int4_weights_mix_per_tensor_and_round_trip() {
    use edgebert_convert::blob::model::tensors_with;
    use edgebert_engine::blob::Encoding;
    let model = synthetic_model();
    let dir = tempfile::tempdir().unwrap();
    let (tok, recipe) = (wordpiece(), Recipe { weights: Precision::Int4, embeddings: Precision::Int8 });
    let d = description(&model, &tok);
    let keep = vec!["attention.output.dense".to_string()];
    let encoded = tensors_with(&d, recipe, &keep, &mut |_, _, _| {}).unwrap();
    let path = dir.path().join("int4.ebq");
    write_blob(&path, &metadata(&d, recipe), &encoded, false).unwrap();
    let blob = Blob::open(&path).unwrap();
    blob.verify().unwrap();
    assert_eq!(blob.index().version, 2);
    assert_eq!(blob.model_info().unwrap().quant_weights, "int4");
    let enc = |n: &str| blob.index().tensor(n).unwrap().encoding;
    assert_eq!(enc("encoder.layer.0.intermediate.dense.weight"), Encoding::I4Group);
    assert_eq!(enc("encoder.layer.0.attention.output.dense.weight"), Encoding::F16);
    assert_eq!(enc("embeddings.word_embeddings.weight"), Encoding::I8Row);
    let back = BertWeights::load(&model.config, &blob).unwrap();
    let h = model.config.hidden_size;
    for (lo, lb) in model.weights.layers.iter().zip(&back.layers) {
        check_rows("query", Precision::Int4, &lo.query.weight, &lb.query.weight, h);
        check_rows(
            "attention output",
            Precision::F16,
            &lo.attention_output.weight,
            &lb.attention_output.weight,
            h,
        );
        let k = model.config.intermediate_size;
        check_rows("output", Precision::Int4, &lo.output.weight, &lb.output.weight, k);
    }
    let int8 = dir.path().join("int8.ebq");
    write(&model, Recipe::default(), &int8, false).unwrap();
    assert_eq!(Blob::open(&int8).unwrap().index().version, 1, "no int4 tensor: still version 1");
}

/// `--weights int8 --embeddings int4`: int4 tables (`i4_row_group`) beside int8 linears in one
/// blob, version 2, `quant.embeddings` int4; the tables round-trip within half a step of their
/// group (or the clipping bound), the token-type table stays f32, the linears are int8.
#[test]
fn int4_tables_mix_with_int8_linears_and_round_trip() {
    use edgebert_engine::blob::Encoding;
    let model = synthetic_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("int4-tables.ebq");
    let recipe = Recipe { weights: Precision::Int8, embeddings: Precision::Int4 };
    write(&model, recipe, &path, false).unwrap();
    let blob = Blob::open(&path).unwrap();
    blob.verify().unwrap();
    assert_eq!(blob.index().version, 2);
    let info = blob.model_info().unwrap();
    assert_eq!((info.quant_weights.as_str(), info.quant_embeddings.as_str()), ("int8", "int4"));
    let enc = |n: &str| blob.index().tensor(n).unwrap().encoding;
    assert_eq!(enc("embeddings.word_embeddings.weight"), Encoding::I4RowGroup);
    assert_eq!(enc("embeddings.position_embeddings.weight"), Encoding::I4RowGroup);
    assert_eq!(enc("embeddings.token_type_embeddings.weight"), Encoding::F32);
    assert_eq!(enc("encoder.layer.0.attention.self.query.weight"), Encoding::I8Channel);
    let back = BertWeights::load(&model.config, &blob).unwrap();
    let (w, b, h) = (&model.weights, &back, model.config.hidden_size);
    check_rows("word", Precision::Int4, &w.embeddings.word, &b.embeddings.word, h);
    check_rows("position", Precision::Int4, &w.embeddings.position, &b.embeddings.position, h);
    assert_eq!(w.embeddings.token_type, b.embeddings.token_type);
    check_rows("query", Precision::Int8, &w.layers[0].query.weight, &b.layers[0].query.weight, h);
    // Half an int8 table, roughly: 4.5 bits a value against 8 + 32 / cols.
    let int8 = dir.path().join("int8.ebq");
    write(&model, Recipe::default(), &int8, false).unwrap();
    let word_bytes = |p: &Path| {
        Blob::open(p).unwrap().index().tensor("embeddings.word_embeddings.weight").unwrap().byte_len
    };
    assert!(word_bytes(&path) * 3 < word_bytes(&int8) * 2, "{} vs {}", word_bytes(&path), word_bytes(&int8));
}

#[test]
fn int8_weights_are_stored_in_the_kernels_panel_layout() {
    let model = synthetic_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ebq");
    write(&model, Recipe::default(), &path, false).unwrap();
    let blob = Blob::open(&path).unwrap();
    let lin = &model.weights.layers[1].intermediate;
    let t = blob.tensor("encoder.layer.1.intermediate.dense.weight").unwrap();
    let TensorData::I8Channel { data, scales, col_sums } = t.data else { panic!("{:?}", t.info) };
    let view =
        PackedI8::new(data, scales, col_sums, lin.out_dim, lin.in_dim).expect("kernel accepts the arrays");
    for j in 0..lin.out_dim {
        let mut sum = 0i32;
        for kk in 0..lin.in_dim {
            let q = view.get(j, kk);
            sum += q as i32;
            let x = lin.weight[j * lin.in_dim + kk];
            assert!((q as f32 * scales[j] - x).abs() <= scales[j] / 2.0 * 1.0001, "[{j}][{kk}]");
        }
        assert_eq!(col_sums[j], sum, "column sum {j}");
    }
}

#[test]
fn an_existing_different_file_is_replaced_only_with_force() {
    let model = synthetic_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ebq");
    let int8 = Recipe::default();
    let f16 = Recipe { weights: Precision::F16, embeddings: Precision::F16 };
    assert_eq!(write(&model, int8, &path, false).unwrap(), WriteOutcome::Created);
    let before = std::fs::read(&path).unwrap();
    assert_eq!(write(&model, int8, &path, false).unwrap(), WriteOutcome::Unchanged);
    let err = write(&model, f16, &path, false).unwrap_err().to_string();
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "refused write left the file alone");
    assert_eq!(write(&model, f16, &path, true).unwrap(), WriteOutcome::Replaced);
    assert_eq!(Blob::open(&path).unwrap().model_info().unwrap().quant_weights, "f16");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("m.ebq")], "no temporary files left behind");
}

#[test]
fn non_finite_weights_are_refused_before_anything_is_written() {
    let mut model = synthetic_model();
    model.weights.layers[0].value.weight[3] = f32::INFINITY;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ebq");
    let err = write(&model, Recipe::default(), &path, false).unwrap_err().to_string();
    assert!(err.contains("encoder.layer.0.attention.self.value.weight"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn the_blob_gets_ordinary_file_permissions_not_the_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ebq");
    write(&synthetic_model(), Recipe::default(), &path, false).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    // Whatever the umask, the owner can read and write, and the mode is not tempfile's 0600
    // unless the umask itself removes group and other read (then 0600 is right).
    assert_eq!(mode & 0o600, 0o600);
    let probe = dir.path().join("probe");
    std::fs::File::create(&probe).unwrap();
    let expected = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, expected, "same mode as File::create under this umask");
}

#[test]
fn model_metadata_with_an_unusable_value_is_refused_by_key() {
    let (model, tok) = (synthetic_model(), wordpiece());
    let d = description(&model, &tok);
    let mut meta = metadata(&d, Recipe::default());
    let encoded = tensors(&d, Recipe::default(), &mut |_, _, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ebq");
    for (key, value, expect_key) in [
        ("head.type", MetaValue::Str("regression".into()), "head.type"),
        ("max_seq_len", MetaValue::U64(10_000), "max_seq_len"),
        ("config.hidden_size", MetaValue::U64(0), "config.hidden_size"),
    ] {
        let original = meta.iter().find(|(k, _)| k == key).unwrap().1.clone();
        meta.iter_mut().find(|(k, _)| k == key).unwrap().1 = value;
        write_blob(&path, &meta, &encoded, true).unwrap();
        let blob = Blob::open(&path).unwrap();
        match blob.model_info() {
            Err(BlobError::InvalidMetadata { key, .. }) => assert_eq!(key, expect_key),
            other => panic!("{key}: {other:?}"),
        }
        meta.iter_mut().find(|(k, _)| k == key).unwrap().1 = original;
    }
    meta.retain(|(k, _)| k != "source.sha256");
    write_blob(&path, &meta, &encoded, true).unwrap();
    let err = Blob::open(&path).unwrap().model_info().unwrap_err();
    assert!(matches!(err, BlobError::MissingMetadata { key: "source.sha256" }), "{err}");
}
