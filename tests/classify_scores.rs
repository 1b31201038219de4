//! How classification logits become scores, as transformers decides: a sigmoid for a one-label
//! head (a cross-encoder's relevance) and for `problem_type: multi_label_classification`, softmax
//! otherwise, the raw logits in `classify --json`.
//!
//! The transformers figure comes from the golden pair classifier: a one-label head whose row is
//! `w_entailment - w_neutral` (bias likewise) outputs exactly `logit_entailment - logit_neutral`,
//! so transformers' `torch.sigmoid(logits)` for that head is the sigmoid of the difference of the
//! two logits in families.json.

mod common;

use common::asset;
use edgebert_convert::blob::{convert_dir, Precision, Recipe};
use edgebert_convert::hf::Checkpoint;
use edgebert_convert::init::init_checkpoint;
use edgebert_convert::train::write_checkpoint;
use edgebert_engine::tokenizer::PairTruncation;
use edgebert_engine::Model;
use edgebert_models::{sigmoid, Linear, Sequence};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Reference (f32, generic kernels) and f32-blob scores against transformers' figure.
const SCORE_TOL: f32 = 2e-5;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgebert-scores-{tag}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number") as f32).collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().expect("an array").iter().map(|x| x.as_u64().expect("an id") as u32).collect()
}

/// An f32 blob of the checkpoint in `dir`, written beside it.
fn f32_blob(dir: &Path) -> Model {
    let blob = dir.join("model-f32.ebq");
    let recipe = Recipe { weights: Precision::F32, embeddings: Precision::F32 };
    convert_dir(dir, &blob, recipe, true, &mut |_| {}).expect("converts");
    Model::open(&blob).expect("opens")
}

/// `classify --pair --json` on `model` for the pairs `a[i]`, `b[i]`: (score, logits) per line.
fn cli_scores(model: &Path, pairs: &[(&str, &str)]) -> Vec<(f32, Vec<f32>)> {
    let mut args =
        vec!["classify".to_string(), model.display().to_string(), "--pair".into(), "--json".into()];
    args.extend(pairs.iter().flat_map(|(a, b)| [a.to_string(), b.to_string()]));
    let o = Command::new(env!("CARGO_BIN_EXE_edgebert")).args(&args).output().expect("the binary runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object per line");
            (v["score"].as_f64().expect("score") as f32, floats(&v["logits"]))
        })
        .collect()
}

