//! The float reference path against PyTorch/transformers outputs (golden/golden.json) for the
//! three shared models and all 32 sentences: token ids identical, logits and probabilities within
//! 2e-5, embeddings cosine >= 0.99999 and max abs difference <= 2e-6, last_hidden_state within
//! 2e-5. Measured (2026-12-02, `cargo test --test golden -- --nocapture`): logits 3.3e-6,
//! embeddings 1.8e-7, last_hidden_state 2.9e-6; the bounds are tight enough that a LayerNorm
//! epsilon of 1e-5 instead of the checkpoint's 1e-12 fails them
//! (`tolerance_catches_a_layer_norm_epsilon_mix_up`).

mod common;

use common::{asset, max_abs_diff};
use edgebert_convert::reference::ReferencePipeline;
use edgebert_models::cosine;
use edgebert_models::Sequence;
use serde_json::Value;

const LOGIT_TOL: f32 = 2e-5;
const EMBEDDING_TOL: f32 = 2e-6;
const EMBEDDING_MIN_COSINE: f64 = 0.99999;
const HIDDEN_TOL: f32 = 2e-5;

struct Golden {
    sentences: Vec<String>,
    models: Value,
}

fn golden() -> Option<Golden> {
    let path = asset("golden/golden.json")?;
    let text = std::fs::read_to_string(&path).expect("golden.json is readable");
    let v: Value = serde_json::from_str(&text).expect("golden.json is JSON");
    let sentences = v["sentences"]
        .as_array()
        .expect("sentences")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect();
    Some(Golden { sentences, models: v["models"].clone() })
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number") as f32).collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("id") as u32).collect()
}

/// Checks token ids and last_hidden_state (where golden has one) for every sentence; returns the
/// pipeline and the golden entries for the head-specific checks.
fn check_encoder(name: &str) -> Option<(ReferencePipeline, Vec<Value>, Vec<String>)> {
    let golden = golden()?;
    let dir = asset(&format!("models/{name}"))?;
    let pipeline = ReferencePipeline::open(&dir).expect("checkpoint loads");
    let entries = golden.models[name].as_array().expect("model entries").clone();
    assert_eq!(entries.len(), golden.sentences.len());
    let texts: Vec<&str> = golden.sentences.iter().map(String::as_str).collect();
    let encoded = pipeline.tokenize(&texts).expect("tokenizes");
    let mut worst_hidden = None::<f32>;
    for (i, (enc, entry)) in encoded.iter().zip(&entries).enumerate() {
        assert_eq!(enc.ids, ids(&entry["input_ids"]), "{name}: token ids of sentence {i} ({:?})", texts[i]);
        if let Some(hidden) = entry.get("last_hidden_state").filter(|h| !h.is_null()) {
            let want: Vec<f32> = hidden.as_array().expect("rows").iter().flat_map(floats).collect();
            let out =
                pipeline.checkpoint.model.forward(&[Sequence::new(enc.ids.clone())], false).expect("forward");
            let diff = max_abs_diff(&out.last_hidden_state, &want);
            assert!(diff <= HIDDEN_TOL, "{name}: last_hidden_state of sentence {i} differs by {diff}");
            worst_hidden = Some(worst_hidden.unwrap_or(0.0).max(diff));
        }
    }
    if let Some(worst) = worst_hidden {
        eprintln!("{name}: max last_hidden_state difference {worst:e}");
    }
    Some((pipeline, entries, golden.sentences))
}

fn check_classifier(name: &str) {
    let Some((pipeline, entries, sentences)) = check_encoder(name) else { return };
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let results = pipeline.classify(&texts).expect("classifies");
    let mut worst = 0.0f32;
    for (i, (r, entry)) in results.iter().zip(&entries).enumerate() {
        let diff = max_abs_diff(&r.logits, &floats(&entry["logits"]));
        worst = worst.max(diff);
        assert!(diff <= LOGIT_TOL, "{name}: logits of sentence {i} differ by {diff}");
        let prob_diff = max_abs_diff(&r.probs, &floats(&entry["probs"]));
        assert!(prob_diff <= LOGIT_TOL, "{name}: probs of sentence {i} differ by {prob_diff}");
    }
    eprintln!("{name}: max logit difference {worst:e} over {} sentences", results.len());
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/golden.json + models/minilm-l6-rt-sentiment (README: Tests)"
)]
fn minilm_sentiment_matches_transformers() {
    check_classifier("minilm-l6-rt-sentiment");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/golden.json + models/categorium-tiny-bert-en (README: Tests)"
)]
fn categorium_matches_transformers() {
    check_classifier("categorium-tiny-bert-en");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/golden.json + models/all-minilm-l6-v2 (README: Tests)"
)]
fn all_minilm_embeddings_match_sentence_transformers() {
    let name = "all-minilm-l6-v2";
    let Some((pipeline, entries, sentences)) = check_encoder(name) else { return };
    assert_eq!(pipeline.max_seq_len(), 256, "sentence_bert_config.json says 256");
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let embeddings = pipeline.embed(&texts).expect("embeds");
    let (mut worst_cos, mut worst_abs) = (1.0f64, 0.0f32);
    for (i, (e, entry)) in embeddings.iter().zip(&entries).enumerate() {
        let want = floats(&entry["embedding"]);
        let (cos, abs) = (cosine(e, &want), max_abs_diff(e, &want));
        worst_cos = worst_cos.min(cos);
        worst_abs = worst_abs.max(abs);
        assert!(cos >= EMBEDDING_MIN_COSINE, "{name}: cosine of sentence {i} is {cos}");
        assert!(abs <= EMBEDDING_TOL, "{name}: embedding of sentence {i} differs by {abs}");
    }
    eprintln!("{name}: min cosine {worst_cos:.7}, max abs difference {worst_abs:e}");
}

/// The logit tolerance has teeth: the sentiment model with a LayerNorm epsilon of 1e-5 (RoBERTa's
/// and many configs' default) instead of its 1e-12 moves the logits of the first golden sentences
/// by more than LOGIT_TOL.
#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/golden.json + models/minilm-l6-rt-sentiment (README: Tests)"
)]
fn tolerance_catches_a_layer_norm_epsilon_mix_up() {
    let name = "minilm-l6-rt-sentiment";
    let (Some(golden), Some(dir)) = (golden(), asset(&format!("models/{name}"))) else { return };
    let mut pipeline = ReferencePipeline::open(&dir).expect("checkpoint loads");
    assert_eq!(pipeline.checkpoint.model.config.layer_norm_eps, 1e-12);
    pipeline.checkpoint.model.config.layer_norm_eps = 1e-5;
    let texts: Vec<&str> = golden.sentences.iter().take(6).map(String::as_str).collect();
    let entries = golden.models[name].as_array().expect("model entries");
    let results = pipeline.classify(&texts).expect("classifies");
    let worst = results
        .iter()
        .zip(entries)
        .map(|(r, entry)| max_abs_diff(&r.logits, &floats(&entry["logits"])))
        .fold(0.0f32, f32::max);
    eprintln!("{name}: layer_norm_eps 1e-5 instead of 1e-12 moves the logits by {worst:e}");
    assert!(worst > LOGIT_TOL, "an epsilon mix-up ({worst}) passes the logit tolerance {LOGIT_TOL}");
}
