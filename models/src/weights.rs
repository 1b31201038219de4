//! Float weights of a BERT encoder, and how they are read from a checkpoint by name.

use crate::schema::{self, Part};
use crate::{Config, ModelError};

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
    /// `[type_vocab_size, hidden]`
    pub token_type: Vec<f32>,
    pub norm: LayerNorm,
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

/// Every tensor of a BERT checkpoint, as f32.
#[derive(Debug, Clone, PartialEq)]
pub struct BertWeights {
    pub embeddings: Embeddings,
    pub layers: Vec<EncoderLayer>,
    /// `pooler.dense`: applied with tanh to the `[CLS]` state.
    pub pooler: Option<Linear>,
    /// `classifier`: `[num_labels, hidden]`.
    pub classifier: Option<Linear>,
}

/// Where weights come from (a safetensors file, a blob, a test): tensors by name, as f32.
pub trait TensorSource {
    /// The stored shape of `name`, or `None` when there is no such tensor.
    fn shape(&self, name: &str) -> Option<Vec<usize>>;
    /// The tensor's values converted to f32 (row-major). Called only for names that exist.
    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ModelError>;
}

impl BertWeights {
    /// Reads every tensor the config calls for, with or without the `bert.` prefix, the pooler and
    /// classifier when present. A `*ForSequenceClassification` checkpoint must have both.
    pub fn load(config: &Config, source: &dyn TensorSource) -> Result<BertWeights, ModelError> {
        config.validate()?;
        let prefix = schema::detect_prefix(source);
        let reader = Reader { source, prefix, config };
        let has_pooler = source.shape(&format!("{prefix}{}", Part::POOLER)).is_some();
        let has_classifier = source.shape(&format!("{}.weight", Part::CLASSIFIER)).is_some();
        let wants_classifier = config.architecture.ends_with("ForSequenceClassification");
        if wants_classifier && !has_classifier {
            return Err(ModelError::MissingTensor { name: format!("{}.weight", Part::CLASSIFIER) });
        }
        if wants_classifier && !has_pooler {
            return Err(ModelError::MissingTensor { name: format!("{prefix}{}", Part::POOLER) });
        }
        let h = config.hidden_size;
        let embeddings = Embeddings {
            word: reader.tensor("embeddings.word_embeddings.weight", &[config.vocab_size, h])?,
            position: reader
                .tensor("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?,
            token_type: reader
                .tensor("embeddings.token_type_embeddings.weight", &[config.type_vocab_size, h])?,
            norm: reader.layer_norm("embeddings.LayerNorm", h)?,
        };
        let layers =
            (0..config.num_hidden_layers).map(|i| reader.encoder_layer(i)).collect::<Result<Vec<_>, _>>()?;
        let pooler = if has_pooler { Some(reader.linear("pooler.dense", h, h)?) } else { None };
        let classifier = if has_classifier {
            let labels = source
                .shape(&format!("{}.weight", Part::CLASSIFIER))
                .and_then(|s| s.first().copied())
                .unwrap_or(0);
            let expected = if config.id2label.is_empty() { labels } else { config.id2label.len() };
            Some(reader.unprefixed_linear(Part::CLASSIFIER, h, expected)?)
        } else {
            None
        };
        Ok(BertWeights { embeddings, layers, pooler, classifier })
    }
}

struct Reader<'a> {
    source: &'a dyn TensorSource,
    prefix: &'a str,
    config: &'a Config,
}

impl Reader<'_> {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        read_exact(self.source, &format!("{}{name}", self.prefix), shape)
    }

    fn layer_norm(&self, name: &str, h: usize) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm {
            gamma: self.tensor(&format!("{name}.weight"), &[h])?,
            beta: self.tensor(&format!("{name}.bias"), &[h])?,
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

    fn unprefixed_linear(&self, name: &str, in_dim: usize, out_dim: usize) -> Result<Linear, ModelError> {
        Ok(Linear {
            weight: read_exact(self.source, &format!("{name}.weight"), &[out_dim, in_dim])?,
            bias: read_exact(self.source, &format!("{name}.bias"), &[out_dim])?,
            in_dim,
            out_dim,
        })
    }

    fn encoder_layer(&self, i: usize) -> Result<EncoderLayer, ModelError> {
        let (h, f) = (self.config.hidden_size, self.config.intermediate_size);
        let p = format!("encoder.layer.{i}");
        Ok(EncoderLayer {
            query: self.linear(&format!("{p}.attention.self.query"), h, h)?,
            key: self.linear(&format!("{p}.attention.self.key"), h, h)?,
            value: self.linear(&format!("{p}.attention.self.value"), h, h)?,
            attention_output: self.linear(&format!("{p}.attention.output.dense"), h, h)?,
            attention_norm: self.layer_norm(&format!("{p}.attention.output.LayerNorm"), h)?,
            intermediate: self.linear(&format!("{p}.intermediate.dense"), h, f)?,
            output: self.linear(&format!("{p}.output.dense"), f, h)?,
            output_norm: self.layer_norm(&format!("{p}.output.LayerNorm"), h)?,
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
