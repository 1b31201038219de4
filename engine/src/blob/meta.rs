//! Typed access to a blob's metadata and the model description it carries (FORMAT.md §3.1).

use super::error::{BlobError, ValueType};
use super::index::{Index, MetaValue};
use super::Blob;
use crate::tokenizer::TokenizerSpec;
use edgebert_models::{Activation, Config, EmbeddingPooling, Family, Head, PoolingMode, ProblemType};

/// Metadata lookups that name the key and the expected type when they fail.
#[derive(Clone, Copy)]
pub struct Metadata<'a> {
    index: &'a Index,
}

macro_rules! getter {
    ($name:ident, $opt:ident, $variant:ident, $ty:ty, $vt:ident) => {
        /// The value of a required key.
        pub fn $name(&self, key: &'static str) -> Result<$ty, BlobError> {
            self.$opt(key)?.ok_or(BlobError::MissingMetadata { key })
        }
        /// The value of an optional key; an error only when it has another type.
        pub fn $opt(&self, key: &str) -> Result<Option<$ty>, BlobError> {
            match self.index.meta(key) {
                None => Ok(None),
                Some(MetaValue::$variant(v)) => Ok(Some(v.clone())),
                Some(other) => Err(BlobError::MetadataType {
                    key: key.into(),
                    expected: ValueType::$vt,
                    found: other.value_type(),
                }),
            }
        }
    };
}

impl<'a> Metadata<'a> {
    pub(super) fn new(index: &'a Index) -> Self {
        Metadata { index }
    }

    pub fn entries(&self) -> &'a [(String, MetaValue)] {
        &self.index.metadata
    }

    getter!(u64, opt_u64, U64, u64, U64);
    getter!(f64, opt_f64, F64, f64, F64);
    getter!(bool, opt_bool, Bool, bool, Bool);
    getter!(str, opt_str, Str, String, Str);
    getter!(str_list, opt_str_list, StrList, Vec<String>, StrList);

    /// A required `u64` that must fit the platform's `usize` and be positive.
    pub fn count(&self, key: &'static str) -> Result<usize, BlobError> {
        usize::try_from(self.u64(key)?)
            .ok()
            .filter(|&n| n > 0)
            .ok_or(BlobError::InvalidMetadata { key, problem: "must be a positive count that fits in usize" })
    }
}

/// The head a blob's model ends with (`head.type`): the models crate's [`Head`].
pub use edgebert_models::Head as HeadType;

/// Everything a blob says about its model besides the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub config: Config,
    pub head: HeadType,
    pub pooling: Option<EmbeddingPooling>,
    pub max_seq_len: usize,
    pub converter_version: String,
    pub source_sha256: String,
    pub quant_weights: String,
    pub quant_embeddings: String,
    /// Named prompts (`prompts.*`, optional): see [`crate::prompts`].
    pub prompts: crate::prompts::Prompts,
}

/// Tensor holding the tokenizer bytes, by `tokenizer.kind`.
pub const TOKENIZER_JSON: &str = "tokenizer.json";
pub const TOKENIZER_VOCAB: &str = "tokenizer.vocab";

