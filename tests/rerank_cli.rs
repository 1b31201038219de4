//! `edgebert rerank` against scores computed independently from the same weights: a one-label
//! `BertForSequenceClassification` (random weights from `edgebert init`, tests/data/rerank/
//! config.json, seed 19) scored in float64 numpy by scripts/rerank_reference.py, whose output
//! is checked in as tests/data/rerank/expected.json (CI's Python has no numpy; the script says
//! how to regenerate it). Bar of issue 19: within 1e-5 for f32 blobs, same order.

mod common;

use common::asset;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn edgebert(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_edgebert")).args(args).output().expect("the binary runs");
    assert!(out.status.success(), "edgebert {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(relative)
}

/// The cross-encoder checkpoint and its f32 blob, in a fresh temporary directory.
fn cross_encoder(tokenizer: &Path, tag: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("edgebert-rerank-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ckpt = dir.join("cross");
    let config = data("rerank/config.json");
    edgebert(&["init", s(&config), "-o", s(&ckpt), "--seed", "19", "--tokenizer", s(tokenizer)]);
    let blob = dir.join("cross-f32.ebq");
    edgebert(&["convert", s(&ckpt), "-o", s(&blob), "--weights", "f32", "--embeddings", "f32"]);
    (ckpt, blob)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 paths")
}

fn rerank_json(model: &Path, query: &str, docs: &[String]) -> Vec<(usize, f64)> {
    let mut args = vec!["rerank", s(model), "--query", query, "--json"];
    args.extend(docs.iter().map(String::as_str));
    let out = edgebert(&args);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("JSON line");
            (v["index"].as_u64().unwrap() as usize, v["score"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn cross_encoder_scores_match_numpy_within_1e5_in_the_same_order() {
    let Some(tokenizer) = asset("models/tiny-bert-pair-cls") else { return };
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(data("rerank/expected.json")).unwrap()).unwrap();
    let query = expected["query"].as_str().unwrap();
    let rows = expected["documents"].as_array().unwrap();
    let docs: Vec<String> = rows.iter().map(|r| r["document"].as_str().unwrap().to_string()).collect();
    let want: Vec<f64> = rows.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    let order: Vec<usize> =
        expected["order"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    assert!(rows.iter().any(|r| r["tokens"].as_u64() == Some(128)), "one document must need truncation");
    let (ckpt, blob) = cross_encoder(&tokenizer, "bar");
    for model in [&blob, &ckpt] {
        let got = rerank_json(model, query, &docs);
        let got_order: Vec<usize> = got.iter().map(|g| g.0).collect();
        assert_eq!(got_order, order, "{}", model.display());
        let worst = got.iter().map(|&(i, score)| (score - want[i]).abs()).fold(0.0, f64::max);
        eprintln!("{}: max |score - numpy| = {worst:.2e}", model.display());
        assert!(worst < 1e-5, "{}: max error {worst}", model.display());
    }
    // --top-k keeps the best; the table names the documents by their 1-based line number.
    let mut args = vec!["rerank", s(&blob), "--query", query, "--top-k", "2"];
    args.extend(docs.iter().map(String::as_str));
    let table = String::from_utf8_lossy(&edgebert(&args).stdout).into_owned();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.lines().nth(1).unwrap().contains(&format!("  {}  ", order[0] + 1)), "{table}");
}

#[test]
fn bi_encoder_rerank_is_the_embedding_cosine() {
    let Some(model) = asset("models/all-minilm-l6-v2") else { return };
    let docs = ["A cat slept on the sofa.".to_string(), "Stocks fell on Monday.".to_string()];
    let got = rerank_json(&model, "a sleeping pet", &docs);
    assert_eq!(got[0].0, 0, "{got:?}");
    let out = edgebert(&["embed", s(&model), "--json", "a sleeping pet", &docs[0], &docs[1]]);
    let vecs: Vec<Vec<f32>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    for &(i, score) in &got {
        let cos = edgebert_models::cosine(&vecs[0], &vecs[i + 1]);
        assert!((cos - score).abs() < 1e-6, "doc {i}: {score} vs {cos}");
    }
}

#[test]
fn a_classifier_with_several_labels_is_refused_clearly() {
    let Some(model) = asset("models/tiny-bert-pair-cls") else { return };
    let out = Command::new(env!("CARGO_BIN_EXE_edgebert"))
        .args(["rerank", s(&model), "--query", "q", "a document"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 labels") && err.contains("exactly one"), "{err}");
}
