//! The three shared checkpoints through the converter: blob sizes against the f32 safetensors,
//! every checksum, and what each embedding-table precision costs in accuracy against the float
//! reference (the numbers behind the default recipe). Skips when the assets are missing, unless
//! EDGEBERT_REQUIRE_ASSETS=1.

mod blob_common;

use blob_common::asset;
use edgebert_convert::blob::{
    convert_dir, metadata, tensors, write_blob, ModelDescription, Precision, Recipe,
};
use edgebert_convert::hf::Checkpoint;
use edgebert_engine::blob::Blob;
use edgebert_engine::tokenizer::TextTokenizer;
use edgebert_models::{argmax, cosine, softmax, BertModel, BertWeights, Sequence};
use std::path::Path;

const MODELS: [&str; 3] = ["all-minilm-l6-v2", "minilm-l6-rt-sentiment", "categorium-tiny-bert-en"];

/// Issue 4: all-MiniLM-L6-v2 in int8 must be at most 26% of its f32 safetensors.
const MINILM_INT8_MAX_RATIO: f64 = 0.26;

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/the shared models (README: Tests)")]
fn shared_models_convert_verify_and_shrink() {
    for name in MODELS {
        let Some(dir) = asset(&format!("models/{name}")) else { return };
        let out = tempfile::tempdir().unwrap();
        for p in [Precision::Int8, Precision::F16, Precision::F32] {
            let path = out.path().join(format!("{name}-{p}.ebq"));
            let recipe = Recipe { weights: p, embeddings: p };
            let report = convert_dir(&dir, &path, recipe, false, &mut |_| {}).unwrap();
            let ratio = report.blob_bytes as f64 / report.source_bytes as f64;
            println!(
                "{name:<26} {p:<5} {:>10} bytes  {:5.1}% of model.safetensors",
                report.blob_bytes,
                100.0 * ratio
            );
            let blob = Blob::open(&path).unwrap();
            blob.verify().unwrap();
            let info = blob.model_info().unwrap();
            assert_eq!(info.quant_weights, p.name());
            assert_eq!(info.source_sha256.len(), 64);
            if name == "all-minilm-l6-v2" && p == Precision::Int8 {
                assert!(ratio <= MINILM_INT8_MAX_RATIO, "{name} int8 is {:.2}% of f32", 100.0 * ratio);
            }
        }
    }
}

fn golden_sentences() -> Option<Vec<String>> {
    let path = asset("golden/golden.json")?;
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Some(v["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect())
}

/// The float reference run on the weights a blob stores (dequantized): isolates what storage
/// precision costs, independent of any kernel.
fn stored_model(ckpt: &Checkpoint, recipe: Recipe, dir: &Path) -> BertModel {
    let d = ModelDescription {
        model: &ckpt.model,
        tokenizer: &ckpt.tokenizer,
        pooling: ckpt.pooling,
        max_seq_len: ckpt.max_seq_len,
        source_sha256: "0".repeat(64),
    };
    let path = dir.join(format!("{}-{}.ebq", recipe.weights, recipe.embeddings));
    write_blob(&path, &metadata(&d, recipe), &tensors(&d, recipe, &mut |_, _, _| {}).unwrap(), true).unwrap();
    let blob = Blob::open(&path).unwrap();
    BertModel::new(ckpt.model.config.clone(), BertWeights::load(&ckpt.model.config, &blob).unwrap())
}

/// Per sentence: the embedding (pooled, as the checkpoint says) or the logits.
fn outputs(model: &BertModel, ckpt: &Checkpoint, seqs: &[Sequence]) -> Vec<Vec<f32>> {
    seqs.chunks(8)
        .flat_map(|chunk| {
            let out = model.forward(chunk, false).unwrap();
            match ckpt.pooling {
                Some(p) => model.embed_pooled(&out, p),
                None => model.classify_logits(&out).unwrap(),
            }
        })
        .collect()
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/golden.json + the shared models (README: Tests)"
)]
fn embedding_tables_in_int8_per_row_cost_little_accuracy() {
    let Some(sentences) = golden_sentences() else { return };
    for name in MODELS {
        let Some(dir) = asset(&format!("models/{name}")) else { return };
        let ckpt = Checkpoint::load(&dir).unwrap();
        let tok = TextTokenizer::new(&ckpt.tokenizer, ckpt.max_seq_len).unwrap();
        // The golden sentences up to 128 tokens (all but the 600-word truncation case, which costs
        // a minute of plain-f32 reference time per run and adds no information about storage).
        let seqs: Vec<Sequence> = sentences
            .iter()
            .map(|s| {
                let e = tok.encode(s).unwrap();
                Sequence { ids: e.ids, type_ids: e.type_ids }
            })
            .filter(|s| s.ids.len() <= 128)
            .collect();
        assert!(seqs.len() >= 30, "{} short sentences", seqs.len());
        let reference = outputs(&ckpt.model, &ckpt, &seqs);
        let tmp = tempfile::tempdir().unwrap();
        let recipes = [
            (Precision::F32, Precision::Int8),
            (Precision::F32, Precision::F16),
            (Precision::Int8, Precision::Int8),
        ];
        for (weights, embeddings) in recipes {
            let model = stored_model(&ckpt, Recipe { weights, embeddings }, tmp.path());
            let got = outputs(&model, &ckpt, &seqs);
            let label = format!("{name:<24} weights {weights:<4} embeddings {embeddings:<4}");
            if ckpt.pooling.is_some() {
                let min_cos = reference.iter().zip(&got).map(|(a, b)| cosine(a, b)).fold(1.0, f64::min);
                println!("{label}: embedding min cosine {min_cos:.6} over {} sentences", seqs.len());
                // Storage error only (activations stay f32 here): below this is a bug in
                // quantization or packing, not a precision trade-off.
                assert!(min_cos > 0.995, "{label}: min cosine {min_cos}");
                if embeddings == Precision::F16 {
                    assert!(min_cos > 0.99999, "{label}: f16 tables alone must be near-exact: {min_cos}");
                }
            } else {
                let probs: Vec<(Vec<f32>, Vec<f32>)> =
                    reference.iter().zip(&got).map(|(a, b)| (softmax(a), softmax(b))).collect();
                let max_dp = probs
                    .iter()
                    .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
                    .fold(0.0f32, f32::max);
                let agree = probs.iter().filter(|(a, b)| argmax(a) == argmax(b)).count();
                println!("{label}: max |Δprob| {max_dp:.5}, top label agreement {agree}/{}", seqs.len());
                assert!(max_dp < 0.1, "{label}: max |Δprob| {max_dp}");
                if embeddings == Precision::F16 {
                    assert!(max_dp < 1e-3, "{label}: f16 tables alone must be near-exact: {max_dp}");
                }
            }
        }
    }
}
