//! Tensor names and shapes: edgebert's canonical names (BERT's, used by the blob and the engine)
//! and where each family's Hugging Face checkpoint keeps the same tensor.
//!
//! Every family runs the same post-LayerNorm encoder; only names differ (DistilBERT's `q_lin`,
//! ALBERT's shared `albert_layer_groups.0.albert_layers.0`, RoBERTa's `classifier.out_proj`), so
//! the loader translates names once and the forward pass never branches on the family.

use crate::weights::TensorSource;
use crate::{Config, Family, Head};

/// One tensor a checkpoint must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

/// Canonical names of the parts outside the layers.
pub struct Part;

impl Part {
    pub const WORD: &'static str = "embeddings.word_embeddings.weight";
    pub const POSITION: &'static str = "embeddings.position_embeddings.weight";
    pub const TOKEN_TYPE: &'static str = "embeddings.token_type_embeddings.weight";
    pub const EMBEDDINGS_NORM: &'static str = "embeddings.LayerNorm";
    /// ALBERT's projection from `embedding_size` to `hidden_size`.
    pub const PROJECTION: &'static str = "embeddings.projection";
    /// The sequence-classification head's dense layer (BERT's pooler, DistilBERT's
    /// `pre_classifier`, RoBERTa's `classifier.dense`).
    pub const POOLER: &'static str = "pooler.dense";
    /// The output layer of the sequence, token and question-answering heads.
    pub const CLASSIFIER: &'static str = "classifier";
    pub const MLM_TRANSFORM: &'static str = "mlm.transform";
    pub const MLM_NORM: &'static str = "mlm.LayerNorm";
    /// The masked-LM decoder's bias (its weight is the word embedding table).
    pub const MLM_BIAS: &'static str = "mlm.bias";
}

/// Canonical name of a tensor of layer `i`: `encoder.layer.{i}.{part}`.
pub fn layer_name(i: usize, part: &str) -> String {
    format!("encoder.layer.{i}.{part}")
}

/// The parts of one encoder layer (each a `.weight` and `.bias`), canonical names, in checkpoint
/// order: the six linear layers, then the two LayerNorms.
pub const LAYER_PARTS: [&str; 8] = [
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
    "attention.output.LayerNorm",
    "output.LayerNorm",
];

/// The prefix a family's `*For…` checkpoints put before the encoder (`bert.`, `roberta.`, ...).
pub fn family_prefix(family: Family) -> &'static str {
    match family {
        Family::Bert => "bert.",
        Family::DistilBert => "distilbert.",
        Family::Roberta => "roberta.",
        Family::Albert => "albert.",
    }
}

/// The family's prefix when the checkpoint stores the encoder under it, else `""`.
pub fn detect_prefix_for(family: Family, source: &dyn TensorSource) -> &'static str {
    let prefix = family_prefix(family);
    if source.shape(&format!("{prefix}{}", Part::WORD)).is_some() {
        prefix
    } else {
        ""
    }
}

/// `"bert."` when the checkpoint stores the encoder under that prefix, else `""`.
pub fn detect_prefix(source: &dyn TensorSource) -> &'static str {
    detect_prefix_for(Family::Bert, source)
}

/// Where the checkpoint of `config`'s family and head keeps the canonical tensor `name`
/// (`…weight`/`…bias` included); `prefix` is the encoder's prefix in this checkpoint.
pub fn hf_name(config: &Config, name: &str, prefix: &str) -> String {
    let (stem, suffix) = match name.rsplit_once('.') {
        Some((s, x)) if x == "weight" || x == "bias" => (s, format!(".{x}")),
        _ => (name, String::new()),
    };
    if let Some(rest) = stem.strip_prefix("encoder.layer.") {
        if let Some((index, part)) = rest.split_once('.') {
            return format!("{prefix}{}{suffix}", layer_hf_name(config.family, index, part));
        }
    }
    let head_name = |bert: &str, roberta: &str, distil: &str, albert: &str| match config.family {
        Family::Bert => bert.to_string(),
        Family::Roberta => roberta.to_string(),
        Family::DistilBert => distil.to_string(),
        Family::Albert => albert.to_string(),
    };
    let mapped = match stem {
        "embeddings.projection" => format!("{prefix}encoder.embedding_hidden_mapping_in"),
        "pooler.dense" => match (config.family, config.head) {
            (Family::DistilBert, _) => "pre_classifier".into(),
            (Family::Roberta, Head::SequenceClassification) => "classifier.dense".into(),
            (Family::Albert, _) => format!("{prefix}pooler"),
            _ => format!("{prefix}pooler.dense"),
        },
        "classifier" => match (config.family, config.head) {
            (_, Head::QuestionAnswering) => "qa_outputs".into(),
            (Family::Roberta, Head::SequenceClassification) => "classifier.out_proj".into(),
            _ => "classifier".into(),
        },
        "mlm.transform" => head_name(
            "cls.predictions.transform.dense",
            "lm_head.dense",
            "vocab_transform",
            "predictions.dense",
        ),
        "mlm.LayerNorm" => head_name(
            "cls.predictions.transform.LayerNorm",
            "lm_head.layer_norm",
            "vocab_layer_norm",
            "predictions.LayerNorm",
        ),
        "mlm" => head_name("cls.predictions", "lm_head", "vocab_projector", "predictions"),
        other => format!("{prefix}{other}"),
    };
    format!("{mapped}{suffix}")
}

