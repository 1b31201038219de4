//! Float weights of a BERT-family encoder and its head, and how they are read from a checkpoint
//! by name (through [`schema::hf_name`], so every family loads into the same structure).

use crate::schema::{self, Part};
use crate::{Config, Head, ModelError};

/// A dense layer in PyTorch's layout: `weight` is `[out_dim, in_dim]` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub in_dim: usize,
    pub out_dim: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayerNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// `[vocab_size, hidden]`
    pub word: Vec<f32>,
    /// `[max_position_embeddings, hidden]`
    pub position: Vec<f32>,
    /// `[type_vocab_size, hidden]`; empty when the family has no token types (DistilBERT).
    pub token_type: Vec<f32>,
    pub norm: LayerNorm,
    /// ALBERT: `embedding_size` → `hidden_size`, after the LayerNorm.
    pub projection: Option<Linear>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EncoderLayer {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub attention_output: Linear,
    pub attention_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub output_norm: LayerNorm,
}

/// The masked-LM head: `transform` + activation + `norm`, then the word embeddings (tied, not
/// stored again) as decoder, plus `bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct MlmHead {
    /// `[embedding_size, hidden]`
    pub transform: Linear,
    pub norm: LayerNorm,
    /// `[vocab_size]`
    pub bias: Vec<f32>,
}

/// Every tensor of a BERT-family checkpoint, as f32, under one structure.
#[derive(Debug, Clone, PartialEq)]
pub struct BertWeights {
    pub embeddings: Embeddings,
    /// The stored layers: `num_hidden_layers` of them, or one that all layers share (ALBERT);
    /// see [`BertWeights::layer`].
    pub layers: Vec<EncoderLayer>,
    /// The sequence-classification head's dense layer (pooler, `pre_classifier`,
    /// `classifier.dense`), applied with the config's pooler activation to the first token.
    pub pooler: Option<Linear>,
    /// `[num_labels, hidden]` (2 for question answering: start and end).
    pub classifier: Option<Linear>,
    pub mlm: Option<MlmHead>,
}

/// Where weights come from (a safetensors file, a blob, a test): tensors by name, as f32.
pub trait TensorSource {
    /// The stored shape of `name`, or `None` when there is no such tensor.
    fn shape(&self, name: &str) -> Option<Vec<usize>>;
    /// The tensor's values converted to f32 (row-major). Called only for names that exist.
    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ModelError>;
}

impl BertWeights {
    /// The weights layer `i` runs (ALBERT's layers all run the one stored set).
    pub fn layer(&self, i: usize) -> &EncoderLayer {
        &self.layers[i % self.layers.len().max(1)]
    }

    /// Reads every tensor the config calls for: embeddings, layers, and the head its
    /// architecture names (a `*ForSequenceClassification` checkpoint must have the dense layer
    /// and the classifier). An encoder-only checkpoint's pooler is read when present.
    pub fn load(config: &Config, source: &dyn TensorSource) -> Result<BertWeights, ModelError> {
        config.validate()?;
        let prefix = schema::detect_prefix_for(config.family, source);
        let reader = Reader { source, prefix, config };
        let (h, e) = (config.hidden_size, config.embedding_size);
        let embeddings = Embeddings {
            word: reader.tensor(Part::WORD, &[config.vocab_size, e])?,
            position: reader.tensor(Part::POSITION, &[config.max_position_embeddings, e])?,
            token_type: if config.type_vocab_size > 0 {
                reader.tensor(Part::TOKEN_TYPE, &[config.type_vocab_size, e])?
            } else {
                Vec::new()
            },
            norm: reader.layer_norm(Part::EMBEDDINGS_NORM, e)?,
            projection: if e != h { Some(reader.linear(Part::PROJECTION, e, h)?) } else { None },
        };
        let layers =
            (0..config.stored_layers()).map(|i| reader.encoder_layer(i)).collect::<Result<Vec<_>, _>>()?;
        let has = |name: &str| reader.has(&format!("{name}.weight"));
        let pooler = match config.head {
            Head::SequenceClassification => Some(reader.linear(Part::POOLER, h, h)?),
            Head::None if has(Part::POOLER) => Some(reader.linear(Part::POOLER, h, h)?),
            _ => None,
        };
        let classifier = match config.head {
            Head::SequenceClassification | Head::TokenClassification => {
                let labels = reader.rows(Part::CLASSIFIER)?;
                let expected = if config.id2label.is_empty() { labels } else { config.id2label.len() };
                Some(reader.linear(Part::CLASSIFIER, h, expected)?)
            }
            Head::QuestionAnswering => Some(reader.linear(Part::CLASSIFIER, h, 2)?),
            Head::None | Head::MaskedLm => None,
        };
        let mlm = if config.head == Head::MaskedLm {
            Some(MlmHead {
                transform: reader.linear(Part::MLM_TRANSFORM, h, e)?,
                norm: reader.layer_norm(Part::MLM_NORM, e)?,
                bias: reader.tensor(Part::MLM_BIAS, &[config.vocab_size])?,
            })
        } else {
            None
        };
        Ok(BertWeights { embeddings, layers, pooler, classifier, mlm })
    }
}

