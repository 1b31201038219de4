//! The training loop shared by fine-tuning and distillation.

use super::data::LabelledSequence;
use super::optim::{clip_global_norm, AdamW, Schedule};
use anyhow::Result;
use edgebert_kernels::Kernels;
use edgebert_models::train::{
    add_assign, backward, forward, kl_div_with_temperature, mse, softmax_cross_entropy, zeros_like, Batch,
    Dropout, Gemm, PackedModel, Rng,
};
use edgebert_models::{argmax, BertModel, BertWeights, Sequence};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::time::Instant;

/// Examples per unit of parallel work. Fixed, so results do not depend on the thread count.
pub const CHUNK: usize = 8;

/// Hyper-parameters of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub epochs: usize,
    /// Peak learning rate.
    pub lr: f32,
    pub batch_size: usize,
    /// Fraction of all steps spent warming up.
    pub warmup_ratio: f32,
    pub weight_decay: f32,
    /// Maximum global gradient norm (0 turns clipping off).
    pub clip_norm: f32,
    pub seed: u64,
    /// `hidden_dropout_prob` and `attention_probs_dropout_prob` (from config.json).
    pub hidden_dropout: f32,
    pub attention_dropout: f32,
    pub freeze_embeddings: bool,
    /// Show a progress bar and per-epoch lines on stderr.
    pub progress: bool,
}

/// A hidden-state target: student state `i + 1` learns teacher state `layer_map[i] + 1`.
pub struct HiddenTarget<'a> {
    pub teacher: &'a BertModel,
    pub packed: &'a PackedModel,
    pub layer_map: &'a [usize],
    pub weight: f32,
}

/// What the student learns from.
pub enum Objective<'a> {
    /// Cross-entropy on the gold labels.
    Supervised,
    /// `alpha · T²·KL(teacher_T ‖ student_T) + (1 − alpha) · CE` (+ hidden-state MSE).
    Distill {
        /// `[train examples, classes]`, in the order of the training set.
        teacher_logits: &'a [f32],
        temperature: f32,
        alpha: f32,
        hidden: Option<HiddenTarget<'a>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f32,
    /// Training throughput (forward, backward and update), examples per second.
    pub examples_per_sec: f32,
    pub dev_accuracy: Option<f32>,
    pub seconds: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    pub epochs: Vec<EpochReport>,
    /// The epoch whose weights were kept (the best dev accuracy, or the last without dev data).
    pub best_epoch: usize,
    pub best_dev_accuracy: Option<f32>,
}

/// Logits of `sequences` (`[n, classes]`) with dropout off, in parallel chunks.
pub fn predict_logits(model: &BertModel, sequences: &[Sequence]) -> Result<Vec<f32>> {
    let packed = PackedModel::new(&model.weights);
    let parts: Vec<Result<Vec<f32>>> = sequences
        .par_chunks(2 * CHUNK)
        .map(|chunk| {
            let mut gemm = Gemm::new(Kernels::selected());
            let batch = Batch::new(model, chunk)?;
            Ok(forward(model, &packed, batch, Dropout::off(), &mut gemm).logits)
        })
        .collect();
    let mut logits = Vec::new();
    for p in parts {
        logits.extend(p?);
    }
    Ok(logits)
}

/// Fraction of `examples` whose argmax logit is the gold label.
pub fn accuracy(model: &BertModel, examples: &[LabelledSequence]) -> Result<f32> {
    let seqs: Vec<Sequence> = examples.iter().map(|e| e.sequence.clone()).collect();
    let logits = predict_logits(model, &seqs)?;
    let classes = logits.len() / examples.len().max(1);
    let right =
        logits.chunks_exact(classes.max(1)).zip(examples).filter(|(row, e)| argmax(row) == e.label).count();
    Ok(right as f32 / examples.len().max(1) as f32)
}

struct StepContext<'a> {
    model: &'a BertModel,
    packed: &'a PackedModel,
    train: &'a [LabelledSequence],
    objective: &'a Objective<'a>,
    dropout: Dropout,
    step: u64,
    batch_examples: f32,
    batch_rows: f32,
}

/// Loss and gradient of one chunk, scaled so that chunks add up to the batch mean.
fn chunk_gradient(cx: &StepContext, chunk: usize, indices: &[usize]) -> Result<(f32, BertWeights)> {
    let model = cx.model;
    let mut gemm = Gemm::new(Kernels::selected());
    let seqs: Vec<Sequence> = indices.iter().map(|&i| cx.train[i].sequence.clone()).collect();
    let labels: Vec<usize> = indices.iter().map(|&i| cx.train[i].label).collect();
    let dropout =
        Dropout { seed: Rng::derive(cx.dropout.seed, cx.step, chunk as u64).next_u64(), ..cx.dropout };
    let tape = forward(model, cx.packed, Batch::new(model, &seqs)?, dropout, &mut gemm);
    let classes = tape.logits.len() / indices.len();
    let ce = softmax_cross_entropy(&tape.logits, classes, &labels, cx.batch_examples);
    let mut states = Vec::new();
    let (loss, d_logits) = match cx.objective {
        Objective::Supervised => (ce.loss, ce.grad),
        Objective::Distill { teacher_logits, temperature, alpha, hidden } => {
            let teacher: Vec<f32> = indices
                .iter()
                .flat_map(|&i| &teacher_logits[i * classes..(i + 1) * classes])
                .copied()
                .collect();
            let kl =
                kl_div_with_temperature(&tape.logits, &teacher, classes, *temperature, cx.batch_examples);
            let d: Vec<f32> =
                kl.grad.iter().zip(&ce.grad).map(|(k, c)| alpha * k + (1.0 - alpha) * c).collect();
            let mut loss = alpha * kl.loss + (1.0 - alpha) * ce.loss;
            if let Some(h) = hidden.as_ref().filter(|h| h.weight > 0.0) {
                let t =
                    forward(h.teacher, h.packed, Batch::new(h.teacher, &seqs)?, Dropout::off(), &mut gemm);
                let denom = cx.batch_rows * model.config.hidden_size as f32 * h.layer_map.len() as f32;
                for (s, &ti) in h.layer_map.iter().enumerate() {
                    let m = mse(&tape.states[s + 1], &t.states[ti + 1], denom / h.weight);
                    loss += m.loss;
                    states.push((s + 1, m.grad));
                }
            }
            (loss, d)
        }
    };
    let mut grads = zeros_like(&model.weights);
    backward(model, cx.packed, &tape, Some(&d_logits), &states, &mut grads, &mut gemm);
    Ok((loss, grads))
}

