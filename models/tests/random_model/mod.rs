//! A small, randomly initialised BERT for tests that need no assets.

use edgebert_models::schema::{bert_schema, TensorSpec};
use edgebert_models::{Activation, BertModel, BertWeights, Config, Family, Head, ModelError, TensorSource};

pub fn tiny_config() -> Config {
    Config {
        architecture: "BertForSequenceClassification".into(),
        family: Family::Bert,
        head: Head::SequenceClassification,
        embedding_size: 8,
        position_offset: 0,
        hidden_act: Activation::GeluErf,
        shared_layers: false,
        vocab_size: 50,
        hidden_size: 8,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 16,
        max_position_embeddings: 24,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        id2label: vec!["no".into(), "yes".into(), "maybe".into()],
        problem_type: None,
    }
}

/// Tensors named by the schema, filled from a per-name linear congruential generator.
pub struct RandomSource {
    pub specs: Vec<TensorSpec>,
}

impl RandomSource {
    pub fn new(config: &Config, prefix: &str) -> RandomSource {
        RandomSource { specs: bert_schema(config, prefix, true, Some(config.id2label.len())) }
    }
}

impl TensorSource for RandomSource {
    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.specs.iter().find(|s| s.name == name).map(|s| s.shape.clone())
    }

    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        let shape = self.shape(name).ok_or_else(|| ModelError::MissingTensor { name: name.into() })?;
        let mut state = name.bytes().fold(0x9E37_79B9_u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        let is_gamma = name.contains("LayerNorm.weight");
        Ok((0..shape.iter().product::<usize>())
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let unit = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                if is_gamma {
                    1.0 + 0.2 * unit
                } else {
                    unit
                }
            })
            .collect())
    }
}

pub fn tiny_model() -> BertModel {
    let config = tiny_config();
    let weights =
        BertWeights::load(&config, &RandomSource::new(&config, "bert.")).expect("random weights load");
    BertModel::new(config, weights)
}
