//! What a converted BERT-family checkpoint puts in a blob: the metadata keys and tensors of
//! docs/FORMAT.md §3.1 and §5.1.

use super::quantize::{
    byte_tensor, embedding_table, f32_tensor, linear_weight, linear_weight_i4, EncodedTensor, Precision,
};
use crate::calib::gptq::Int4Weight;
use anyhow::Result;
use edgebert_engine::blob::MetaValue;
use edgebert_engine::tokenizer::TokenizerSpec;
use edgebert_models::schema::{layer_name, Part};
use edgebert_models::{BertModel, EmbeddingPooling, Head, LayerNorm, Linear, PoolingMode};
use std::collections::BTreeMap;

/// Which precision each family of tensors is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipe {
    /// Linear layers: attention, feed-forward, pooler, classifier.
    pub weights: Precision,
    /// Word, position and token-type embedding tables.
    pub embeddings: Precision,
}

impl Default for Recipe {
    /// int8 everywhere: see the accuracy figures in the converter's report (embeddings int8 per
    /// row vs f16 against the float reference).
    fn default() -> Self {
        Recipe { weights: Precision::Int8, embeddings: Precision::Int8 }
    }
}

/// Everything about the model besides its weights, as the blob's metadata carries it.
pub struct ModelDescription<'a> {
    pub model: &'a BertModel,
    pub tokenizer: &'a TokenizerSpec,
    pub pooling: Option<EmbeddingPooling>,
    pub max_seq_len: usize,
    pub source_sha256: String,
}

/// The converter version written into every blob.
pub const CONVERTER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Tensor names of the tokenizer bytes, by `tokenizer.kind`.
pub use edgebert_engine::blob::{TOKENIZER_JSON, TOKENIZER_VOCAB};

