//! The encoder's hyper-parameters, as a Hugging Face `config.json` gives them.

use crate::{ModelError, Sequence};

/// Hyper-parameters of a BERT-family encoder (BERT, MiniLM, DistilBERT, RoBERTa, ALBERT), its
/// task head and its labels.
///
/// Field names follow BERT's `config.json`; [`Config::from_hf_json`] maps the other families'
/// keys (DistilBERT's `dim`, `n_layers`, ...) onto them, so the forward pass has one vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `architectures[0]`, e.g. `BertModel` or `RobertaForSequenceClassification`.
    pub architecture: String,
    pub family: Family,
    pub head: Head,
    pub vocab_size: usize,
    pub hidden_size: usize,
    /// Width of the embedding tables: `hidden_size` except ALBERT, whose factorised embeddings
    /// are projected to `hidden_size` by `embeddings.projection`.
    pub embedding_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    /// Rows of the position table.
    pub max_position_embeddings: usize,
    /// Position id of the first token: RoBERTa counts from `pad_token_id + 1`, the others from 0.
    pub position_offset: usize,
    /// Rows of the token-type table; 0 when the family has none (DistilBERT).
    pub type_vocab_size: usize,
    pub layer_norm_eps: f32,
    pub pad_token_id: u32,
    /// The feed-forward (and masked-LM transform) activation.
    pub hidden_act: Activation,
    /// ALBERT: every layer runs the same weights, stored once as layer 0.
    pub shared_layers: bool,
    /// Label names in label-id order (`id2label`); empty when the config has none.
    pub id2label: Vec<String>,
    /// `problem_type` of `config.json`, when it names one: decides how classification logits
    /// become scores ([`Config::score_function`]).
    pub problem_type: Option<ProblemType>,
}

/// What a sequence classifier was trained for (transformers' `problem_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    /// `single_label_classification`: one label per input, softmax over the labels.
    SingleLabel,
    /// `multi_label_classification`: any number of labels per input, a sigmoid each.
    MultiLabel,
    /// `regression`: the logits are the answer.
    Regression,
}

impl ProblemType {
    pub const ALL: [ProblemType; 3] =
        [ProblemType::SingleLabel, ProblemType::MultiLabel, ProblemType::Regression];

    /// The `problem_type` value of `config.json` (and of the blob's `config.problem_type`).
    pub fn name(self) -> &'static str {
        match self {
            ProblemType::SingleLabel => "single_label_classification",
            ProblemType::MultiLabel => "multi_label_classification",
            ProblemType::Regression => "regression",
        }
    }

    pub fn from_name(name: &str) -> Option<ProblemType> {
        ProblemType::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// How a sequence classifier's logits become scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreFunction {
    /// Probabilities over the labels, summing to 1.
    Softmax,
    /// Each label's own probability, `1 / (1 + e^-logit)`.
    Sigmoid,
    /// The logits unchanged (regression).
    Identity,
}

/// Which model family's layout and conventions the checkpoint follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Bert,
    DistilBert,
    Roberta,
    Albert,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Bert => "bert",
            Family::DistilBert => "distilbert",
            Family::Roberta => "roberta",
            Family::Albert => "albert",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        [Family::Bert, Family::DistilBert, Family::Roberta, Family::Albert]
            .into_iter()
            .find(|f| f.name() == name)
    }

    /// The transformers class-name prefix (`Bert`, `DistilBert`, `Roberta`, `Albert`).
    fn class_prefix(self) -> &'static str {
        match self {
            Family::Bert => "Bert",
            Family::DistilBert => "DistilBert",
            Family::Roberta => "Roberta",
            Family::Albert => "Albert",
        }
    }
}

/// What sits on top of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// Encoder only (`*Model`): embeddings by pooling token states.
    None,
    /// `*ForSequenceClassification`: first token → dense + activation → classifier.
    SequenceClassification,
    /// `*ForTokenClassification`: classifier on every token.
    TokenClassification,
    /// `*ForQuestionAnswering`: a 2-output linear on every token (start, end logits).
    QuestionAnswering,
    /// `*ForMaskedLM`: dense + activation + LayerNorm, then the word embeddings (tied) + bias.
    MaskedLm,
}

impl Head {
    pub const ALL: [Head; 5] = [
        Head::None,
        Head::SequenceClassification,
        Head::TokenClassification,
        Head::QuestionAnswering,
        Head::MaskedLm,
    ];

