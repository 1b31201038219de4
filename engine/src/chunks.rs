//! Long texts as overlapping windows of tokens, each embedded on its own, instead of a text cut
//! silently at the model's maximum length.
//!
//! A window holds at most `window` tokens with the special tokens (`[CLS] … [SEP]`); consecutive
//! windows share about `stride` tokens. Window edges fall between words (the pre-tokenizer's
//! words: `playing` is never split into `play | ##ing` across two windows), so the text between
//! a window's first and last character is, on its own, tokenized into exactly that window's
//! tokens for WordPiece models: embedding a chunk's text alone gives the chunk's vector bit for
//! bit. Only a single word longer than a whole window is cut inside. Byte-level BPE models
//! (RoBERTa) mark a word's leading space in its first token, which a chunk's text starts
//! without: their chunks are embedded from their tokens, and re-embedding the text may differ.

use crate::tokenizer::{Encoded, TextTokenizer, TokenizerError};

/// One window of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The window's tokens with the special tokens, ready for the model.
    pub encoded: Encoded,
    /// Character offsets (in `char`s) of the window's text in the whole text: from the start of
    /// its first token to the end of its last. `(0, 0)` for a text without tokens.
    pub span: (usize, usize),
}

impl TextTokenizer {
    /// The windows of `text`: at most `window` tokens each (capped by the tokenizer's maximum),
    /// about `stride` tokens shared between neighbours. A text that fits gives one chunk equal to
    /// [`encode`](TextTokenizer::encode).
    pub fn encode_chunks(
        &self,
        text: &str,
        window: usize,
        stride: usize,
    ) -> Result<Vec<Chunk>, TokenizerError> {
        let full = self.encode_untruncated((text, None))?;
        let content: Vec<usize> = (0..full.len()).filter(|&i| full.sequence_ids[i].is_some()).collect();
        let specials = full.len() - content.len();
        let window = window.min(self.max_len());
        let room = window.checked_sub(specials).filter(|&r| r > 0).ok_or(TokenizerError::FirstTooLong {
            first: 0,
            specials,
            max_len: window,
        })?;
        if stride >= room {
            return Err(TokenizerError::StrideTooLarge { stride, window: room });
        }
        let n = content.len();
        let word = |c: usize| full.word_ids[content[c]];
        // Content token `c` starts a word (a window may begin or end before it).
        let starts_word = |c: usize| c == 0 || c >= n || word(c).is_none() || word(c) != word(c - 1);
        let mut chunks = Vec::new();
        let mut start = 0;
        loop {
            let mut stop = (start + room).min(n);
            while stop < n && stop > start && !starts_word(stop) {
                stop -= 1;
            }
            if stop == start {
                // One word longer than the window: cut inside it.
                stop = (start + room).min(n);
            }
            chunks.push(window_of(&full, &content, start..stop));
            if stop >= n {
                return Ok(chunks);
            }
            start = next_start(start, stop, stride, starts_word);
        }
    }
}

/// Where the window after `start..stop` begins: `stride` tokens before `stop`, moved back to the
/// start of its word; forward when that would not advance; at `stop` when no word starts
/// between.
fn next_start(start: usize, stop: usize, stride: usize, starts_word: impl Fn(usize) -> bool) -> usize {
    let target = stop - stride.min(stop);
    let back = (start + 1..=target).rev().find(|&c| starts_word(c));
    back.or_else(|| (target.max(start + 1)..stop).find(|&c| starts_word(c))).unwrap_or(stop)
}

/// The special tokens of `full` and its content tokens `range` (indices into `content`).
fn window_of(full: &Encoded, content: &[usize], range: std::ops::Range<usize>) -> Chunk {
    let (first, last) = (content.get(range.start), range.end.checked_sub(1).and_then(|e| content.get(e)));
    let keep: Vec<usize> = (0..full.len())
        .filter(|&i| {
            full.sequence_ids[i].is_none()
                || (first.is_some_and(|&f| i >= f) && last.is_some_and(|&l| i <= l))
        })
        .collect();
    let span = match (first, last) {
        (Some(&f), Some(&l)) if !range.is_empty() => (full.offsets[f].0, full.offsets[l].1),
        _ => (0, 0),
    };
    Chunk { encoded: full.select(&keep), span }
}

/// One vector for a whole text from its chunks' vectors: their mean, L2-normalised again.
pub fn pool_chunks(vectors: &[Vec<f32>]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, Vec::len);
    let mut mean = vec![0.0f32; dim];
    for v in vectors {
        mean.iter_mut().zip(v).for_each(|(m, x)| *m += x);
    }
    let n = vectors.len().max(1) as f32;
    mean.iter_mut().for_each(|m| *m /= n);
    edgebert_models::l2_normalize(&mut mean);
    mean
}
