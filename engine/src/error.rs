use crate::blob::{BlobError, Encoding, Layout};
use edgebert_models::ModelError;
use thiserror::Error;

/// Why a blob cannot be run, or an input cannot be processed.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error(transparent)]
    Blob(#[from] BlobError),

    #[error(transparent)]
    Input(#[from] ModelError),

    #[cfg(feature = "tokenizer")]
    #[error(transparent)]
    Tokenizer(#[from] crate::tokenizer::TokenizerError),

    #[error("tensor `{name}` is {encoding}/{layout}, which the engine cannot use as {role}")]
    UnusableEncoding { name: String, encoding: Encoding, layout: Layout, role: &'static str },

    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },

    #[error("tensor `{name}` does not match the kernels' packed layout: {problem}")]
    PackedLayout { name: String, problem: String },

    #[error("the model has no classification head (pooler + classifier); use embed")]
    NoClassifier,

    #[error(
        "the model's classifier has {labels} labels; a cross-encoder reranker has exactly one \
         (its score is the sigmoid of that logit): use an ms-marco-style cross-encoder, or an \
         embedding model for cosine reranking"
    )]
    NotOneLabel { labels: usize },

    #[error("the model has no {what} head; its head is the blob's `head.type` (see `edgebert inspect`)")]
    NoHead { what: &'static str },

    #[error("the engine was built without the `tokenizer` feature: pass token ids")]
    NoTokenizer,
}
