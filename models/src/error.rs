use thiserror::Error;

/// What can go wrong turning a checkpoint's description and tensors into a model.
#[derive(Debug, Error)]
pub enum ModelError {
    #[error("config: field `{field}` is {problem}")]
    Config { field: &'static str, problem: String },

    #[error("config: architecture `{architecture}` is not supported (supported: {supported})")]
    UnsupportedArchitecture { architecture: String, supported: &'static str },

    #[error("tensor `{name}` is missing from the checkpoint")]
    MissingTensor { name: String },

    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch { name: String, expected: Vec<usize>, found: Vec<usize> },

    #[error("tensor `{name}`: {problem}")]
    TensorData { name: String, problem: String },

    #[error("token id {id} at position {position} is outside the vocabulary of {vocab_size}")]
    TokenOutOfRange { id: u32, position: usize, vocab_size: usize },

    #[error("an input sequence has no tokens (even the empty text has [CLS] and [SEP])")]
    EmptySequence,

    #[error("type ids ({type_ids}) and token ids ({ids}) differ in length")]
    TypeIdsLength { ids: usize, type_ids: usize },

    #[error("sequence of {len} tokens is longer than the model's {max} positions")]
    SequenceTooLong { len: usize, max: usize },

    #[error("token type {id} at position {position} is outside the {type_vocab_size} token types")]
    TokenTypeOutOfRange { id: u32, position: usize, type_vocab_size: usize },

    #[error("position {position} is past the end of a sequence of {len} tokens")]
    PositionOutOfRange { position: usize, len: usize },

    #[error("the model has no {what}")]
    MissingHead { what: &'static str },

    #[cfg(feature = "json")]
    #[error("config.json: {0}")]
    Json(#[from] serde_json::Error),
}
