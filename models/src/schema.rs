//! Tensor names and shapes of a BERT checkpoint, as Hugging Face stores them.

use crate::weights::TensorSource;
use crate::Config;

/// Name fragments shared by the schema and the loader.
pub struct Part;

impl Part {
    /// The encoder's prefix inside `*ForSequenceClassification` checkpoints.
    pub const BERT_PREFIX: &'static str = "bert.";
    pub const POOLER: &'static str = "pooler.dense.weight";
    /// The classification head, never prefixed.
    pub const CLASSIFIER: &'static str = "classifier";
}

/// One tensor a checkpoint must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

/// `"bert."` when the checkpoint stores the encoder under that prefix, else `""`.
pub fn detect_prefix(source: &dyn TensorSource) -> &'static str {
    let probe = format!("{}embeddings.word_embeddings.weight", Part::BERT_PREFIX);
    if source.shape(&probe).is_some() {
        Part::BERT_PREFIX
    } else {
        ""
    }
}

/// Every tensor of the encoder (and the pooler and classifier when asked), in checkpoint order.
pub fn bert_schema(
    config: &Config,
    prefix: &str,
    pooler: bool,
    num_labels: Option<usize>,
) -> Vec<TensorSpec> {
    let (h, f) = (config.hidden_size, config.intermediate_size);
    let mut specs = Vec::new();
    let mut push = |name: String, shape: Vec<usize>| specs.push(TensorSpec { name, shape });
    push(format!("{prefix}embeddings.word_embeddings.weight"), vec![config.vocab_size, h]);
    push(format!("{prefix}embeddings.position_embeddings.weight"), vec![config.max_position_embeddings, h]);
    push(format!("{prefix}embeddings.token_type_embeddings.weight"), vec![config.type_vocab_size, h]);
    push(format!("{prefix}embeddings.LayerNorm.weight"), vec![h]);
    push(format!("{prefix}embeddings.LayerNorm.bias"), vec![h]);
    for i in 0..config.num_hidden_layers {
        let p = format!("{prefix}encoder.layer.{i}");
        for (name, out_dim, in_dim) in [
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", f, h),
            ("output.dense", h, f),
        ] {
            push(format!("{p}.{name}.weight"), vec![out_dim, in_dim]);
            push(format!("{p}.{name}.bias"), vec![out_dim]);
        }
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            push(format!("{p}.{norm}.weight"), vec![h]);
            push(format!("{p}.{norm}.bias"), vec![h]);
        }
    }
    if pooler {
        push(format!("{prefix}pooler.dense.weight"), vec![h, h]);
        push(format!("{prefix}pooler.dense.bias"), vec![h]);
    }
    if let Some(labels) = num_labels {
        push(format!("{}.weight", Part::CLASSIFIER), vec![labels, h]);
        push(format!("{}.bias", Part::CLASSIFIER), vec![labels]);
    }
    specs
}
