//! Distillation: a shallower student initialised from teacher layers learns the teacher's soft
//! targets and the gold labels.

use super::checkpoint::write_checkpoint;
use super::common::{dropout_rates, load_examples, tokenizer};
use super::trainer::{accuracy, predict_logits, train, HiddenTarget, Objective, TrainOptions, TrainReport};
use crate::hf::Checkpoint;
use anyhow::{bail, ensure, Result};
use edgebert_models::train::PackedModel;
use edgebert_models::{BertModel, BertWeights, Sequence};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct DistillOptions {
    pub teacher: PathBuf,
    pub train: PathBuf,
    pub dev: Option<PathBuf>,
    pub output: PathBuf,
    pub layers: usize,
    /// Teacher layer (0-based) each student layer starts from; default every other one.
    pub layer_map: Option<Vec<usize>>,
    pub temperature: f32,
    pub alpha: f32,
    /// Weight of the hidden-state MSE (0: off).
    pub hidden_mse: f32,
    pub max_len: usize,
    /// Use only the first N training examples.
    pub limit: Option<usize>,
    /// Dropout for every site instead of config.json's rates.
    pub dropout: Option<f32>,
    /// Everything but dropout, which comes from config.json or `dropout`.
    pub train_options: TrainOptions,
}

/// What a distillation run measured.
#[derive(Debug, Clone)]
pub struct DistillReport {
    pub layer_map: Vec<usize>,
    pub teacher_dev_accuracy: Option<f32>,
    pub initial_dev_accuracy: Option<f32>,
    pub teacher_logits_seconds: f32,
    pub train: TrainReport,
}

/// DistilBERT's choice: every other layer, `0, 2, 4, …`, spread over the teacher.
pub fn default_layer_map(teacher_layers: usize, student_layers: usize) -> Vec<usize> {
    (0..student_layers).map(|i| i * teacher_layers / student_layers).collect()
}

/// A student with the teacher's embeddings, head, and the layers of `layer_map`.
pub fn student_from_teacher(teacher: &BertModel, layer_map: &[usize]) -> Result<BertModel> {
    let n = teacher.weights.layers.len();
    ensure!(!layer_map.is_empty(), "the student needs at least one layer");
    if let Some(&bad) = layer_map.iter().find(|&&l| l >= n) {
        bail!("layer map names teacher layer {bad}, but the teacher has layers 0..{n}");
    }
    let mut config = teacher.config.clone();
    config.num_hidden_layers = layer_map.len();
    let weights = BertWeights {
        embeddings: teacher.weights.embeddings.clone(),
        layers: layer_map.iter().map(|&l| teacher.weights.layers[l].clone()).collect(),
        pooler: teacher.weights.pooler.clone(),
        classifier: teacher.weights.classifier.clone(),
        mlm: None,
    };
    Ok(BertModel::new(config, weights))
}

pub fn distill(opts: &DistillOptions) -> Result<DistillReport> {
    let ckpt = Checkpoint::load(&opts.teacher)?;
    let teacher = &ckpt.model;
    super::common::ensure_trainable(&teacher.config)?;
    if teacher.weights.classifier.is_none() {
        bail!(
            "{}: the teacher has no classification head; fine-tune it first (`edgebert finetune`)",
            opts.teacher.display()
        );
    }
    let layer_map = opts
        .layer_map
        .clone()
        .unwrap_or_else(|| default_layer_map(teacher.weights.layers.len(), opts.layers));
    ensure!(
        layer_map.len() == opts.layers,
        "--layer-map has {} entries but --layers is {}",
        layer_map.len(),
        opts.layers
    );
    let mut student = student_from_teacher(teacher, &layer_map)?;
    let tok = tokenizer(&ckpt, opts.max_len)?;
    let train_set = load_examples(&tok, &opts.train, opts.limit)?;
    let dev_set = match &opts.dev {
        Some(p) => load_examples(&tok, p, None)?,
        None => Vec::new(),
    };
    let classes = teacher.weights.classifier.as_ref().map_or(0, |c| c.out_dim);
    if let Some(e) = train_set.iter().chain(&dev_set).find(|e| e.label >= classes) {
        bail!("label {} is outside the teacher's {classes} labels", e.label);
    }
    let progress = opts.train_options.progress;
    let started = Instant::now();
    let seqs: Vec<Sequence> = train_set.iter().map(|e| e.sequence.clone()).collect();
    let teacher_logits = predict_logits(teacher, &seqs)?;
    let teacher_logits_seconds = started.elapsed().as_secs_f32();
    let teacher_dev_accuracy = if dev_set.is_empty() { None } else { Some(accuracy(teacher, &dev_set)?) };
    let initial_dev_accuracy = if dev_set.is_empty() { None } else { Some(accuracy(&student, &dev_set)?) };
    if progress {
        eprintln!(
            "teacher logits for {} examples in {teacher_logits_seconds:.1} s; student layers {layer_map:?}{}{}",
            train_set.len(),
            teacher_dev_accuracy.map(|a| format!("; teacher dev accuracy {a:.4}")).unwrap_or_default(),
            initial_dev_accuracy.map(|a| format!("; student before training {a:.4}")).unwrap_or_default(),
        );
    }
    let teacher_packed = PackedModel::new(&teacher.weights);
    let hidden = (opts.hidden_mse > 0.0).then(|| HiddenTarget {
        teacher,
        packed: &teacher_packed,
        layer_map: &layer_map,
        weight: opts.hidden_mse,
    });
    let objective = Objective::Distill {
        teacher_logits: &teacher_logits,
        temperature: opts.temperature,
        alpha: opts.alpha,
        hidden,
    };
    let mut train_opts = opts.train_options.clone();
    (train_opts.hidden_dropout, train_opts.attention_dropout) = match opts.dropout {
        Some(p) => (p, p),
        None => dropout_rates(&opts.teacher)?,
    };
    let report = train(&mut student, &train_set, &dev_set, &objective, &train_opts, |model, _| {
        write_checkpoint(model, &opts.teacher, &opts.output)
    })?;
    Ok(DistillReport {
        layer_map,
        teacher_dev_accuracy,
        initial_dev_accuracy,
        teacher_logits_seconds,
        train: report,
    })
}
