//! Fill-mask: the likeliest vocabulary tokens at each mask, as transformers' `FillMaskPipeline`.
//!
//! Each mask row of logits becomes probabilities by a softmax over the whole vocabulary; the `k`
//! most probable tokens are listed with their string (the tokenizer's decoding of that one id) and
//! the input with that token in place of the mask (special tokens dropped when there is one mask;
//! with several, the other masks stay, as in transformers).

use super::{expect_len, TaskError};
use crate::tokenizer::{Encoded, TextTokenizer};
use edgebert_models::softmax;

/// One guess for one mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub score: f32,
    pub token: u32,
    pub token_str: String,
    /// The input decoded with this guess in place of its mask.
    pub sequence: String,
}

/// Positions of the mask token in `enc` (after truncation): what the model must give rows for.
/// No mask is an error, as in the pipeline.
pub fn mask_positions(enc: &Encoded, tokenizer: &TextTokenizer) -> Result<Vec<usize>, TaskError> {
    let (mask, id) = tokenizer.mask_token().ok_or(TaskError::NoMaskToken)?;
    let positions: Vec<usize> =
        enc.ids.iter().enumerate().filter(|(_, &t)| t == id).map(|(i, _)| i).collect();
    if positions.is_empty() {
        return Err(TaskError::NoMask { mask });
    }
    Ok(positions)
}

/// The `top_k` guesses at each mask of `positions`; `rows` holds one vocabulary-sized row of
/// logits per mask, in the same order.
pub fn guesses(
    enc: &Encoded,
    positions: &[usize],
    rows: &[f32],
    top_k: usize,
    tokenizer: &TextTokenizer,
) -> Result<Vec<Vec<Guess>>, TaskError> {
    if top_k == 0 {
        return Err(TaskError::ZeroTopK);
    }
    let vocab = if positions.is_empty() { 0 } else { rows.len() / positions.len() };
    expect_len("mask logits", rows, vocab * positions.len())?;
    let single = positions.len() == 1;
    let pad = tokenizer.pad_token().map(|(_, id)| id);
    let mut out = Vec::with_capacity(positions.len());
    for (&pos, row) in positions.iter().zip(rows.chunks_exact(vocab.max(1))) {
        let probs = softmax(row);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        // Stable: equal probabilities keep vocabulary order.
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let mut guesses = Vec::with_capacity(top_k);
        for &token in order.iter().take(top_k) {
            let token = token as u32;
            let mut ids = enc.ids.clone();
            if let Some(slot) = ids.get_mut(pos) {
                *slot = token;
            }
            ids.retain(|&t| Some(t) != pad);
            guesses.push(Guess {
                score: probs[token as usize],
                token,
                token_str: tokenizer.decode(&[token], false)?,
                sequence: tokenizer.decode(&ids, single)?,
            });
        }
        out.push(guesses);
    }
    Ok(out)
}
