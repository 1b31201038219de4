//! One float-reference pass over the calibration texts: the mean input of every linear layer
//! (for bias correction), when asked the Gram matrix `Σ xᵀx` of those inputs (for GPTQ), and the
//! reference outputs every candidate blob is scored against.

use super::gptq::Gram;
use crate::blob::ModelDescription;
use anyhow::Result;
use edgebert_kernels::generic::{linear_f32, quantize_row_i8};
use edgebert_models::schema::{layer_name, Part};
use edgebert_models::{Head, LinearInput, Sequence};
use std::collections::BTreeMap;

/// What the model's output is compared by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Sequence classification: logits.
    Classify,
    /// Encoder only: pooled sentence embeddings.
    Embed,
}

/// The reference pass's results.
pub struct Observed {
    pub task: Task,
    /// Reference logits or embeddings, one per text.
    pub reference: Vec<Vec<f32>>,
    /// Linear weight name -> the mean of its input rows over every calibration token.
    pub mean_input: BTreeMap<String, Vec<f64>>,
    /// With `grams`: the Gram matrix of each linear's input, keyed by [`gram_key`] (query, key and
    /// value share the query's).
    pub grams: BTreeMap<String, Gram>,
}

/// The key of `Observed::grams` for the linear weight `name`: query, key and value read the same
/// input, so they share one matrix (stored under the query's name).
pub fn gram_key(name: &str) -> String {
    for part in ["attention.self.key.weight", "attention.self.value.weight"] {
        if let Some(prefix) = name.strip_suffix(part) {
            return format!("{prefix}attention.self.query.weight");
        }
    }
    name.to_string()
}

#[derive(Default)]
struct Sum {
    total: Vec<f64>,
    rows: usize,
}

impl Sum {
    fn add(&mut self, rows: &[f32], width: usize) {
        if self.total.len() != width {
            self.total = vec![0.0; width];
        }
        for row in rows.chunks_exact(width) {
            self.total.iter_mut().zip(row).for_each(|(t, &v)| *t += f64::from(v));
            self.rows += 1;
        }
    }

    fn mean(&self) -> Vec<f64> {
        self.total.iter().map(|t| t / self.rows.max(1) as f64).collect()
    }
}

/// The linear weights an observed input feeds.
fn fed_by(site: LinearInput) -> &'static [&'static str] {
    match site {
        LinearInput::QueryKeyValue => &["attention.self.query", "attention.self.key", "attention.self.value"],
        LinearInput::AttentionOutput => &["attention.output.dense"],
        LinearInput::Intermediate => &["intermediate.dense"],
        LinearInput::Output => &["output.dense"],
    }
}

/// Which linear inputs' Gram matrices [`observe`] accumulates, and from what.
pub struct GramRequest<'a> {
    /// Whether to accumulate the matrix of this [`gram_key`].
    pub wanted: &'a dyn Fn(&str) -> bool,
    /// Round each input row first as the engine's int8 activation quantization does
    /// (`quantize_row_i8`, then `offset + scale · q`).
    pub int8_rows: bool,
}

/// `rows` (`[m, width]`) as the engine's int8 activation rows represent them.
fn int8_rounded(rows: &[f32], width: usize) -> Vec<f32> {
    let mut q = vec![0i8; width];
    rows.chunks_exact(width.max(1))
        .flat_map(|row| {
            let r = quantize_row_i8(row, &mut q);
            q.iter().map(move |&v| r.offset + r.scale * f32::from(v)).collect::<Vec<_>>()
        })
        .collect()
}

/// Runs the float model over `sequences` one at a time (no padding rows to leave out); with
/// `grams`, also accumulates the Gram matrices it asks for (`k²` f64 each).
pub fn observe(
    d: &ModelDescription<'_>,
    sequences: &[Sequence],
    grams: Option<&GramRequest<'_>>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Observed> {
    let model = d.model;
    let c = &model.config;
    let task = match c.head {
        Head::SequenceClassification => Task::Classify,
        Head::None => Task::Embed,
        other => anyhow::bail!(
            "--calib measures sequence classifiers and sentence encoders; this checkpoint's head is {}",
            other.name()
        ),
    };
    let stored = model.weights.layers.len().max(1);
    let mut sums: BTreeMap<String, Sum> = BTreeMap::new();
    let mut gram_sums: BTreeMap<String, Gram> = BTreeMap::new();
    let mut add_gram = |name: String, rows: &[f32], width: usize| {
        let Some(req) = grams.filter(|r| (r.wanted)(&name)) else { return };
        let gram = gram_sums.entry(name).or_insert_with(|| Gram::new(width));
        if req.int8_rows {
            gram.add(&int8_rounded(rows, width));
        } else {
            gram.add(rows);
        }
    };
    let mut reference = Vec::with_capacity(sequences.len());
    for (n, seq) in sequences.iter().enumerate() {
        let batch = std::slice::from_ref(seq);
        let out = model.forward_observed(batch, false, &mut |layer, site, rows| {
            let width = rows.len() / seq.ids.len().max(1);
            for part in fed_by(site) {
                let name = format!("{}.weight", layer_name(layer % stored, part));
                sums.entry(name).or_default().add(rows, width);
            }
            add_gram(format!("{}.weight", layer_name(layer % stored, fed_by(site)[0])), rows, width);
        })?;
        match task {
            Task::Classify => {
                let (Some(pooler), Some(_)) = (&model.weights.pooler, &model.weights.classifier) else {
                    anyhow::bail!("the checkpoint has no pooler and classifier to calibrate");
                };
                let cls = out.token(0, 0);
                sums.entry(format!("{}.weight", Part::POOLER)).or_default().add(cls, cls.len());
                add_gram(format!("{}.weight", Part::POOLER), cls, cls.len());
                let mut pooled = vec![0.0f32; pooler.out_dim];
                linear_f32(
                    cls,
                    &pooler.weight,
                    Some(&pooler.bias),
                    &mut pooled,
                    1,
                    pooler.in_dim,
                    pooler.out_dim,
                );
                c.pooler_activation().apply(&mut pooled);
                sums.entry(format!("{}.weight", Part::CLASSIFIER)).or_default().add(&pooled, pooled.len());
                add_gram(format!("{}.weight", Part::CLASSIFIER), &pooled, pooled.len());
                reference.extend(model.classify_logits(&out)?);
            }
            Task::Embed => reference.extend(model.embed_pooled(&out, d.pooling.unwrap_or_default())),
        }
        progress(n + 1, sequences.len());
    }
    let mean_input = sums.into_iter().map(|(k, s)| (k, s.mean())).collect();
    Ok(Observed { task, reference, mean_input, grams: gram_sums })
}
