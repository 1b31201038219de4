//! The encoder's hyper-parameters, as a Hugging Face `config.json` gives them.

use crate::{ModelError, Sequence};

/// Hyper-parameters of a BERT-architecture encoder (BERT, MiniLM) and its labels.
///
/// Field names follow `config.json`, so the mapping is obvious to anyone who knows transformers.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `architectures[0]`, e.g. `BertModel` or `BertForSequenceClassification`.
    pub architecture: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f32,
    pub pad_token_id: u32,
    /// Label names in label-id order (`id2label`); empty when the config has none.
    pub id2label: Vec<String>,
}

/// Architectures whose tensors and forward pass this crate implements.
pub const SUPPORTED_ARCHITECTURES: &str = "BertModel, BertForSequenceClassification";

impl Config {
    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Checks a batch against the model's limits: no empty sequence, none longer than the
    /// position table, type ids as long as ids, every id inside its vocabulary.
    pub fn check_batch(&self, batch: &[Sequence]) -> Result<(), ModelError> {
        let c = self;
        for seq in batch {
            if seq.ids.is_empty() {
                return Err(ModelError::EmptySequence);
            }
            if seq.ids.len() > c.max_position_embeddings {
                return Err(ModelError::SequenceTooLong {
                    len: seq.ids.len(),
                    max: c.max_position_embeddings,
                });
            }
            if !seq.type_ids.is_empty() && seq.type_ids.len() != seq.ids.len() {
                return Err(ModelError::TypeIdsLength { ids: seq.ids.len(), type_ids: seq.type_ids.len() });
            }
            if let Some((position, &id)) =
                seq.ids.iter().enumerate().find(|(_, &id)| id as usize >= c.vocab_size)
            {
                return Err(ModelError::TokenOutOfRange { id, position, vocab_size: c.vocab_size });
            }
            if let Some((position, &id)) =
                seq.type_ids.iter().enumerate().find(|(_, &id)| id as usize >= c.type_vocab_size)
            {
                return Err(ModelError::TokenTypeOutOfRange {
                    id,
                    position,
                    type_vocab_size: c.type_vocab_size,
                });
            }
        }
        Ok(())
    }

    /// Checks the invariants the forward pass relies on, naming the offending field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ModelError::Config { field, problem: "0; it must be positive".into() });
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(ModelError::Config {
                field: "num_attention_heads",
                problem: format!(
                    "{}, which does not divide hidden_size {}",
                    self.num_attention_heads, self.hidden_size
                ),
            });
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return Err(ModelError::Config {
                field: "layer_norm_eps",
                problem: format!("{}; it must be a positive number", self.layer_norm_eps),
            });
        }
        Ok(())
    }
}