    /// The blob's `head.type` value.
    pub fn name(self) -> &'static str {
        match self {
            Head::None => "none",
            Head::SequenceClassification => "sequence_classification",
            Head::TokenClassification => "token_classification",
            Head::QuestionAnswering => "question_answering",
            Head::MaskedLm => "masked_lm",
        }
    }

    pub fn from_name(name: &str) -> Option<Head> {
        Head::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The transformers class-name suffix (`Model`, `ForSequenceClassification`, ...).
    fn class_suffix(self) -> &'static str {
        match self {
            Head::None => "Model",
            Head::SequenceClassification => "ForSequenceClassification",
            Head::TokenClassification => "ForTokenClassification",
            Head::QuestionAnswering => "ForQuestionAnswering",
            Head::MaskedLm => "ForMaskedLM",
        }
    }
}

/// The GELU variant of `hidden_act`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `gelu`: `x·Φ(x)` with the exact erf.
    GeluErf,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation (ALBERT).
    GeluTanh,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::GeluErf => "gelu",
            Activation::GeluTanh => "gelu_new",
        }
    }

    pub fn from_name(name: &str) -> Option<Activation> {
        match name {
            "gelu" => Some(Activation::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Activation::GeluTanh),
            _ => None,
        }
    }
}

/// Every `*Model` / `*For…` class name this crate implements, for error messages.
pub const SUPPORTED_ARCHITECTURES: &str = "{Bert,DistilBert,Roberta,Albert} x {Model, \
ForSequenceClassification, ForTokenClassification, ForQuestionAnswering, ForMaskedLM}";

/// The family and head a transformers class name stands for (`RobertaForMaskedLM` →
/// (Roberta, MaskedLm)), or `None` for any other class.
pub fn parse_architecture(architecture: &str) -> Option<(Family, Head)> {
    // Longest prefix first: "DistilBert" must not be read as "Bert"-something.
    let families = [Family::DistilBert, Family::Roberta, Family::Albert, Family::Bert];
    let family = families.into_iter().find(|f| architecture.starts_with(f.class_prefix()))?;
    let rest = &architecture[family.class_prefix().len()..];
    let head = Head::ALL.into_iter().find(|h| h.class_suffix() == rest)?;
    Some((family, head))
}

/// The transformers class name of a family and head.
pub fn architecture_name(family: Family, head: Head) -> String {
    format!("{}{}", family.class_prefix(), head.class_suffix())
}

impl Config {
    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// The longest sequence the position table allows (RoBERTa loses `position_offset` rows).
    pub fn max_tokens(&self) -> usize {
        self.max_position_embeddings.saturating_sub(self.position_offset)
    }

    /// Weight sets stored in a checkpoint: 1 when layers share weights (ALBERT).
    pub fn stored_layers(&self) -> usize {
        if self.shared_layers {
            1
        } else {
            self.num_hidden_layers
        }
    }

    /// The activation between the sequence-classification head's dense layer and classifier:
    /// DistilBERT's `pre_classifier` uses ReLU, the others' pooler tanh.
    pub fn pooler_activation(&self) -> PoolerActivation {
        match self.family {
            Family::DistilBert => PoolerActivation::Relu,
            _ => PoolerActivation::Tanh,
        }
    }

    /// How classification logits become scores, as transformers' text-classification pipeline
    /// decides: none for `regression`; a sigmoid per label for `multi_label_classification` or a
    /// single label (a cross-encoder's relevance, a binary score); softmax otherwise.
    pub fn score_function(&self) -> ScoreFunction {
        match self.problem_type {
            Some(ProblemType::Regression) => ScoreFunction::Identity,
            Some(ProblemType::MultiLabel) => ScoreFunction::Sigmoid,
            _ if self.id2label.len() == 1 => ScoreFunction::Sigmoid,
            _ => ScoreFunction::Softmax,
        }
    }

