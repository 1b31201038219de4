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

/// An error for `fn main() -> Result<(), Report>`: `?` converts any error into it, and when
/// `main` returns it Rust prints its `Debug` form, which here is the message and its causes
/// ("Error: the model has no classification head ...") instead of a variant name such as
/// `NoClassifier`. Like `anyhow::Error`, without the dependency.
pub struct Report(Box<dyn std::error::Error + Send + Sync + 'static>);

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Report {
    fn from(error: E) -> Report {
        Report(Box::new(error))
    }
}

impl Report {
    /// The error it wraps, to match on (`report.error().downcast_ref::<EngineError>()`).
    pub fn error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&with_causes(&*self.0))
    }
}

/// An error's message followed by each of its causes ("cannot open blob m.bin: region [..)
/// ends past the file's end"): what a caller that sees only a string (C, Java, Python) needs,
/// since `Display` alone stops at the outermost message.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message
}

impl std::fmt::Debug for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
