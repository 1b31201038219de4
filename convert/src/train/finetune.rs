//! Fine-tuning: a classification head (added when the checkpoint has none) and the encoder learn
//! the labels of a TSV file.

use super::checkpoint::write_checkpoint;
use super::common::{dropout_rates, load_examples, tokenizer};
use super::trainer::{accuracy, train, Objective, TrainOptions, TrainReport};
use crate::hf::Checkpoint;
use anyhow::{bail, Result};
use edgebert_models::train::Rng;
use edgebert_models::{BertModel, Head, Linear};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct FinetuneOptions {
    pub model: PathBuf,
    pub train: PathBuf,
    pub dev: Option<PathBuf>,
    pub output: PathBuf,
    pub max_len: usize,
    pub limit: Option<usize>,
    /// Dropout for every site instead of config.json's rates.
    pub dropout: Option<f32>,
    pub train_options: TrainOptions,
}

#[derive(Debug, Clone)]
pub struct FinetuneReport {
    /// Whether a new pooler / classifier was initialised.
    pub new_head: bool,
    pub initial_dev_accuracy: Option<f32>,
    pub train: TrainReport,
}

/// `N(0, 0.02²)` weights and zero biases, as BERT initialises linear layers.
fn init_linear(in_dim: usize, out_dim: usize, rng: &mut Rng) -> Linear {
    Linear {
        weight: (0..in_dim * out_dim).map(|_| 0.02 * rng.normal()).collect(),
        bias: vec![0.0; out_dim],
        in_dim,
        out_dim,
    }
}

/// Adds a pooler and a `labels`-way classifier where the model lacks them.
pub fn ensure_head(model: &mut BertModel, labels: usize, seed: u64) -> Result<bool> {
    let h = model.config.hidden_size;
    super::common::ensure_trainable(&model.config)?;
    let mut rng = Rng::derive(seed, 0x4ead, 0);
    let mut added = false;
    if model.weights.pooler.is_none() {
        model.weights.pooler = Some(init_linear(h, h, &mut rng));
        added = true;
    }
    match &model.weights.classifier {
        Some(c) if c.out_dim < labels => {
            bail!("the checkpoint's classifier has {} labels, the data uses label {}", c.out_dim, labels - 1)
        }
        Some(_) => {}
        None => {
            model.weights.classifier = Some(init_linear(h, labels, &mut rng));
            if model.config.id2label.len() != labels {
                model.config.id2label = (0..labels).map(|i| format!("LABEL_{i}")).collect();
            }
            model.config.architecture = "BertForSequenceClassification".into();
            model.config.head = Head::SequenceClassification;
            added = true;
        }
    }
    Ok(added)
}

pub fn finetune(opts: &FinetuneOptions) -> Result<FinetuneReport> {
    let ckpt = Checkpoint::load(&opts.model)?;
    let tok = tokenizer(&ckpt, opts.max_len)?;
    let train_set = load_examples(&tok, &opts.train, opts.limit)?;
    let dev_set = match &opts.dev {
        Some(p) => load_examples(&tok, p, None)?,
        None => Vec::new(),
    };
    let labels = train_set.iter().chain(&dev_set).map(|e| e.label + 1).max().unwrap_or(0);
    let mut model = ckpt.model.clone();
    let new_head = ensure_head(&mut model, labels.max(2), opts.train_options.seed)?;
    let initial_dev_accuracy = if dev_set.is_empty() { None } else { Some(accuracy(&model, &dev_set)?) };
    let mut train_opts = opts.train_options.clone();
    (train_opts.hidden_dropout, train_opts.attention_dropout) = match opts.dropout {
        Some(p) => (p, p),
        None => dropout_rates(&opts.model)?,
    };
    let report = train(&mut model, &train_set, &dev_set, &Objective::Supervised, &train_opts, |m, _| {
        write_checkpoint(m, &opts.model, &opts.output)
    })?;
    Ok(FinetuneReport { new_head, initial_dev_accuracy, train: report })
}