    /// Checks a batch against the model's limits: no empty sequence, none longer than the
    /// position table allows, type ids as long as ids, every id inside its vocabulary.
    pub fn check_batch(&self, batch: &[Sequence]) -> Result<(), ModelError> {
        let c = self;
        for seq in batch {
            if seq.ids.is_empty() {
                return Err(ModelError::EmptySequence);
            }
            if seq.ids.len() > c.max_tokens() {
                return Err(ModelError::SequenceTooLong { len: seq.ids.len(), max: c.max_tokens() });
            }
            // A family without token types (DistilBERT) ignores them, as transformers does.
            if c.type_vocab_size == 0 {
                continue;
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
            ("embedding_size", self.embedding_size),
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
        if self.type_vocab_size == 0 && self.family != Family::DistilBert {
            return Err(ModelError::Config {
                field: "type_vocab_size",
                problem: "0; it must be positive".into(),
            });
        }
        if self.embedding_size != self.hidden_size && self.family != Family::Albert {
            return Err(ModelError::Config {
                field: "embedding_size",
                problem: format!(
                    "{}, but only ALBERT projects embeddings to hidden_size {}",
                    self.embedding_size, self.hidden_size
                ),
            });
        }
        if self.max_tokens() < 2 {
            return Err(ModelError::Config {
                field: "max_position_embeddings",
                problem: format!(
                    "{}, which leaves fewer than 2 positions after the offset {}",
                    self.max_position_embeddings, self.position_offset
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

/// The activation of the sequence-classification head's dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolerActivation {
    Tanh,
    Relu,
}

impl PoolerActivation {
    /// Applies the activation in place.
    pub fn apply(self, x: &mut [f32]) {
        match self {
            PoolerActivation::Tanh => x.iter_mut().for_each(|v| *v = v.tanh()),
            PoolerActivation::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
        }
    }
}

#[cfg(feature = "json")]
mod json {
    use super::{
        architecture_name, parse_architecture, Activation, Config, Family, Head, ProblemType,
        SUPPORTED_ARCHITECTURES,
    };
    use crate::ModelError;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// The keys of every family's `config.json`; which ones are read depends on the family.
    #[derive(Deserialize)]
    struct RawConfig {
        #[serde(default)]
        architectures: Vec<String>,
        #[serde(default)]
        model_type: Option<String>,
        vocab_size: usize,
        hidden_size: Option<usize>,
        num_hidden_layers: Option<usize>,
        num_attention_heads: Option<usize>,
        intermediate_size: Option<usize>,
        max_position_embeddings: Option<usize>,
        type_vocab_size: Option<usize>,
        layer_norm_eps: Option<f64>,
        pad_token_id: Option<u32>,
        hidden_act: Option<String>,
        position_embedding_type: Option<String>,
        id2label: Option<BTreeMap<String, String>>,
        num_labels: Option<usize>,
        problem_type: Option<String>,
        // ALBERT
        embedding_size: Option<usize>,
        num_hidden_groups: Option<usize>,
        inner_group_num: Option<usize>,
        // DistilBERT
        dim: Option<usize>,
        n_layers: Option<usize>,
        n_heads: Option<usize>,
        hidden_dim: Option<usize>,
        activation: Option<String>,
        sinusoidal_pos_embds: Option<bool>,
    }

    fn required(value: Option<usize>, field: &'static str) -> Result<usize, ModelError> {
        value.ok_or(ModelError::Config { field, problem: "missing".into() })
    }

    fn activation(name: Option<&str>, field: &'static str) -> Result<Activation, ModelError> {
        let name = name.unwrap_or("gelu");
        Activation::from_name(name).ok_or_else(|| ModelError::Config {
            field,
            problem: format!("`{name}`; supported: gelu (erf), gelu_new / gelu_pytorch_tanh (tanh)"),
        })
    }

    impl Config {
        /// Parses a Hugging Face `config.json` of a BERT, DistilBERT, RoBERTa or ALBERT model.
        /// The architecture (or, without one, `model_type`) decides the family and the head; any
        /// other architecture is an error naming it.
        pub fn from_hf_json(text: &str) -> Result<Config, ModelError> {
            let raw: RawConfig = serde_json::from_str(text)?;
            let architecture = match (raw.architectures.first(), raw.model_type.as_deref()) {
                (Some(a), _) => a.clone(),
                (None, Some(t)) => match super::Family::from_name(t) {
                    Some(f) => architecture_name(f, Head::None),
                    None => t.to_string(),
                },
                (None, None) => "<none>".to_string(),
            };
            let Some((family, head)) = parse_architecture(&architecture) else {
                return Err(ModelError::UnsupportedArchitecture {
                    architecture,
                    supported: SUPPORTED_ARCHITECTURES,
                });
            };
            if let Some(p) = raw.position_embedding_type.as_deref().filter(|p| *p != "absolute") {
                return Err(ModelError::Config {
                    field: "position_embedding_type",
                    problem: format!("`{p}`; only `absolute` is supported"),
                });
            }
            // transformers names the labels `LABEL_<id>` when a config gives only `num_labels`.
            let id2label = match (raw.id2label.clone(), raw.num_labels) {
                (Some(map), _) => labels_in_id_order(map)?,
                (None, Some(n)) => (0..n).map(|i| format!("LABEL_{i}")).collect(),
                (None, None) => Vec::new(),
            };
            let problem_type = match raw.problem_type.as_deref() {
                None => None,
                Some(name) => Some(ProblemType::from_name(name).ok_or_else(|| ModelError::Config {
                    field: "problem_type",
                    problem: format!(
                        "`{name}`; transformers knows regression, single_label_classification and \
                         multi_label_classification"
                    ),
                })?),
            };
            let mut config = match family {
                Family::DistilBert => distilbert(&raw, architecture, head, id2label)?,
                _ => bert_like(&raw, family, architecture, head, id2label)?,
            };
            config.problem_type = problem_type;
            config.validate()?;
            Ok(config)
        }
    }

    /// BERT, RoBERTa and ALBERT share BERT's keys.
    fn bert_like(
        raw: &RawConfig,
        family: Family,
        architecture: String,
        head: Head,
        id2label: Vec<String>,
    ) -> Result<Config, ModelError> {
        let hidden_size = required(raw.hidden_size, "hidden_size")?;
        let pad_token_id = raw.pad_token_id.unwrap_or(if family == Family::Roberta { 1 } else { 0 });
        if family == Family::Albert {
            for (field, value) in
                [("num_hidden_groups", raw.num_hidden_groups), ("inner_group_num", raw.inner_group_num)]
            {
                if let Some(n) = value.filter(|n| *n != 1) {
                    return Err(ModelError::Config {
                        field,
                        problem: format!(
                            "{n}; only 1 (one set of layer weights shared by all layers) is supported"
                        ),
                    });
                }
            }
        }
        Ok(Config {
            architecture,
            family,
            head,
            vocab_size: raw.vocab_size,
            hidden_size,
            embedding_size: if family == Family::Albert {
                raw.embedding_size.unwrap_or(128)
            } else {
                hidden_size
            },
            num_hidden_layers: required(raw.num_hidden_layers, "num_hidden_layers")?,
            num_attention_heads: required(raw.num_attention_heads, "num_attention_heads")?,
            intermediate_size: required(raw.intermediate_size, "intermediate_size")?,
            max_position_embeddings: raw.max_position_embeddings.unwrap_or(512),
            position_offset: if family == Family::Roberta { pad_token_id as usize + 1 } else { 0 },
            type_vocab_size: raw.type_vocab_size.unwrap_or(2),
            layer_norm_eps: raw.layer_norm_eps.unwrap_or(1e-12) as f32,
            pad_token_id,
            hidden_act: activation(raw.hidden_act.as_deref(), "hidden_act")?,
            shared_layers: family == Family::Albert,
            id2label,
            problem_type: None,
        })
    }

    /// DistilBERT's own keys: `dim`, `n_layers`, `n_heads`, `hidden_dim`, `activation`; no token
    /// types; LayerNorm eps fixed at 1e-12 by its modelling code.
    fn distilbert(
        raw: &RawConfig,
        architecture: String,
        head: Head,
        id2label: Vec<String>,
    ) -> Result<Config, ModelError> {
        if raw.sinusoidal_pos_embds == Some(true) {
            return Err(ModelError::Config {
                field: "sinusoidal_pos_embds",
                problem: "true; only learned position embeddings are supported".into(),
            });
        }
        let dim = required(raw.dim, "dim")?;
        Ok(Config {
            architecture,
            family: Family::DistilBert,
            head,
            vocab_size: raw.vocab_size,
            hidden_size: dim,
            embedding_size: dim,
            num_hidden_layers: required(raw.n_layers, "n_layers")?,
            num_attention_heads: required(raw.n_heads, "n_heads")?,
            intermediate_size: required(raw.hidden_dim, "hidden_dim")?,
            max_position_embeddings: raw.max_position_embeddings.unwrap_or(512),
            position_offset: 0,
            type_vocab_size: 0,
            layer_norm_eps: 1e-12,
            pad_token_id: raw.pad_token_id.unwrap_or(0),
            hidden_act: activation(raw.activation.as_deref(), "activation")?,
            shared_layers: false,
            id2label,
            problem_type: None,
        })
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
    fn reads_each_familys_keys() {
        let distil = r#"{"architectures":["DistilBertForTokenClassification"],"vocab_size":10,"dim":8,
            "n_layers":2,"n_heads":2,"hidden_dim":16,"activation":"gelu","max_position_embeddings":20}"#;
        let c = Config::from_hf_json(distil).unwrap();
        assert_eq!((c.family, c.head), (Family::DistilBert, Head::TokenClassification));
        assert_eq!((c.hidden_size, c.intermediate_size, c.type_vocab_size), (8, 16, 0));
        let roberta = MINI.replace("BertForSequenceClassification", "RobertaForMaskedLM");
        let c = Config::from_hf_json(&roberta).unwrap();
        assert_eq!(
            (c.family, c.head, c.pad_token_id, c.position_offset),
            (Family::Roberta, Head::MaskedLm, 1, 2)
        );
        assert_eq!(c.max_tokens(), 510);
        let albert = MINI.replace("BertForSequenceClassification", "AlbertForQuestionAnswering").replace(
            "\"vocab_size\":10",
            "\"vocab_size\":10,\"embedding_size\":4,\"hidden_act\":\"gelu_new\"",
        );
        let c = Config::from_hf_json(&albert).unwrap();
        assert_eq!((c.family, c.head, c.embedding_size), (Family::Albert, Head::QuestionAnswering, 4));
        assert_eq!((c.hidden_act, c.stored_layers()), (Activation::GeluTanh, 1));
    }

    #[test]
    fn rejects_unsupported_variants_by_name() {
        let grouped = MINI
            .replace("BertForSequenceClassification", "AlbertModel")
            .replace("\"vocab_size\":10", "\"vocab_size\":10,\"num_hidden_groups\":2");
        let err = Config::from_hf_json(&grouped).unwrap_err().to_string();
        assert!(err.contains("num_hidden_groups"), "{err}");
        let relu = MINI.replace("\"vocab_size\":10", "\"vocab_size\":10,\"hidden_act\":\"relu\"");
        let err = Config::from_hf_json(&relu).unwrap_err().to_string();
        assert!(err.contains("relu"), "{err}");
        let lm_head = MINI.replace("BertForSequenceClassification", "BertLMHeadModel");
        assert!(Config::from_hf_json(&lm_head).unwrap_err().to_string().contains("BertLMHeadModel"));
    }

    #[test]
    fn scores_one_label_and_multi_label_with_a_sigmoid() {
        let c = Config::from_hf_json(MINI).unwrap();
        assert_eq!((c.problem_type, c.score_function()), (None, ScoreFunction::Softmax));
        let one = MINI.replace("\"1\":\"pos\",", "");
        assert_eq!(Config::from_hf_json(&one).unwrap().score_function(), ScoreFunction::Sigmoid);
        let counted = MINI.replace("\"id2label\":{\"1\":\"pos\",\"0\":\"neg\"}", "\"num_labels\":1");
        let c = Config::from_hf_json(&counted).unwrap();
        assert_eq!(
            (&c.id2label[..], c.score_function()),
            (&["LABEL_0".to_string()][..], ScoreFunction::Sigmoid)
        );
        for (problem, function) in [
            ("multi_label_classification", ScoreFunction::Sigmoid),
            ("single_label_classification", ScoreFunction::Softmax),
            ("regression", ScoreFunction::Identity),
        ] {
            let text = MINI
                .replace("\"vocab_size\":10", &format!("\"vocab_size\":10,\"problem_type\":\"{problem}\""));
            let c = Config::from_hf_json(&text).unwrap();
            assert_eq!(c.problem_type.map(ProblemType::name), Some(problem));
            assert_eq!(c.score_function(), function, "{problem}");
        }
        let bad = MINI.replace("\"vocab_size\":10", "\"vocab_size\":10,\"problem_type\":\"ranking\"");
        let err = Config::from_hf_json(&bad).unwrap_err().to_string();
        assert!(err.contains("problem_type") && err.contains("ranking"), "{err}");
    }

    #[test]
    fn rejects_gapped_label_ids() {
        let text = MINI.replace("\"1\":\"pos\"", "\"5\":\"pos\"");
        assert!(Config::from_hf_json(&text).is_err());
    }
}
