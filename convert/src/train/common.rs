//! Set-up shared by fine-tuning and distillation: reading and tokenising the data, the dropout
//! rates of `config.json`.

use super::data::{encode_examples, LabelledSequence};
use crate::eval::read_examples;
use crate::hf::Checkpoint;
use anyhow::{bail, Context, Result};
use edgebert_engine::tokenizer::TextTokenizer;
use edgebert_models::{Config, Family, Head};
use serde_json::Value;
use std::path::Path;

/// `hidden_dropout_prob` and `attention_probs_dropout_prob` of the checkpoint (0.1 when unset,
/// as transformers defaults).
pub(crate) fn dropout_rates(dir: &Path) -> Result<(f32, f32)> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display()))?;
    let rate = |key: &str| v.get(key).and_then(Value::as_f64).unwrap_or(0.1) as f32;
    Ok((rate("hidden_dropout_prob"), rate("attention_probs_dropout_prob")))
}

/// Tokenised `label<TAB>text` rows of `path`, at most `limit` of them (all when `None`).
pub(crate) fn load_examples(
    tokenizer: &TextTokenizer,
    path: &Path,
    limit: Option<usize>,
) -> Result<Vec<LabelledSequence>> {
    let mut examples = read_examples(path)?;
    if let Some(n) = limit {
        examples.truncate(n);
    }
    encode_examples(tokenizer, &examples, &path.display().to_string())
}

/// The checkpoint's tokenizer, truncating to `max_len` (capped by the checkpoint's own limit).
pub(crate) fn tokenizer(checkpoint: &Checkpoint, max_len: usize) -> Result<TextTokenizer> {
    TextTokenizer::new(&checkpoint.tokenizer, max_len.min(checkpoint.max_seq_len))
        .with_context(|| format!("{}: cannot build the tokenizer", checkpoint.dir.display()))
}

/// Training runs BERT's forward and backward pass with a sequence-classification head; other
/// families and heads run (reference, engine) but are not trainable yet.
pub fn ensure_trainable(config: &Config) -> Result<()> {
    if config.family != Family::Bert || !matches!(config.head, Head::None | Head::SequenceClassification) {
        bail!(
            "training supports BERT encoders (BertModel, BertForSequenceClassification); this checkpoint is {}",
            config.architecture
        );
    }
    Ok(())
}
