//! Extractive question answering: the best context spans from start and end logits, as
//! transformers' `QuestionAnsweringPipeline` finds them (fast-tokenizer path, question first).
//!
//! Per window (question + one stretch of the context, see
//! [`TextTokenizer::encode_windows`](crate::tokenizer::TextTokenizer::encode_windows)):
//! start and end logits become probabilities by a softmax over the context tokens and the leading
//! `[CLS]`; `[CLS]`'s own probability is then zeroed (it only stands for "no answer"). A span
//! `s..=e` scores `p_start(s) · p_end(e)` when `s ≤ e < s + max_answer_len`. The
//! `2·top_k + 10` best spans of each window are widened to whole words (the word of the start
//! token to the word of the end token) and sliced from the context by character offsets; spans
//! that give the same text (ignoring case) add their scores, within and across windows. The
//! answers are ranked by that total.

use super::{expect_len, TaskError};
use crate::tokenizer::{char_span, Encoded};

/// The pipeline's knobs (transformers' defaults in `Default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QaParams {
    /// Longest answer, in tokens.
    pub max_answer_len: usize,
    /// How many answers to return.
    pub top_k: usize,
    /// Also offer the empty answer, scored by the lowest `[CLS]` start·end probability seen.
    pub handle_impossible_answer: bool,
}

impl Default for QaParams {
    fn default() -> QaParams {
        QaParams { max_answer_len: 15, top_k: 1, handle_impossible_answer: false }
    }
}

/// One answer: a stretch of the context.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Sum of the span probabilities that gave this text.
    pub score: f64,
    /// Character offsets of the answer in the context.
    pub start: usize,
    pub end: usize,
    pub answer: String,
}

/// The model's output on one window.
#[derive(Debug, Clone, Copy)]
pub struct WindowLogits<'a> {
    pub encoding: &'a Encoded,
    pub start: &'a [f32],
    pub end: &'a [f32],
}

/// The pipeline refuses an empty question or context; so do we, before running the model.
pub fn check_inputs(question: &str, context: &str) -> Result<(), TaskError> {
    if question.is_empty() {
        return Err(TaskError::EmptyQuestion);
    }
    if context.is_empty() {
        return Err(TaskError::EmptyContext);
    }
    Ok(())
}

/// The `params.top_k` best answers in `context`, best first.
pub fn answers(context: &str, windows: &[WindowLogits], params: &QaParams) -> Result<Vec<Answer>, TaskError> {
    if params.top_k == 0 {
        return Err(TaskError::ZeroTopK);
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut min_null = f64::INFINITY;
    for w in windows {
        expect_len("start logits", w.start, w.encoding.len())?;
        expect_len("end logits", w.end, w.encoding.len())?;
        let candidate: Vec<bool> = w.encoding.sequence_ids.iter().map(|s| *s == Some(1)).collect();
        let cls = w.encoding.sequence_ids.first().is_some_and(|s| s.is_none());
        let (p_start, null_start) = probabilities(w.start, &candidate, cls);
        let (p_end, null_end) = probabilities(w.end, &candidate, cls);
        min_null = min_null.min(null_start * null_end);
        for (s, e, score) in
            best_spans(&p_start, &p_end, &candidate, params.max_answer_len, 2 * params.top_k + 10)
        {
            let (start, end) = word_span(w.encoding, s, e);
            let text = char_span(context, (start, end)).unwrap_or_default();
            match answers.iter_mut().find(|a| a.answer.to_lowercase() == text.to_lowercase()) {
                Some(a) => a.score += score,
                None => answers.push(Answer { score, start, end, answer: text.to_string() }),
            }
        }
    }
    if params.handle_impossible_answer && min_null.is_finite() {
        answers.push(Answer { score: min_null, start: 0, end: 0, answer: String::new() });
    }
    // Stable: equal scores keep the order they were found in, as Python's `sorted`.
    answers.sort_by(|a, b| b.score.total_cmp(&a.score));
    answers.truncate(params.top_k);
    Ok(answers)
}

/// Softmax of `logits` over the candidate tokens and the leading `[CLS]` (when `cls`), zero
/// elsewhere; `[CLS]`'s probability is returned apart and zeroed in the vector.
fn probabilities(logits: &[f32], candidate: &[bool], cls: bool) -> (Vec<f64>, f64) {
    let counts = |i: usize| candidate[i] || (cls && i == 0);
    let max = (0..logits.len()).filter(|&i| counts(i)).map(|i| logits[i]).fold(f32::NEG_INFINITY, f32::max);
    let mut p: Vec<f64> =
        (0..logits.len()).map(|i| if counts(i) { ((logits[i] - max) as f64).exp() } else { 0.0 }).collect();
    let sum: f64 = p.iter().sum();
    if sum > 0.0 {
        p.iter_mut().for_each(|x| *x /= sum);
    }
    let null = if cls { std::mem::take(&mut p[0]) } else { 0.0 };
    (p, null)
}

/// The `k` best spans `(start, end, score)` with both ends on candidate tokens, best first.
/// Zero-score spans (the pipeline may list them when a window has fewer than `k` spans) are left
/// out: they never change a ranking.
fn best_spans(
    p_start: &[f64],
    p_end: &[f64],
    candidate: &[bool],
    max_len: usize,
    k: usize,
) -> Vec<(usize, usize, f64)> {
    let mut spans = Vec::new();
    for s in (0..p_start.len()).filter(|&s| candidate[s]) {
        for e in (s..p_end.len().min(s + max_len)).filter(|&e| candidate[e]) {
            let score = p_start[s] * p_end[e];
            if score > 0.0 {
                spans.push((s, e, score));
            }
        }
    }
    spans.sort_by(|a, b| b.2.total_cmp(&a.2));
    spans.truncate(k);
    spans
}

/// Character span from the start of the start token's word to the end of the end token's word,
/// counting only the word's tokens inside this window (transformers' `word_to_chars`).
fn word_span(enc: &Encoded, s: usize, e: usize) -> (usize, usize) {
    let same_word =
        |t: usize, i: usize| enc.sequence_ids[i] == enc.sequence_ids[t] && enc.word_ids[i] == enc.word_ids[t];
    let word_tokens =
        |t: usize| (0..enc.len()).filter(move |&i| enc.word_ids[t].is_some() && same_word(t, i));
    let start = word_tokens(s).next().map_or(enc.offsets[s].0, |i| enc.offsets[i].0);
    let end = word_tokens(e).next_back().map_or(enc.offsets[e].1, |i| enc.offsets[i].1);
    (start, end)
}