struct Reader<'a> {
    source: &'a dyn TensorSource,
    prefix: &'a str,
    config: &'a Config,
}

impl Reader<'_> {
    /// The checkpoint's name for the canonical `name`.
    fn name(&self, name: &str) -> String {
        schema::hf_name(self.config, name, self.prefix)
    }

    fn has(&self, name: &str) -> bool {
        self.source.shape(&self.name(name)).is_some()
    }

    /// Rows of a stored 2-D tensor (`{name}.weight`), to size a classifier from the checkpoint.
    fn rows(&self, name: &str) -> Result<usize, ModelError> {
        let hf = self.name(&format!("{name}.weight"));
        let shape = self.source.shape(&hf).ok_or(ModelError::MissingTensor { name: hf })?;
        Ok(shape.first().copied().unwrap_or(0))
    }

    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        read_exact(self.source, &self.name(name), shape)
    }

    fn layer_norm(&self, name: &str, width: usize) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm {
            gamma: self.tensor(&format!("{name}.weight"), &[width])?,
            beta: self.tensor(&format!("{name}.bias"), &[width])?,
        })
    }

    fn linear(&self, name: &str, in_dim: usize, out_dim: usize) -> Result<Linear, ModelError> {
        Ok(Linear {
            weight: self.tensor(&format!("{name}.weight"), &[out_dim, in_dim])?,
            bias: self.tensor(&format!("{name}.bias"), &[out_dim])?,
            in_dim,
            out_dim,
        })
    }

    fn encoder_layer(&self, i: usize) -> Result<EncoderLayer, ModelError> {
        let (h, f) = (self.config.hidden_size, self.config.intermediate_size);
        let p = |part: &str| schema::layer_name(i, part);
        Ok(EncoderLayer {
            query: self.linear(&p("attention.self.query"), h, h)?,
            key: self.linear(&p("attention.self.key"), h, h)?,
            value: self.linear(&p("attention.self.value"), h, h)?,
            attention_output: self.linear(&p("attention.output.dense"), h, h)?,
            attention_norm: self.layer_norm(&p("attention.output.LayerNorm"), h)?,
            intermediate: self.linear(&p("intermediate.dense"), h, f)?,
            output: self.linear(&p("output.dense"), f, h)?,
            output_norm: self.layer_norm(&p("output.LayerNorm"), h)?,
        })
    }
}

fn read_exact(source: &dyn TensorSource, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
    let found = source.shape(name).ok_or_else(|| ModelError::MissingTensor { name: name.into() })?;
    if found != shape {
        return Err(ModelError::ShapeMismatch { name: name.into(), expected: shape.to_vec(), found });
    }
    let values = source.to_f32(name)?;
    let count: usize = shape.iter().product();
    if values.len() != count {
        return Err(ModelError::TensorData {
            name: name.into(),
            problem: format!("holds {} values for shape {shape:?}", values.len()),
        });
    }
    Ok(values)
}
