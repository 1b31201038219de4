//! Text in, answers out: tokenize, run a head, post-process. Every front end (the CLI, the Python
//! package) calls these, so they tokenize and cut windows the same way and give the same answers
//! for the same logits. The model is a closure returning the head's logits, so the same steps
//! serve the quantized engine and the float reference.

use super::fill::{self, Guess};
use super::qa::{self, Answer, QaParams, WindowLogits};
use super::tag::{self, Entity};
use super::TaskError;
use crate::tokenizer::{Encoded, TextTokenizer};
use edgebert_models::Sequence;

/// Entities of each text (token classification). `token_logits` gets the tokenized batch and
/// returns each sequence's `[len, labels]` logits; `id2label` may be empty (labels are then
/// transformers' `LABEL_0`, `LABEL_1` …).
pub fn tag_texts<E: From<TaskError>>(
    texts: &[&str],
    tokenizer: &TextTokenizer,
    id2label: &[String],
    token_logits: impl FnOnce(&[Sequence]) -> Result<Vec<Vec<f32>>, E>,
) -> Result<Vec<Vec<Entity>>, E> {
    let encodings =
        texts.iter().map(|t| tokenizer.encode(t)).collect::<Result<Vec<_>, _>>().map_err(TaskError::from)?;
    let batch: Vec<Sequence> = encodings.iter().map(Encoded::sequence).collect();
    let logits = token_logits(&batch)?;
    let labels = label_names(id2label, &encodings, &logits);
    let mut out = Vec::with_capacity(texts.len());
    for (i, ((text, enc), logits)) in texts.iter().zip(&encodings).zip(&logits).enumerate() {
        out.push(tag::entities(text, enc, logits, &labels, tokenizer).map_err(|e| in_text(i, e))?);
    }
    Ok(out)
}

/// Where question answering reads a long context: tokens per window and tokens shared between
/// windows. `None` takes the pipeline's defaults (the model's maximum, at most 384; half the
/// window, at most 128).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Windows {
    pub max_seq_len: Option<usize>,
    pub stride: Option<usize>,
}

/// The best answers to `question` in `context` (extractive question answering). `token_logits`
/// gets one sequence per window and returns `[len, 2]` logits each (start, end).
pub fn answer_question<E: From<TaskError>>(
    question: &str,
    context: &str,
    tokenizer: &TextTokenizer,
    params: &QaParams,
    windows: Windows,
    token_logits: impl FnOnce(&[Sequence]) -> Result<Vec<Vec<f32>>, E>,
) -> Result<Vec<Answer>, E> {
    qa::check_inputs(question, context)?;
    let max_seq_len = windows.max_seq_len.unwrap_or(tokenizer.max_len().min(384)).min(tokenizer.max_len());
    let stride = windows.stride.unwrap_or((max_seq_len / 2).min(128));
    let encoded =
        tokenizer.encode_windows(question, context, max_seq_len, stride).map_err(TaskError::from)?;
    let batch: Vec<Sequence> = encoded.iter().map(Encoded::sequence).collect();
    let logits = token_logits(&batch)?;
    // The head's two columns: start logits, then end logits.
    let columns: Vec<(Vec<f32>, Vec<f32>)> = logits
        .iter()
        .map(|l| (l.iter().step_by(2).copied().collect(), l.iter().skip(1).step_by(2).copied().collect()))
        .collect();
    let per_window: Vec<WindowLogits> = encoded
        .iter()
        .zip(&columns)
        .map(|(encoding, (start, end))| WindowLogits { encoding, start, end })
        .collect();
    Ok(qa::answers(context, &per_window, params)?)
}

/// The `top_k` guesses at each mask of each text (fill-mask): one list per text, one inner list
/// per mask. `mask_logits` gets the batch and each sequence's mask positions and returns one
/// vocabulary row per position.
pub fn fill_texts<E: From<TaskError>>(
    texts: &[&str],
    tokenizer: &TextTokenizer,
    top_k: usize,
    mask_logits: impl FnOnce(&[Sequence], &[Vec<usize>]) -> Result<Vec<Vec<Vec<f32>>>, E>,
) -> Result<Vec<Vec<Vec<Guess>>>, E> {
    if top_k == 0 {
        return Err(TaskError::ZeroTopK.into());
    }
    let encodings =
        texts.iter().map(|t| tokenizer.encode(t)).collect::<Result<Vec<_>, _>>().map_err(TaskError::from)?;
    let positions = encodings
        .iter()
        .enumerate()
        .map(|(i, e)| fill::mask_positions(e, tokenizer).map_err(|err| in_text(i, err)))
        .collect::<Result<Vec<_>, _>>()?;
    let batch: Vec<Sequence> = encodings.iter().map(Encoded::sequence).collect();
    let rows = mask_logits(&batch, &positions)?;
    let mut out = Vec::with_capacity(texts.len());
    for (i, (enc, (pos, rows))) in encodings.iter().zip(positions.iter().zip(&rows)).enumerate() {
        out.push(fill::guesses(enc, pos, &rows.concat(), top_k, tokenizer).map_err(|e| in_text(i, e))?);
    }
    Ok(out)
}

/// The config's labels, or transformers' `LABEL_0`, `LABEL_1` … when it names none.
fn label_names(id2label: &[String], encodings: &[Encoded], logits: &[Vec<f32>]) -> Vec<String> {
    if !id2label.is_empty() {
        return id2label.to_vec();
    }
    let n = match (encodings.first(), logits.first()) {
        (Some(e), Some(l)) if !e.is_empty() => l.len() / e.len(),
        _ => 0,
    };
    (0..n).map(|i| format!("LABEL_{i}")).collect()
}

fn in_text(index: usize, source: TaskError) -> TaskError {
    TaskError::InText { text: index + 1, error: Box::new(source) }
}