pub fn metadata(d: &ModelDescription<'_>, recipe: Recipe) -> Vec<(String, MetaValue)> {
    let c = &d.model.config;
    let u = |n: usize| MetaValue::U64(n as u64);
    let s = |t: &str| MetaValue::Str(t.to_string());
    let mut m: Vec<(&str, MetaValue)> = vec![
        ("config.architecture", s(&c.architecture)),
        ("config.family", s(c.family.name())),
        ("config.embedding_size", u(c.embedding_size)),
        ("config.position_offset", u(c.position_offset)),
        ("config.hidden_act", s(c.hidden_act.name())),
        ("config.shared_layers", MetaValue::Bool(c.shared_layers)),
        ("config.vocab_size", u(c.vocab_size)),
        ("config.hidden_size", u(c.hidden_size)),
        ("config.num_hidden_layers", u(c.num_hidden_layers)),
        ("config.num_attention_heads", u(c.num_attention_heads)),
        ("config.intermediate_size", u(c.intermediate_size)),
        ("config.max_position_embeddings", u(c.max_position_embeddings)),
        ("config.type_vocab_size", u(c.type_vocab_size)),
        ("config.layer_norm_eps", MetaValue::F64(c.layer_norm_eps as f64)),
        ("config.pad_token_id", MetaValue::U64(c.pad_token_id as u64)),
        ("config.id2label", MetaValue::StrList(c.id2label.clone())),
        ("head.type", s(c.head.name())),
        ("max_seq_len", u(d.max_seq_len)),
        ("converter.version", s(CONVERTER_VERSION)),
        ("source.sha256", s(&d.source_sha256)),
        ("quant.weights", s(recipe.weights.name())),
        ("quant.embeddings", s(recipe.embeddings.name())),
    ];
    if let Some(p) = c.problem_type {
        m.push(("config.problem_type", s(p.name())));
    }
    match d.tokenizer {
        TokenizerSpec::HfJson(_) => m.push(("tokenizer.kind", s("hf_json"))),
        TokenizerSpec::WordPiece { lowercase, .. } => {
            m.push(("tokenizer.kind", s("wordpiece")));
            m.push(("tokenizer.lowercase", MetaValue::Bool(*lowercase)));
        }
    }
    if let Some(p) = d.pooling {
        let mode = match p.mode {
            PoolingMode::Mean => "mean",
            PoolingMode::Cls => "cls",
        };
        m.push(("pooling.mode", s(mode)));
        m.push(("pooling.normalize", MetaValue::Bool(p.normalize)));
    }
    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// One tensor still to encode: a name and how to encode it.
enum Job<'a> {
    Linear(&'a Linear),
    Table(&'a [f32], usize),
    Vector(&'a [f32]),
    Bytes(&'a [u8]),
}

/// Number of tensors [`tensors`] produces, for a progress bar.
pub fn tensor_count(d: &ModelDescription<'_>) -> usize {
    jobs(d).len()
}

fn jobs<'a>(d: &ModelDescription<'a>) -> Vec<(String, Job<'a>)> {
    let (w, c) = (&d.model.weights, &d.model.config);
    let mut out: Vec<(String, Job<'a>)> = Vec::new();
    let e = &w.embeddings;
    out.push((Part::WORD.into(), Job::Table(&e.word, c.vocab_size)));
    out.push((Part::POSITION.into(), Job::Table(&e.position, c.max_position_embeddings)));
    if c.type_vocab_size > 0 {
        out.push((Part::TOKEN_TYPE.into(), Job::Table(&e.token_type, c.type_vocab_size)));
    }
    let norm = |out: &mut Vec<(String, Job<'a>)>, p: String, n: &'a LayerNorm| {
        out.push((format!("{p}.weight"), Job::Vector(&n.gamma)));
        out.push((format!("{p}.bias"), Job::Vector(&n.beta)));
    };
    let linear = |out: &mut Vec<(String, Job<'a>)>, p: String, l: &'a Linear| {
        out.push((format!("{p}.weight"), Job::Linear(l)));
        out.push((format!("{p}.bias"), Job::Vector(&l.bias)));
    };
    norm(&mut out, Part::EMBEDDINGS_NORM.into(), &e.norm);
    if let Some(p) = &e.projection {
        linear(&mut out, Part::PROJECTION.into(), p);
    }
    // Shared layers (ALBERT) are stored once, as layer 0.
    for (i, layer) in w.layers.iter().enumerate() {
        let p = |part: &str| layer_name(i, part);
        linear(&mut out, p("attention.self.query"), &layer.query);
        linear(&mut out, p("attention.self.key"), &layer.key);
        linear(&mut out, p("attention.self.value"), &layer.value);
        linear(&mut out, p("attention.output.dense"), &layer.attention_output);
        norm(&mut out, p("attention.output.LayerNorm"), &layer.attention_norm);
        linear(&mut out, p("intermediate.dense"), &layer.intermediate);
        linear(&mut out, p("output.dense"), &layer.output);
        norm(&mut out, p("output.LayerNorm"), &layer.output_norm);
    }
    // An encoder-only checkpoint's pooler is never run (embeddings pool token states): not stored.
    if let Some(p) = w.pooler.as_ref().filter(|_| c.head == Head::SequenceClassification) {
        linear(&mut out, Part::POOLER.into(), p);
    }
    if let Some(cl) = &w.classifier {
        linear(&mut out, Part::CLASSIFIER.into(), cl);
    }
    // The masked-LM decoder is the word table itself: only the transform and bias are added.
    if let Some(mlm) = &w.mlm {
        linear(&mut out, Part::MLM_TRANSFORM.into(), &mlm.transform);
        norm(&mut out, Part::MLM_NORM.into(), &mlm.norm);
        out.push((Part::MLM_BIAS.into(), Job::Vector(&mlm.bias)));
    }
    match d.tokenizer {
        TokenizerSpec::HfJson(bytes) => out.push((TOKENIZER_JSON.into(), Job::Bytes(bytes))),
        TokenizerSpec::WordPiece { vocab, .. } => {
            out.push((TOKENIZER_VOCAB.into(), Job::Bytes(vocab.as_bytes())))
        }
    }
    out
}

/// The encoding of the linear weight `name`: the recipe's, except that a quantized recipe (int8
/// or int4) keeps the weights whose name contains one of `keep_f16` in f16. The one place a
/// per-tensor choice is made, so a calibrated recipe can pick int4, int8 or f16 per name here.
pub fn linear_precision(name: &str, recipe: Recipe, keep_f16: &[String]) -> Precision {
    let quantized = matches!(recipe.weights, Precision::Int8 | Precision::Int4);
    if quantized && keep_f16.iter().any(|p| name.contains(p.as_str())) {
        Precision::F16
    } else {
        recipe.weights
    }
}

/// Encodes every tensor in FORMAT.md §5.1 order, calling `progress(done, total, name)` after each.
pub fn tensors(
    d: &ModelDescription<'_>,
    recipe: Recipe,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<EncodedTensor>> {
    tensors_with(d, recipe, &[], progress)
}

/// Per-tensor choices that override the recipe (mixed precision, calibrated biases): what
/// `--keep-f16` and `--calib` decide, handed to [`tensors_planned`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorPlan {
    /// Linear weight name (`encoder.layer.0.attention.self.query.weight`) -> its encoding.
    pub precision: BTreeMap<String, Precision>,
    /// Bias name (`encoder.layer.0.attention.self.query.bias`) -> values stored instead of the
    /// checkpoint's (bias correction).
    pub bias: BTreeMap<String, Vec<f32>>,
    /// Linear weight name -> int4 values and scales already chosen (GPTQ), stored as they are
    /// when the weight's encoding is int4 (instead of rounding the checkpoint's weight).
    pub int4: BTreeMap<String, Int4Weight>,
}

impl TensorPlan {
    /// The plan `--keep-f16` describes: the linear weights [`linear_precision`] moves off the
    /// recipe's encoding (with int8 or int4 weights, those whose name contains one of `keep_f16`).
    pub fn keep_f16(d: &ModelDescription<'_>, recipe: Recipe, keep_f16: &[String]) -> TensorPlan {
        let precision = linear_names(d)
            .into_iter()
            .filter_map(|name| {
                let p = linear_precision(&name, recipe, keep_f16);
                (p != recipe.weights).then_some((name, p))
            })
            .collect();
        TensorPlan { precision, ..TensorPlan::default() }
    }

    /// `tensor=encoding` for every linear weight, in blob order: the `quant.recipe` metadata.
    pub fn recipe_lines(&self, d: &ModelDescription<'_>, recipe: Recipe) -> Vec<String> {
        linear_names(d)
            .into_iter()
            .map(|name| {
                let p = self.precision.get(&name).copied().unwrap_or(recipe.weights);
                format!("{name}={p}")
            })
            .collect()
    }
}

/// The names of the linear weights, in blob order (with their layers).
pub fn linears<'a>(d: &ModelDescription<'a>) -> Vec<(String, &'a Linear)> {
    jobs(d)
        .into_iter()
        .filter_map(|(name, job)| match job {
            Job::Linear(l) => Some((name, l)),
            _ => None,
        })
        .collect()
}

fn linear_names(d: &ModelDescription<'_>) -> Vec<String> {
    linears(d).into_iter().map(|(name, _)| name).collect()
}

/// [`tensors`], with linear weights whose name contains one of `keep_f16` stored in f16 whatever
/// the recipe says (mixed precision for the layers int8 hurts most).
pub fn tensors_with(
    d: &ModelDescription<'_>,
    recipe: Recipe,
    keep_f16: &[String],
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<EncodedTensor>> {
    tensors_planned(d, recipe, &TensorPlan::keep_f16(d, recipe, keep_f16), progress)
}

/// [`tensors`], with the per-tensor encodings and bias values of `plan` where it has them.
pub fn tensors_planned(
    d: &ModelDescription<'_>,
    recipe: Recipe,
    plan: &TensorPlan,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<EncodedTensor>> {
    let jobs = jobs(d);
    let total = jobs.len();
    let mut out = Vec::with_capacity(total);
    for (i, (name, job)) in jobs.into_iter().enumerate() {
        let encoded = match job {
            Job::Linear(l) => {
                let precision = plan.precision.get(&name).copied().unwrap_or(recipe.weights);
                match plan.int4.get(&name).filter(|_| precision == Precision::Int4) {
                    Some(w) => linear_weight_i4(&name, w, l.out_dim, l.in_dim)?,
                    None => linear_weight(&name, &l.weight, l.out_dim, l.in_dim, precision)?,
                }
            }
            // The token-type table stays f32 (a few rows): its row 0 is added to every token of
            // every single-sentence input, so its int8 rounding error is one fixed vector in all
            // of them, a bias rather than noise. In a numpy model of the int8 sentiment engine
            // it shifted the logit difference by -0.046 on average (standard deviation of the
            // error 0.065 for int8 tables, 0.017 with this one in f32), for 2.3 kB.
            Job::Table(t, rows) if name == Part::TOKEN_TYPE => {
                f32_tensor(&name, t, &[rows, t.len() / rows.max(1)])?
            }
            Job::Table(t, rows) => embedding_table(&name, t, rows, t.len() / rows.max(1), recipe.embeddings)?,
            Job::Vector(v) => match plan.bias.get(&name) {
                Some(b) if b.len() == v.len() => f32_tensor(&name, b, &[b.len()])?,
                _ => f32_tensor(&name, v, &[v.len()])?,
            },
            Job::Bytes(b) => byte_tensor(&name, b)?,
        };
        progress(i + 1, total, &name);
        out.push(encoded);
    }
    Ok(out)
}
