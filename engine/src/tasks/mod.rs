//! What the task heads' raw outputs mean as answers: entities from per-token logits ([`tag`]),
//! answer spans from start and end logits ([`qa`]), and vocabulary guesses from mask-row logits
//! ([`fill`]). Each follows the transformers pipeline of the same task, so the same logits give
//! the same entities, spans and scores.
//!
//! Pure post-processing: these functions take logits and the tokenizer's [`Encoded`] (offsets,
//! word and sequence ids) and never run a model, so they are tested by feeding transformers' own
//! logits and comparing with its pipelines' outputs. They need the tokenizer for token strings.
//!
//! [`Encoded`]: crate::tokenizer::Encoded

#![cfg(feature = "tokenizer")]

pub mod fill;
pub mod qa;
pub mod run;
pub mod tag;

use crate::tokenizer::TokenizerError;

/// Why an input cannot be handled by a task, or its logits do not fit its tokens.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("the question is empty")]
    EmptyQuestion,
    #[error("the context is empty")]
    EmptyContext,
    #[error(
        "no {mask} token in the input (after truncation to the model's length): fill-mask needs at least one"
    )]
    NoMask { mask: &'static str },
    #[error("this tokenizer has no mask token ([MASK] or <mask>)")]
    NoMaskToken,
    #[error("{what}: expected {expected} logits, found {found}")]
    Logits { what: &'static str, expected: usize, found: usize },
    #[error("top-k must be at least 1")]
    ZeroTopK,
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// One text of a batch (counted from 1) could not be handled.
    #[error("text {text}: {error}")]
    InText { text: usize, error: Box<TaskError> },
}

/// Checks a logits slice against the length the tokens call for.
fn expect_len(what: &'static str, logits: &[f32], expected: usize) -> Result<(), TaskError> {
    if logits.len() == expected {
        Ok(())
    } else {
        Err(TaskError::Logits { what, expected, found: logits.len() })
    }
}