/// Trains `model` in place. After each epoch the dev accuracy is measured; `keep` is called with
/// the model whenever it is the best so far (every epoch when `dev` is empty), and the best
/// weights are restored into `model` at the end.
pub fn train(
    model: &mut BertModel,
    train: &[LabelledSequence],
    dev: &[LabelledSequence],
    objective: &Objective,
    opts: &TrainOptions,
    mut keep: impl FnMut(&BertModel, &EpochReport) -> Result<()>,
) -> Result<TrainReport> {
    anyhow::ensure!(!train.is_empty(), "no training examples");
    anyhow::ensure!(opts.batch_size > 0, "batch size must be positive");
    let steps_per_epoch = train.len().div_ceil(opts.batch_size);
    let total = steps_per_epoch * opts.epochs;
    let schedule =
        Schedule { peak: opts.lr, warmup: (opts.warmup_ratio * total as f32).round() as usize, total };
    let mut adam = AdamW::new(opts.weight_decay, opts.freeze_embeddings);
    let dropout = Dropout { hidden: opts.hidden_dropout, attention: opts.attention_dropout, seed: opts.seed };
    let mut report = TrainReport { epochs: Vec::new(), best_epoch: 0, best_dev_accuracy: None };
    let mut best_weights: Option<BertWeights> = None;
    let mut step = 0usize;
    for epoch in 1..=opts.epochs {
        let bar = if opts.progress { ProgressBar::new(train.len() as u64) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(format!("epoch {epoch}/{}", opts.epochs));
        let mut order: Vec<usize> = (0..train.len()).collect();
        Rng::derive(opts.seed, epoch as u64, 0x5eed).shuffle(&mut order);
        let started = Instant::now();
        let (mut loss_sum, mut batches, mut seen) = (0.0f64, 0usize, 0usize);
        for batch in order.chunks(opts.batch_size) {
            let packed = PackedModel::new(&model.weights);
            let rows: usize = batch.iter().map(|&i| train[i].sequence.ids.len()).sum();
            let cx = StepContext {
                model,
                packed: &packed,
                train,
                objective,
                dropout,
                step: step as u64,
                batch_examples: batch.len() as f32,
                batch_rows: rows as f32,
            };
            let chunks: Vec<&[usize]> = batch.chunks(CHUNK).collect();
            let parts: Vec<Result<(f32, BertWeights)>> =
                chunks.par_iter().enumerate().map(|(c, idx)| chunk_gradient(&cx, c, idx)).collect();
            let (mut loss, mut grads) = (0.0f32, None::<BertWeights>);
            for part in parts {
                let (l, mut g) = part?;
                loss += l;
                match grads.as_mut() {
                    None => grads = Some(g),
                    Some(acc) => add_assign(acc, &mut g),
                }
            }
            let mut grads = grads.expect("a batch has at least one chunk");
            clip_global_norm(&mut grads, opts.clip_norm);
            adam.step(&mut model.weights, &mut grads, schedule.lr(step));
            step += 1;
            loss_sum += loss as f64;
            batches += 1;
            seen += batch.len();
            bar.set_position(seen as u64);
            let rate = seen as f32 / started.elapsed().as_secs_f32().max(1e-6);
            bar.set_message(format!("loss {:.4}  {rate:.1} ex/s", loss_sum / batches as f64));
        }
        let seconds = started.elapsed().as_secs_f32();
        bar.finish_and_clear();
        let dev_accuracy = if dev.is_empty() { None } else { Some(accuracy(model, dev)?) };
        let epoch_report = EpochReport {
            epoch,
            train_loss: (loss_sum / batches.max(1) as f64) as f32,
            examples_per_sec: seen as f32 / seconds.max(1e-6),
            dev_accuracy,
            seconds,
        };
        if opts.progress {
            eprintln!(
                "epoch {epoch}/{}: loss {:.4}, {:.1} examples/s ({:.0} s){}",
                opts.epochs,
                epoch_report.train_loss,
                epoch_report.examples_per_sec,
                seconds,
                dev_accuracy.map(|a| format!(", dev accuracy {a:.4}")).unwrap_or_default()
            );
        }
        let better = match (dev_accuracy, report.best_dev_accuracy) {
            (None, _) => true,
            (Some(_), None) => true,
            (Some(a), Some(b)) => a > b,
        };
        if better {
            report.best_epoch = epoch;
            report.best_dev_accuracy = dev_accuracy;
            keep(model, &epoch_report)?;
            best_weights = Some(model.weights.clone());
        }
        report.epochs.push(epoch_report);
    }
    if let Some(w) = best_weights {
        model.weights = w;
    }
    Ok(report)
}