#[test]
fn one_label_head_scores_are_transformers_sigmoid() {
    let Some(src) = asset("models/tiny-bert-pair-cls") else { return };
    let Some(golden) = asset("golden/families.json") else { return };
    let golden: Value = serde_json::from_slice(&std::fs::read(golden).expect("reads")).expect("JSON");
    let items = golden["models"]["tiny-bert-pair-cls"]["items"].as_array().expect("items").clone();

    let mut teacher = Checkpoint::load(&src).expect("loads").model;
    let c = teacher.weights.classifier.as_ref().expect("a classifier");
    let h = c.in_dim;
    let row = |i: usize| &c.weight[i * h..(i + 1) * h];
    let weight = row(0).iter().zip(row(1)).map(|(a, b)| a - b).collect();
    let one = Linear { weight, bias: vec![c.bias[0] - c.bias[1]], in_dim: h, out_dim: 1 };
    teacher.weights.classifier = Some(one);
    teacher.config.id2label = vec!["relevant".into()];
    let dir = temp_dir("one-label");
    write_checkpoint(&teacher, &src, &dir).expect("writes the one-label checkpoint");

    let reference = Checkpoint::load(&dir).expect("the one-label checkpoint loads");
    assert_eq!(reference.config().id2label.len(), 1);
    let engine = f32_blob(&dir);
    let mut session = engine.session();
    let mut scores = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let logits = floats(&item["logits"]);
        let want = sigmoid(logits[0] - logits[1]);
        let seq = Sequence { ids: ids(&item["input_ids"]), type_ids: ids(&item["token_type_ids"]) };
        let out = reference.model.forward(std::slice::from_ref(&seq), false).expect("reference runs");
        let ref_logit = reference.model.classify_logits(&out).expect("logits")[0][0];
        let got = session.classify_sequences(std::slice::from_ref(&seq)).expect("engine runs").remove(0);
        assert_eq!((got.label.as_str(), got.probs.len()), ("relevant", 1));
        assert!((sigmoid(ref_logit) - want).abs() <= SCORE_TOL, "item {i}: reference {ref_logit} vs {want}");
        assert!(
            (got.score - want).abs() <= SCORE_TOL,
            "item {i}: engine {} vs transformers {want}",
            got.score
        );
        assert_eq!(got.probs[0], got.score);
        scores.push(got.score);
    }
    let spread =
        scores.iter().copied().fold(f32::MIN, f32::max) - scores.iter().copied().fold(f32::MAX, f32::min);
    assert!(spread > 0.05, "the pairs must score differently, not all 1.0: {scores:?}");

    // The command line, on the checkpoint (reference path) and on the blob (engine): the score
    // is the sigmoid of the logit it prints.
    let pairs = [("A man is eating.", "Someone eats food."), ("A man is eating.", "The sky is blue.")];
    for model in [dir.clone(), dir.join("model-f32.ebq")] {
        let lines = cli_scores(&model, &pairs);
        assert_eq!(lines.len(), 2);
        for (score, logits) in &lines {
            assert_eq!(logits.len(), 1);
            assert!((score - sigmoid(logits[0])).abs() <= 1e-6, "{score} vs sigmoid({})", logits[0]);
        }
        assert_ne!(lines[0].0, lines[1].0, "{}: both pairs scored the same", model.display());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn init_cross_encoder_and_multi_label_heads_score_with_sigmoids() {
    let Some(src) = asset("models/tiny-bert-pair-cls") else { return };
    let config: Value =
        serde_json::from_slice(&std::fs::read(src.join("config.json")).expect("reads")).expect("JSON");
    for (tag, labels, problem_type) in
        [("cross-encoder", 1, None), ("multi-label", 3, Some("multi_label_classification"))]
    {
        let mut config = config.clone();
        let map = config.as_object_mut().expect("an object");
        map.remove("label2id");
        map.remove("id2label");
        map.insert("num_labels".into(), labels.into());
        if let Some(p) = problem_type {
            map.insert("problem_type".into(), p.into());
        }
        let dir = temp_dir(tag);
        std::fs::create_dir_all(&dir).expect("dir");
        let config_path = dir.join("source-config.json");
        std::fs::write(&config_path, serde_json::to_string(&config).expect("JSON")).expect("writes");
        let ckpt_dir = dir.join("checkpoint");
        init_checkpoint(&config_path, &ckpt_dir, 3, Some(&src), false).expect("init");

        let reference = Checkpoint::load(&ckpt_dir).expect("loads");
        assert_eq!(reference.config().id2label.len(), labels, "{tag}: num_labels read");
        let engine = f32_blob(&ckpt_dir);
        let tok = engine.tokenizer();
        let mut session = engine.session();
        let pairs = [("a dog runs", "an animal moves"), ("stocks fell", "the cat sleeps"), ("", "hello")];
        let mut first_scores = Vec::new();
        for (a, b) in pairs {
            let e = tok.encode_pair(a, b, PairTruncation::LongestFirst).expect("encodes");
            let seq = Sequence { ids: e.ids, type_ids: e.type_ids };
            let out = reference.model.forward(std::slice::from_ref(&seq), false).expect("reference runs");
            let logits = reference.model.classify_logits(&out).expect("logits").remove(0);
            let got = session.classify_sequences(std::slice::from_ref(&seq)).expect("engine runs").remove(0);
            assert_eq!(got.probs.len(), labels);
            for (l, (p, q)) in logits.iter().zip(got.probs.iter().zip(&got.logits)) {
                assert!((p - sigmoid(*l)).abs() <= SCORE_TOL, "{tag}: engine {p} vs sigmoid({l})");
                assert!((q - l).abs() <= SCORE_TOL, "{tag}: engine logit {q} vs reference {l}");
            }
            if labels > 1 {
                let sum: f32 = got.probs.iter().sum();
                assert!((sum - 1.0).abs() > 1e-3, "{tag}: sigmoids that sum to 1 look like a softmax");
            }
            first_scores.push(got.probs[0]);
        }
        assert!(first_scores.windows(2).any(|w| w[0] != w[1]), "{tag}: every pair scored {first_scores:?}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