impl Blob {
    /// The model description of FORMAT.md §3.1, with the config validated.
    pub fn model_info(&self) -> Result<ModelInfo, BlobError> {
        let m = self.metadata();
        let hidden_size = m.count("config.hidden_size")?;
        // Keys added with the DistilBERT, RoBERTa and ALBERT families; a blob without them is BERT.
        let family = match m.opt_str("config.family")? {
            None => Family::Bert,
            Some(name) => Family::from_name(&name).ok_or(BlobError::InvalidMetadata {
                key: "config.family",
                problem: "must be `bert`, `distilbert`, `roberta` or `albert`",
            })?,
        };
        let hidden_act = match m.opt_str("config.hidden_act")? {
            None => Activation::GeluErf,
            Some(name) => Activation::from_name(&name).ok_or(BlobError::InvalidMetadata {
                key: "config.hidden_act",
                problem: "must be `gelu` or `gelu_new`",
            })?,
        };
        let head = Head::from_name(&m.str("head.type")?).ok_or(BlobError::InvalidMetadata {
            key: "head.type",
            problem: "must be `none`, `sequence_classification`, `token_classification`, \
                      `question_answering` or `masked_lm`",
        })?;
        let problem_type = match m.opt_str("config.problem_type")? {
            None => None,
            Some(name) => Some(ProblemType::from_name(&name).ok_or(BlobError::InvalidMetadata {
                key: "config.problem_type",
                problem:
                    "must be `single_label_classification`, `multi_label_classification` or `regression`",
            })?),
        };
        let config = Config {
            architecture: m.str("config.architecture")?,
            family,
            head,
            vocab_size: m.count("config.vocab_size")?,
            hidden_size,
            embedding_size: m.opt_u64("config.embedding_size")?.map_or(Ok(hidden_size), |v| {
                usize::try_from(v).map_err(|_| BlobError::InvalidMetadata {
                    key: "config.embedding_size",
                    problem: "does not fit in usize",
                })
            })?,
            num_hidden_layers: m.count("config.num_hidden_layers")?,
            num_attention_heads: m.count("config.num_attention_heads")?,
            intermediate_size: m.count("config.intermediate_size")?,
            max_position_embeddings: m.count("config.max_position_embeddings")?,
            position_offset: small(
                m.opt_u64("config.position_offset")?.unwrap_or(0),
                "config.position_offset",
            )?,
            type_vocab_size: small(m.u64("config.type_vocab_size")?, "config.type_vocab_size")?,
            layer_norm_eps: m.f64("config.layer_norm_eps")? as f32,
            pad_token_id: u32::try_from(m.u64("config.pad_token_id")?).map_err(|_| {
                BlobError::InvalidMetadata { key: "config.pad_token_id", problem: "above u32::MAX" }
            })?,
            hidden_act,
            shared_layers: m.opt_bool("config.shared_layers")?.unwrap_or(false),
            id2label: m.str_list("config.id2label")?,
            problem_type,
        };
        config.validate().map_err(|_| BlobError::InvalidMetadata {
            key: "config",
            problem: "the model configuration is inconsistent (see Config::validate)",
        })?;
        let pooling = match m.opt_str("pooling.mode")?.as_deref() {
            None => None,
            Some(mode) => {
                let mode = match mode {
                    "mean" => PoolingMode::Mean,
                    "cls" => PoolingMode::Cls,
                    _ => {
                        return Err(BlobError::InvalidMetadata {
                            key: "pooling.mode",
                            problem: "must be `mean` or `cls`",
                        })
                    }
                };
                Some(EmbeddingPooling { mode, normalize: m.opt_bool("pooling.normalize")?.unwrap_or(false) })
            }
        };
        let max_seq_len = m.count("max_seq_len")?;
        if max_seq_len < 2 || max_seq_len > config.max_tokens() {
            return Err(BlobError::InvalidMetadata {
                key: "max_seq_len",
                problem:
                    "must be at least 2 and at most config.max_position_embeddings - config.position_offset",
            });
        }
        Ok(ModelInfo {
            config,
            head,
            pooling,
            max_seq_len,
            converter_version: m.str("converter.version")?,
            source_sha256: m.str("source.sha256")?,
            quant_weights: m.str("quant.weights")?,
            quant_embeddings: m.str("quant.embeddings")?,
            prompts: crate::prompts::Prompts::from_metadata(&m)?,
        })
    }

    /// The tokenizer the blob carries (its bytes copied: the tokenizer library owns them).
    pub fn tokenizer_spec(&self) -> Result<TokenizerSpec, BlobError> {
        let m = self.metadata();
        match m.str("tokenizer.kind")?.as_str() {
            "hf_json" => Ok(TokenizerSpec::HfJson(self.bytes_of(TOKENIZER_JSON)?.to_vec())),
            "wordpiece" => {
                let vocab = std::str::from_utf8(self.bytes_of(TOKENIZER_VOCAB)?).map_err(|_| {
                    BlobError::InvalidMetadata {
                        key: "tokenizer.kind",
                        problem: "the WordPiece vocabulary is not UTF-8",
                    }
                })?;
                Ok(TokenizerSpec::WordPiece {
                    vocab: vocab.to_owned(),
                    lowercase: m.opt_bool("tokenizer.lowercase")?.unwrap_or(true),
                })
            }
            _ => Err(BlobError::InvalidMetadata {
                key: "tokenizer.kind",
                problem: "must be `hf_json` or `wordpiece`",
            }),
        }
    }
}

/// A metadata count that may be 0 and must fit in `usize`.
fn small(v: u64, key: &'static str) -> Result<usize, BlobError> {
    usize::try_from(v).map_err(|_| BlobError::InvalidMetadata { key, problem: "does not fit in usize" })
}
