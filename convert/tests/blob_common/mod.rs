//! Helpers for the blob writer tests: a small synthetic BERT, and the shared assets.
#![allow(dead_code)]

use edgebert_convert::blob::ModelDescription;
use edgebert_engine::tokenizer::TokenizerSpec;
use edgebert_models::schema::bert_schema;
use edgebert_models::{Activation, BertModel, BertWeights, Config, Family, Head, ModelError, TensorSource};
use std::path::{Path, PathBuf};

/// Odd sizes on purpose: 21 outputs = one full panel of 16 plus 5, k = 10 is not a multiple of 4.
pub fn synthetic_config() -> Config {
    Config {
        architecture: "BertForSequenceClassification".into(),
        family: Family::Bert,
        head: Head::SequenceClassification,
        embedding_size: 10,
        position_offset: 0,
        hidden_act: Activation::GeluErf,
        shared_layers: false,
        vocab_size: 37,
        hidden_size: 10,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 21,
        max_position_embeddings: 16,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        id2label: vec!["a".into(), "b".into(), "c".into()],
        problem_type: None,
    }
}

struct Lcg(Vec<(String, Vec<usize>)>);

impl TensorSource for Lcg {
    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone())
    }
    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        let shape = self.shape(name).ok_or_else(|| ModelError::MissingTensor { name: name.into() })?;
        let mut s = name.bytes().fold(7u64, |h, b| h.wrapping_mul(131).wrapping_add(b as u64));
        Ok((0..shape.iter().product::<usize>())
            .map(|i| {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                // A few large values per tensor make per-row scales differ a lot.
                let unit = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                if i % 17 == 3 {
                    unit * 8.0
                } else {
                    unit
                }
            })
            .collect())
    }
}

pub fn synthetic_model() -> BertModel {
    let config = synthetic_config();
    let specs = bert_schema(&config, "", true, Some(config.id2label.len()));
    let source = Lcg(specs.into_iter().map(|s| (s.name, s.shape)).collect());
    let weights = BertWeights::load(&config, &source).expect("synthetic weights load");
    BertModel::new(config, weights)
}

pub fn wordpiece() -> TokenizerSpec {
    let vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    TokenizerSpec::WordPiece { vocab: vocab.join("\n"), lowercase: true }
}

pub fn description<'a>(model: &'a BertModel, tokenizer: &'a TokenizerSpec) -> ModelDescription<'a> {
    ModelDescription { model, tokenizer, pooling: None, max_seq_len: 12, source_sha256: "ab".repeat(32) }
}

pub fn assets_root() -> PathBuf {
    match std::env::var_os("EDGEBERT_ASSETS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/assets"),
    }
}

/// The asset, or `None` after saying why — a failure instead when EDGEBERT_REQUIRE_ASSETS=1.
pub fn asset(relative: &str) -> Option<PathBuf> {
    let path = assets_root().join(relative);
    if path.exists() {
        return Some(path);
    }
    let required = std::env::var("EDGEBERT_REQUIRE_ASSETS").is_ok_and(|v| v == "1");
    assert!(!required, "asset {} is missing and EDGEBERT_REQUIRE_ASSETS=1", path.display());
    eprintln!("skipped: asset {} is missing (set EDGEBERT_ASSETS)", path.display());
    None
}
