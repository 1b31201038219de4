//! `edgebert tag | answer | fill | classify --pair` end to end against transformers' pipelines
//! (families.json): from the Hugging Face directory (reference path) and from an f32 blob the
//! outputs match within 1e-4 (words, spans, labels and tokens exact); an int8 blob gives the same
//! decisions, and the measured score error is printed (`--nocapture`) and bounded.

mod common;

use common::asset;
use edgebert_convert::blob::{convert_dir, Precision, Recipe};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const F32_TOL: f64 = 1e-4;
/// Largest pipeline-score differences accepted from the f16 and int8 blobs (scores are
/// probabilities).
const F16_TOL: f64 = 5e-3;
const INT8_TOL: f64 = 0.05;
/// Most entities (ours and transformers' counted apart) of the 8 tagged texts a quantized blob
/// may group differently, each over a token whose own margin is within twice the tolerance
/// (measured: 7 with the int8 blob on avx512-vnni).
const MAX_EXCUSED_TOKENS: usize = 8;

/// The score tolerance of a path.
fn tolerance(what: &str) -> f64 {
    match what {
        "int8" => INT8_TOL,
        "f16" => F16_TOL,
        _ => F32_TOL,
    }
}

fn edgebert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgebert")).args(args).output().expect("the binary runs")
}