/// A layer part's name inside the family's encoder (without the prefix).
fn layer_hf_name(family: Family, index: &str, part: &str) -> String {
    match family {
        Family::Bert | Family::Roberta => format!("encoder.layer.{index}.{part}"),
        Family::DistilBert => {
            let p = match part {
                "attention.self.query" => "attention.q_lin",
                "attention.self.key" => "attention.k_lin",
                "attention.self.value" => "attention.v_lin",
                "attention.output.dense" => "attention.out_lin",
                "attention.output.LayerNorm" => "sa_layer_norm",
                "intermediate.dense" => "ffn.lin1",
                "output.dense" => "ffn.lin2",
                "output.LayerNorm" => "output_layer_norm",
                other => other,
            };
            format!("transformer.layer.{index}.{p}")
        }
        Family::Albert => {
            let p = match part {
                "attention.self.query" => "attention.query",
                "attention.self.key" => "attention.key",
                "attention.self.value" => "attention.value",
                "attention.output.dense" => "attention.dense",
                "attention.output.LayerNorm" => "attention.LayerNorm",
                "intermediate.dense" => "ffn",
                "output.dense" => "ffn_output",
                "output.LayerNorm" => "full_layer_layer_norm",
                other => other,
            };
            // One layer group with one layer: the weights every layer shares.
            format!("encoder.albert_layer_groups.{index}.albert_layers.0.{p}")
        }
    }
}

/// Every tensor of a `config`-shaped model under canonical names, in blob order: embeddings,
/// the stored layers (one for ALBERT), then the head's tensors. `pooler` asks for the pooler of
/// an encoder-only model (`BertModel` has one; sequence classifiers always do).
pub fn canonical_schema(config: &Config, pooler: bool, num_labels: usize) -> Vec<TensorSpec> {
    let (h, e, f) = (config.hidden_size, config.embedding_size, config.intermediate_size);
    let mut specs = Vec::new();
    let mut push = |name: String, shape: Vec<usize>| specs.push(TensorSpec { name, shape });
    push(Part::WORD.into(), vec![config.vocab_size, e]);
    push(Part::POSITION.into(), vec![config.max_position_embeddings, e]);
    if config.type_vocab_size > 0 {
        push(Part::TOKEN_TYPE.into(), vec![config.type_vocab_size, e]);
    }
    push(format!("{}.weight", Part::EMBEDDINGS_NORM), vec![e]);
    push(format!("{}.bias", Part::EMBEDDINGS_NORM), vec![e]);
    if e != h {
        push(format!("{}.weight", Part::PROJECTION), vec![h, e]);
        push(format!("{}.bias", Part::PROJECTION), vec![h]);
    }
    for i in 0..config.stored_layers() {
        for part in LAYER_PARTS {
            let (out_dim, in_dim) = match part {
                "intermediate.dense" => (f, h),
                "output.dense" => (h, f),
                _ => (h, h),
            };
            if part.ends_with("LayerNorm") {
                push(layer_name(i, &format!("{part}.weight")), vec![h]);
            } else {
                push(layer_name(i, &format!("{part}.weight")), vec![out_dim, in_dim]);
            }
            push(layer_name(i, &format!("{part}.bias")), vec![out_dim]);
        }
    }
    let with_pooler = config.head == Head::SequenceClassification
        || (pooler && config.head == Head::None && config.family != Family::DistilBert);
    if with_pooler {
        push(format!("{}.weight", Part::POOLER), vec![h, h]);
        push(format!("{}.bias", Part::POOLER), vec![h]);
    }
    let classes = match config.head {
        Head::SequenceClassification | Head::TokenClassification => Some(num_labels),
        Head::QuestionAnswering => Some(2),
        Head::None | Head::MaskedLm => None,
    };
    if let Some(n) = classes {
        push(format!("{}.weight", Part::CLASSIFIER), vec![n, h]);
        push(format!("{}.bias", Part::CLASSIFIER), vec![n]);
    }
    if config.head == Head::MaskedLm {
        push(format!("{}.weight", Part::MLM_TRANSFORM), vec![e, h]);
        push(format!("{}.bias", Part::MLM_TRANSFORM), vec![e]);
        push(format!("{}.weight", Part::MLM_NORM), vec![e]);
        push(format!("{}.bias", Part::MLM_NORM), vec![e]);
        push(Part::MLM_BIAS.into(), vec![config.vocab_size]);
    }
    specs
}

/// [`canonical_schema`] under the names the family's Hugging Face checkpoint uses (with the
/// encoder under `prefix`): what `edgebert init` writes and the loader reads.
pub fn hf_schema(config: &Config, prefix: &str, pooler: bool, num_labels: usize) -> Vec<TensorSpec> {
    canonical_schema(config, pooler, num_labels)
        .into_iter()
        .map(|s| TensorSpec { name: hf_name(config, &s.name, prefix), shape: s.shape })
        .collect()
}

/// Every tensor of a BERT encoder (and the pooler and classifier when asked), in checkpoint
/// order, with the encoder under `prefix`: the layout the trainer saves.
pub fn bert_schema(
    config: &Config,
    prefix: &str,
    pooler: bool,
    num_labels: Option<usize>,
) -> Vec<TensorSpec> {
    let mut specs = hf_schema(&Config { head: Head::None, ..config.clone() }, prefix, pooler, 0);
    if let Some(labels) = num_labels {
        let h = config.hidden_size;
        specs.push(TensorSpec { name: format!("{}.weight", Part::CLASSIFIER), shape: vec![labels, h] });
        specs.push(TensorSpec { name: format!("{}.bias", Part::CLASSIFIER), shape: vec![labels] });
    }
    specs
}