#[cfg(feature = "json")]
mod json {
    use super::{Config, SUPPORTED_ARCHITECTURES};
    use crate::ModelError;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize)]
    struct RawConfig {
        #[serde(default)]
        architectures: Vec<String>,
        #[serde(default)]
        model_type: Option<String>,
        vocab_size: usize,
        hidden_size: usize,
        num_hidden_layers: usize,
        num_attention_heads: usize,
        intermediate_size: usize,
        #[serde(default = "default_positions")]
        max_position_embeddings: usize,
        #[serde(default = "default_type_vocab")]
        type_vocab_size: usize,
        #[serde(default = "default_eps")]
        layer_norm_eps: f64,
        #[serde(default)]
        pad_token_id: Option<u32>,
        #[serde(default)]
        hidden_act: Option<String>,
        #[serde(default)]
        position_embedding_type: Option<String>,
        #[serde(default)]
        id2label: Option<BTreeMap<String, String>>,
    }

    fn default_positions() -> usize {
        512
    }
    fn default_type_vocab() -> usize {
        2
    }
    fn default_eps() -> f64 {
        1e-12
    }

    impl Config {
        /// Parses a Hugging Face `config.json` of a BERT-architecture model.
        pub fn from_hf_json(text: &str) -> Result<Config, ModelError> {
            let raw: RawConfig = serde_json::from_str(text)?;
            let architecture = match (raw.architectures.first(), raw.model_type.as_deref()) {
                (Some(a), _) => a.clone(),
                (None, Some("bert")) => "BertModel".to_string(),
                (None, other) => other.unwrap_or("<none>").to_string(),
            };
            if !SUPPORTED_ARCHITECTURES.split(", ").any(|s| s == architecture) {
                return Err(ModelError::UnsupportedArchitecture {
                    architecture,
                    supported: SUPPORTED_ARCHITECTURES,
                });
            }
            if let Some(act) = raw.hidden_act.as_deref().filter(|a| *a != "gelu") {
                return Err(ModelError::Config {
                    field: "hidden_act",
                    problem: format!("`{act}`; only `gelu` (erf form) is supported"),
                });
            }
            if let Some(p) = raw.position_embedding_type.as_deref().filter(|p| *p != "absolute") {
                return Err(ModelError::Config {
                    field: "position_embedding_type",
                    problem: format!("`{p}`; only `absolute` is supported"),
                });
            }
            let id2label = match raw.id2label {
                None => Vec::new(),
                Some(map) => labels_in_id_order(map)?,
            };
            let config = Config {
                architecture,
                vocab_size: raw.vocab_size,
                hidden_size: raw.hidden_size,
                num_hidden_layers: raw.num_hidden_layers,
                num_attention_heads: raw.num_attention_heads,
                intermediate_size: raw.intermediate_size,
                max_position_embeddings: raw.max_position_embeddings,
                type_vocab_size: raw.type_vocab_size,
                layer_norm_eps: raw.layer_norm_eps as f32,
                pad_token_id: raw.pad_token_id.unwrap_or(0),
                id2label,
            };
            config.validate()?;
            Ok(config)
        }
    }

    /// `id2label` keys are decimal strings "0".."n-1"; anything else is an error, not a guess.
    fn labels_in_id_order(map: BTreeMap<String, String>) -> Result<Vec<String>, ModelError> {
        let count = map.len();
        let mut labels = vec![None; count];
        for (key, label) in map {
            let id: usize = key.parse().map_err(|_| ModelError::Config {
                field: "id2label",
                problem: format!("keyed by `{key}`, which is not a label id"),
            })?;
            let slot = labels.get_mut(id).ok_or_else(|| ModelError::Config {
                field: "id2label",
                problem: format!("not numbered 0..{count}: it has id {id}"),
            })?;
            *slot = Some(label);
        }
        Ok(labels.into_iter().map(|l| l.unwrap_or_default()).collect())
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    const MINI: &str = r#"{"architectures":["BertForSequenceClassification"],"vocab_size":10,
        "hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,
        "id2label":{"1":"pos","0":"neg"}}"#;

    #[test]
    fn parses_labels_in_id_order_and_defaults() {
        let c = Config::from_hf_json(MINI).unwrap();
        assert_eq!(c.id2label, vec!["neg", "pos"]);
        assert_eq!(c.max_position_embeddings, 512);
        assert_eq!(c.layer_norm_eps, 1e-12);
        assert_eq!(c.head_dim(), 4);
    }

    #[test]
    fn rejects_unknown_architecture_by_name() {
        let text = MINI.replace("BertForSequenceClassification", "GPT2LMHeadModel");
        let err = Config::from_hf_json(&text).unwrap_err().to_string();
        assert!(err.contains("GPT2LMHeadModel"), "{err}");
    }

    #[test]
    fn rejects_heads_that_do_not_divide_hidden() {
        let text = MINI.replace("\"num_attention_heads\":2", "\"num_attention_heads\":3");
        let err = Config::from_hf_json(&text).unwrap_err().to_string();
        assert!(err.contains("num_attention_heads"), "{err}");
    }

    #[test]
    fn rejects_gapped_label_ids() {
        let text = MINI.replace("\"1\":\"pos\"", "\"5\":\"pos\"");
        assert!(Config::from_hf_json(&text).is_err());
    }
}
