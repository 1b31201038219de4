//! Labelled text to token ids.

use crate::eval::Example;
use anyhow::{bail, Result};
use edgebert_engine::tokenizer::TextTokenizer;
use edgebert_models::Sequence;

/// One training or dev example, tokenised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledSequence {
    pub sequence: Sequence,
    pub label: usize,
}

/// Tokenises labelled examples; `what` names the file in errors.
pub fn encode_examples(
    tokenizer: &TextTokenizer,
    examples: &[Example],
    what: &str,
) -> Result<Vec<LabelledSequence>> {
    examples
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let Some(label) = e.label else {
                bail!("{what}: example {} has no label (expected `label<TAB>text`)", i + 1);
            };
            let enc = tokenizer.encode(&e.text)?;
            Ok(LabelledSequence { sequence: Sequence { ids: enc.ids, type_ids: enc.type_ids }, label })
        })
        .collect()
}
