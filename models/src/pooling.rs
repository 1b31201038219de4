//! How token states become one vector per input.

/// Sentence-embedding pooling, as sentence-transformers' `modules.json` and
/// `1_Pooling/config.json` describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddingPooling {
    pub mode: PoolingMode,
    /// L2-normalise the pooled vector (a `Normalize` module follows pooling).
    pub normalize: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolingMode {
    /// Mean of the token states where the attention mask is 1.
    Mean,
    /// The `[CLS]` token's state, as is (no pooler dense layer).
    Cls,
}

impl Default for EmbeddingPooling {
    /// Mean pooling then L2 normalisation: what all-MiniLM-L6-v2 and most sentence encoders do.
    fn default() -> Self {
        EmbeddingPooling { mode: PoolingMode::Mean, normalize: true }
    }
}