/// Runs the CLI, which must succeed, and parses each stdout line as JSON.
fn json_lines(args: &[&str]) -> Vec<Value> {
    let out = edgebert(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn fails_with(args: &[&str], message: &str) {
    let out = edgebert(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains(message), "{args:?}: {stderr}");
}

struct Case {
    name: &'static str,
    golden: Value,
    /// (what, MODEL argument): the HF directory, an f32, an f16 and an int8 blob.
    paths: Vec<(&'static str, PathBuf)>,
}

fn case(name: &'static str, dir: &Path) -> Option<Case> {
    let path = asset("golden/families.json")?;
    let fam: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let hf = asset(&format!("models/{name}"))?;
    let mut paths = vec![("reference", hf.clone())];
    for (what, p) in [("f32", Precision::F32), ("f16", Precision::F16), ("int8", Precision::Int8)] {
        let out = dir.join(format!("{name}-{what}.ebq"));
        convert_dir(&hf, &out, Recipe { weights: p, embeddings: p }, true, &mut |_| {}).unwrap();
        paths.push((what, out));
    }
    Some(Case { name, golden: fam["models"][name].clone(), paths })
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgebert-tasks-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn items(c: &Case) -> &Vec<Value> {
    c.golden["items"].as_array().unwrap()
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item[key].as_str().unwrap()
}

/// Tracks the largest score difference of one path and checks it against its tolerance; counts
/// the quantized blobs' decisions that differ from transformers' where its own margin was too
/// thin to hold.
struct Scores {
    what: &'static str,
    worst: f64,
    close: usize,
}

impl Scores {
    fn new(what: &'static str) -> Scores {
        Scores { what, worst: 0.0, close: 0 }
    }

    /// Whether a decision may differ: only for a quantized blob, only where transformers' margin
    /// between its choice and the runner-up (as a probability) is within twice its tolerance.
    fn may_differ(&mut self, margin: f64) -> bool {
        let allowed = self.what != "reference" && self.what != "f32" && margin <= 2.0 * tolerance(self.what);
        self.close += allowed as usize;
        allowed
    }

    fn compare(&mut self, context: &str, got: &Value, want: &Value) {
        let d = (got.as_f64().unwrap() - want.as_f64().unwrap()).abs();
        self.worst = self.worst.max(d);
        let tol = tolerance(self.what);
        assert!(d <= tol, "{} {context}: score {got} vs transformers {want}", self.what);
    }

    fn report(&self, name: &str, decisions: usize) {
        println!(
            "{name:<20} {:<9} {decisions} decisions agree, {} differ within transformers' margin, max |Δscore| {:.2e}",
            self.what, self.close, self.worst
        );
    }
}

/// Probability gap between the best and second-best of a softmax over `logits`.
fn margin(logits: &[f64]) -> f64 {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    let mut p: Vec<f64> = e.iter().map(|x| x / sum).collect();
    p.sort_by(|a, b| b.total_cmp(a));
    p[0] - p.get(1).copied().unwrap_or(0.0)
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn tag_matches_the_token_classification_pipeline() {
    let dir = temp_dir("tag");
    let Some(c) = case("tiny-bert-token-cls", &dir) else { return };
    let texts: Vec<&str> = items(&c).iter().map(|it| text(it, "text")).collect();
    for (what, model) in &c.paths {
        let mut args = vec!["tag", model.to_str().unwrap(), "--json"];
        args.extend(&texts);
        let lines = json_lines(&args);
        assert_eq!(lines.len(), texts.len());
        let (mut scores, mut decisions) = (Scores::new(what), 0);
        for (i, (got, item)) in lines.iter().zip(items(&c)).enumerate() {
            let (got, want) = (got.as_array().unwrap(), item["pipeline"].as_array().unwrap());
            let same = |a: &Value, b: &Value| {
                a["start"] == b["start"] && a["end"] == b["end"] && a["entity_group"] == b["entity_group"]
            };
            // Entities one side has and the other lacks: a token under each must be one whose own
            // label margin is thin (the token that flipped and regrouped its neighbours); the
            // entities both agree on are checked in full.
            let unmatched: Vec<&Value> = got
                .iter()
                .filter(|g| !want.iter().any(|w| same(g, w)))
                .chain(want.iter().filter(|w| !got.iter().any(|g| same(g, w))))
                .collect();
            let rows = item["logits"].as_array().unwrap();
            let offsets = item["offsets"].as_array().unwrap();
            for e in &unmatched {
                let (start, end) = (e["start"].as_u64().unwrap(), e["end"].as_u64().unwrap());
                // Special tokens (first and last) carry no entity.
                let thinnest = offsets
                    .iter()
                    .enumerate()
                    .skip(1)
                    .take(rows.len().saturating_sub(2))
                    .filter(|(_, span)| span[0].as_u64().unwrap() < end && start < span[1].as_u64().unwrap())
                    .map(|(t, _)| margin(&f64s(&rows[t])))
                    .fold(1.0, f64::min);
                assert!(
                    scores.may_differ(thinnest),
                    "{what} item {i}: entity {e} differs, and none of its tokens has a thin margin ({thinnest})"
                );
            }
            for g in got.iter().filter(|g| want.iter().any(|w| same(g, w))) {
                let w = want.iter().find(|w| same(g, w)).unwrap();
                for key in ["entity_group", "word", "start", "end"] {
                    assert_eq!(g[key], w[key], "{what} item {i}: {key}");
                }
                scores.compare(&format!("item {i}"), &g["score"], &w["score"]);
                decisions += 1;
            }
        }
        assert!(
            scores.close <= MAX_EXCUSED_TOKENS,
            "{what}: {} entities excused for thin margins (at most {MAX_EXCUSED_TOKENS})",
            scores.close
        );
        scores.report(c.name, decisions);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn answer_matches_the_question_answering_pipeline() {
    let dir = temp_dir("answer");
    let Some(c) = case("tiny-bert-qa", &dir) else { return };
    let p = &c.golden["pipeline_params"];
    let opt = |k: &str| p[k].to_string();
    let (seq, stride, longest, top_k) =
        (opt("max_seq_len"), opt("doc_stride"), opt("max_answer_len"), opt("top_k"));
    for (what, model) in &c.paths {
        let (mut scores, mut decisions) = (Scores::new(what), 0);
        for (i, item) in items(&c).iter().enumerate() {
            let (q, ctx) = (text(item, "question"), text(item, "context"));
            let mut args = vec!["answer", model.to_str().unwrap(), "-q", q, "-c", ctx, "--json"];
            args.extend([
                "--max-seq-len",
                &seq,
                "--stride",
                &stride,
                "--max-answer-len",
                &longest,
                "--top-k",
                &top_k,
            ]);
            let want = &item["pipeline"];
            if want.get("error").is_some() {
                fails_with(&args, "the question is empty");
                continue;
            }
            let got = json_lines(&args);
            assert_eq!(got.len(), 1, "{what} item {i}");
            for key in ["answer", "start", "end"] {
                assert_eq!(got[0][key], want[key], "{what} item {i}: {key}");
            }
            scores.compare(&format!("item {i}"), &got[0]["score"], &want["score"]);
            decisions += 1;
        }
        scores.report(c.name, decisions);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn fill_matches_the_fill_mask_pipeline() {
    let dir = temp_dir("fill");
    let Some(c) = case("tiny-bert-mlm", &dir) else { return };
    let top_k = c.golden["pipeline_params"]["top_k"].to_string();
    for (what, model) in &c.paths {
        let (mut scores, mut decisions) = (Scores::new(what), 0);
        for (i, item) in items(&c).iter().enumerate() {
            let args = ["fill", model.to_str().unwrap(), text(item, "text"), "--top-k", &top_k, "--json"];
            let want = &item["pipeline"];
            if want.get("error").is_some() {
                fails_with(&args, "no [MASK] token");
                continue;
            }
            let got = json_lines(&args);
            let (got, want) = (got[0].as_array().unwrap(), want.as_array().unwrap());
            assert_eq!(got.len(), want.len(), "{what} item {i}: masks");
            for (m, (g, w)) in got.iter().zip(want).enumerate() {
                let (g, w) = (g.as_array().unwrap(), w.as_array().unwrap());
                let ids = |v: &[Value]| {
                    let mut ids: Vec<u64> = v.iter().map(|x| x["token"].as_u64().unwrap()).collect();
                    ids.sort_unstable();
                    ids
                };
                if *what == "int8" {
                    // The top guess; lower ranks are 2e-4 apart in logit, closer than int8 error.
                    assert_eq!(g[0]["token"], w[0]["token"], "{what} item {i} mask {m}: top token");
                } else {
                    // Neighbours 2e-4 apart in logit may swap: ids as a set, scores rank by rank.
                    assert_eq!(ids(g), ids(w), "{what} item {i} mask {m}");
                }
                for (r, (gr, wr)) in g.iter().zip(w).enumerate() {
                    scores.compare(&format!("item {i} mask {m} rank {r}"), &gr["score"], &wr["score"]);
                    let same = w.iter().find(|x| x["token"] == gr["token"]);
                    if let Some(same) = same {
                        assert_eq!(gr["token_str"], same["token_str"]);
                    }
                }
                decisions += 1;
            }
        }
        scores.report(c.name, decisions);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn classify_pair_matches_the_pair_classifier() {
    let dir = temp_dir("pair");
    let Some(c) = case("tiny-bert-pair-cls", &dir) else { return };
    let pairs: Vec<&str> =
        items(&c).iter().flat_map(|it| [text(it, "text"), text(it, "text_pair")]).collect();
    let tsv = dir.join("pairs.tsv");
    let lines: Vec<String> = pairs.chunks(2).map(|p| format!("{}\t{}\n", p[0], p[1])).collect();
    std::fs::write(&tsv, lines.concat()).unwrap();
    for (what, model) in &c.paths {
        let mut args = vec!["classify", model.to_str().unwrap(), "--pair", "--json"];
        args.extend(&pairs);
        let from_args = json_lines(&args);
        let from_tsv = json_lines(&[
            "classify",
            model.to_str().unwrap(),
            "--pair",
            "--json",
            "-f",
            tsv.to_str().unwrap(),
        ]);
        assert_eq!(from_args, from_tsv, "{what}: arguments and TSV");
        let mut scores = Scores::new(what);
        for (i, (got, item)) in from_args.iter().zip(items(&c)).enumerate() {
            if got["label"] != item["predicted"] {
                let m = margin(&f64s(&item["logits"]));
                assert!(
                    scores.may_differ(m),
                    "{what} item {i}: {} vs {} (margin {m})",
                    got["label"],
                    item["predicted"]
                );
            }
            for (g, w) in got["probs"].as_array().unwrap().iter().zip(item["probs"].as_array().unwrap()) {
                scores.compare(&format!("item {i}"), g, w);
            }
        }
        scores.report(c.name, from_args.len() - scores.close);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-bert-qa (README: Tests)")]
fn bad_task_input_is_a_clear_error() {
    let Some(qa) = asset("models/tiny-bert-qa") else { return };
    let Some(mlm) = asset("models/tiny-bert-mlm") else { return };
    let (qa, mlm) = (qa.to_str().unwrap(), mlm.to_str().unwrap());
    fails_with(&["answer", qa, "-q", "Who?", "-c", ""], "the context is empty");
    fails_with(&["answer", qa, "-q", "Who?"], "no context");
    fails_with(
        &["answer", qa, "-q", "Who?", "-c", "Jane wrote it.", "--top-k", "0"],
        "top-k must be at least 1",
    );
    fails_with(
        &["answer", qa, "-q", "Who?", "-c", "a b c d e f g h", "--max-seq-len", "8", "--stride", "6"],
        "stride",
    );
    fails_with(&["fill", mlm, "a [MASK] here", "no mask here"], "text 2: no [MASK] token");
    fails_with(&["tag", mlm, "John"], "`edgebert tag` needs a token_classification model");
    fails_with(&["fill", qa, "a [MASK]"], "needs a masked_lm model");
    fails_with(&["classify", qa, "--pair", "a", "b"], "needs a sequence_classification model");
    fails_with(&["classify", mlm, "--pair", "a", "b", "c"], "two by two");
    let dir = temp_dir("bad");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, b"caf\xe9").unwrap();
    fails_with(&["answer", qa, "-q", "Who?", "--context-file", bad.to_str().unwrap()], "invalid UTF-8");
    std::fs::remove_dir_all(dir).ok();
}
