//! Token classification: per-token labels grouped into entities, as transformers'
//! `TokenClassificationPipeline` does with `aggregation_strategy="simple"`.
//!
//! Each token (special tokens skipped) takes its argmax label with that label's softmax
//! probability. Neighbouring tokens merge while their tag (the label without `B-`/`I-`) stays the
//! same and the newcomer is not a `B-`; a label without a prefix counts as `I-`. A group's score is
//! the mean of its tokens' scores, its word the tokens joined by the tokenizer's decoder, its span
//! the first token's start to the last token's end. Groups labelled `O` are dropped.

use super::{expect_len, TaskError};
use crate::tokenizer::{char_span, Encoded, TextTokenizer};
use edgebert_models::{argmax, softmax};

/// One entity: a run of tokens with the same tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// The tag (`PER`, `LOC` …): the first token's label without its `B-`/`I-` prefix.
    pub entity_group: String,
    /// Mean of the tokens' probabilities of their own labels.
    pub score: f32,
    /// The tokens as text (sub-word pieces glued back together).
    pub word: String,
    /// Character offsets of the entity in the text.
    pub start: usize,
    pub end: usize,
}

/// One token's prediction before grouping.
struct Tagged<'l> {
    label: &'l str,
    score: f32,
    word: String,
    start: usize,
    end: usize,
}

/// Entities of `text` from its encoding and the model's `logits` (`enc.len() × labels.len()`,
/// row-major); `labels` are the model's labels in id order.
pub fn entities(
    text: &str,
    enc: &Encoded,
    logits: &[f32],
    labels: &[String],
    tokenizer: &TextTokenizer,
) -> Result<Vec<Entity>, TaskError> {
    expect_len("token-classification logits", logits, enc.len() * labels.len())?;
    let unk = tokenizer.unk_token().map(|(_, id)| id);
    let mut tagged = Vec::with_capacity(enc.len());
    for (t, row) in logits.chunks_exact(labels.len().max(1)).enumerate() {
        if enc.sequence_ids[t].is_none() {
            continue;
        }
        let probs = softmax(row);
        let best = argmax(&probs);
        let (start, end) = enc.offsets[t];
        // An unknown token shows the text it stands for, as transformers does.
        let word = match tokenizer.id_to_token(enc.ids[t]) {
            Some(w) if Some(enc.ids[t]) != unk => w,
            _ => char_span(text, (start, end)).unwrap_or_default().to_string(),
        };
        tagged.push(Tagged { label: &labels[best], score: probs[best], word, start, end });
    }
    let mut groups: Vec<Vec<Tagged>> = Vec::new();
    for token in tagged {
        let (bi, tag) = split_label(token.label);
        match groups.last_mut() {
            Some(group) if bi != "B" && split_label(group[group.len() - 1].label).1 == tag => {
                group.push(token)
            }
            _ => groups.push(vec![token]),
        }
    }
    groups
        .into_iter()
        .filter_map(|group| {
            let first = &group[0];
            let entity_group = first.label.split_once('-').map_or(first.label, |(_, rest)| rest).to_string();
            if entity_group == "O" {
                return None;
            }
            let words: Vec<String> = group.iter().map(|t| t.word.clone()).collect();
            let word = match tokenizer.tokens_to_string(&words) {
                Ok(w) => w,
                Err(e) => return Some(Err(e.into())),
            };
            let score = group.iter().map(|t| t.score).sum::<f32>() / group.len() as f32;
            let (start, end) = (first.start, group[group.len() - 1].end);
            Some(Ok(Entity { entity_group, score, word, start, end }))
        })
        .collect()
}

/// `("B", "PER")` for `B-PER`, `("I", "PER")` for `I-PER` and for a bare `PER`.
fn split_label(label: &str) -> (&str, &str) {
    match label.split_at_checked(2) {
        Some(("B-", tag)) => ("B", tag),
        Some(("I-", tag)) => ("I", tag),
        _ => ("I", label),
    }
}

#[cfg(test)]
mod tests {
    use super::split_label;

    #[test]
    fn labels_split_like_transformers() {
        assert_eq!(split_label("B-PER"), ("B", "PER"));
        assert_eq!(split_label("I-LOC"), ("I", "LOC"));
        assert_eq!(split_label("O"), ("I", "O"));
        assert_eq!(split_label("MISC"), ("I", "MISC"));
        assert_eq!(split_label("é-X"), ("I", "é-X"));
    }
}
