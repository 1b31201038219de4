//! `edgebert distill`: a shallower student learns a classifier teacher's soft targets.

use super::finetune::{print_report, TrainingArgs};
use anyhow::Result;
use clap::Args;
use edgebert_convert::train::{distill, DistillOptions};
use std::path::PathBuf;

/// Distil a classification checkpoint into a student with fewer layers.
#[derive(Args, Debug)]
#[command(
    after_help = "The student starts from the teacher's embeddings, head and the layers of --layer-map \
(default every other layer, as DistilBERT). Loss: alpha · T²·KL(teacher_T ‖ student_T) + (1 − alpha) · \
cross-entropy on the labels (+ hidden-mse · MSE of mapped hidden states). Teacher logits are computed once \
up front. The output is a standard Hugging Face checkpoint holding the best dev epoch.\n\nExample:\n  \
edgebert distill --teacher my-classifier --layers 3 --train train.tsv --dev dev.tsv -o student\n  \
(my-classifier: a sequence classifier, e.g. from `edgebert finetune ... -o my-classifier`)"
)]
pub struct DistillArgs {
    /// Teacher checkpoint directory (with a classification head).
    #[arg(long)]
    pub teacher: PathBuf,
    /// Student depth.
    #[arg(long)]
    pub layers: usize,
    /// Teacher layer (0-based) each student layer starts from, e.g. 0,2,4.
    #[arg(long, value_delimiter = ',')]
    pub layer_map: Option<Vec<usize>>,
    /// Training data: `label<TAB>text` per line.
    #[arg(long)]
    pub train: PathBuf,
    /// Dev data, same format: measured after each epoch, the best epoch is kept.
    #[arg(long)]
    pub dev: Option<PathBuf>,
    /// Softmax temperature of the soft targets.
    #[arg(long, default_value_t = 2.0)]
    pub temperature: f32,
    /// Weight of the soft-target loss; 1 − alpha goes to the hard labels.
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f32,
    /// Weight of the hidden-state MSE between mapped layers (0: off).
    #[arg(long, default_value_t = 0.0)]
    pub hidden_mse: f32,
    /// Output checkpoint directory.
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub training: TrainingArgs,
}

pub fn run(args: DistillArgs) -> Result<()> {
    let opts = DistillOptions {
        teacher: args.teacher,
        train: args.train,
        dev: args.dev,
        output: args.output.clone(),
        layers: args.layers,
        layer_map: args.layer_map,
        temperature: args.temperature,
        alpha: args.alpha,
        hidden_mse: args.hidden_mse,
        max_len: args.training.max_len,
        limit: args.training.limit,
        dropout: args.training.dropout,
        train_options: args.training.options(1e-4)?,
    };
    let report = distill(&opts)?;
    outln!("student layers from teacher layers {:?}", report.layer_map);
    outln!("teacher logits: {:.1} s for the training set (computed once)", report.teacher_logits_seconds);
    if let Some(a) = report.teacher_dev_accuracy {
        outln!("teacher dev accuracy: {a:.4}");
    }
    if let Some(a) = report.initial_dev_accuracy {
        outln!("student dev accuracy before training: {a:.4}");
    }
    print_report(&report.train, &args.output)?;
    Ok(())
}
