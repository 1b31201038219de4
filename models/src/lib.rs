//! edgebert-models: what a BERT-family encoder *is* — its [`Config`], its tensor schema (names and
//! shapes as Hugging Face checkpoints store them), its float weights, and the plain f32 reference
//! forward pass with pooling and heads. This reference path is the oracle every quantized result
//! is checked against, so it favours obvious code over speed.
//!
//! Depends on `edgebert-kernels` (for its matrix products and row math) and `thiserror`; with the
//! default `json` feature also on serde for `config.json`. It must not depend on the engine, the
//! converter, file formats (safetensors, blobs) or tokenizers: weights arrive through
//! [`TensorSource`], token ids as plain integers.

#![forbid(unsafe_code)]

mod config;
mod encoder;
mod error;
mod heads;
mod pooling;
pub mod schema;
pub mod train;
mod weights;

pub use config::{
    architecture_name, parse_architecture, Activation, Config, Family, Head, PoolerActivation, ProblemType,
    ScoreFunction, SUPPORTED_ARCHITECTURES,
};
pub use encoder::{BertModel, EncoderOutput, LinearInput, Sequence};
pub use error::ModelError;
pub use heads::{argmax, cosine, gelu_tanh, l2_normalize, pool_rows, sigmoid, softmax, Classification};
pub use pooling::{EmbeddingPooling, PoolingMode};
pub use weights::{BertWeights, Embeddings, EncoderLayer, LayerNorm, Linear, MlmHead, TensorSource};
