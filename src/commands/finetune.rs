//! `edgebert finetune`: train a classification head and the encoder on a labelled TSV, writing a
//! Hugging Face checkpoint.

use anyhow::{Context, Result};
use clap::Args;
use edgebert_convert::train::{finetune, FinetuneOptions, TrainOptions, TrainReport};
use std::path::PathBuf;

/// Optimiser and run settings shared by `finetune` and `distill`.
#[derive(Args, Debug, Clone)]
pub struct TrainingArgs {
    /// Passes over the training data.
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Peak learning rate (AdamW; linear warm-up, then linear decay to 0).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Examples per optimizer step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Longest token sequence, with [CLS] and [SEP]; longer texts are truncated.
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    /// Seed of shuffling, dropout and new weights: the same seed gives the same model.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction of the steps spent warming the learning rate up.
    #[arg(long, default_value_t = 0.1)]
    pub warmup: f32,
    /// AdamW weight decay (never on biases and LayerNorm).
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f32,
    /// Clip the global gradient norm to this (0: no clipping).
    #[arg(long, default_value_t = 1.0)]
    pub clip: f32,
    /// Dropout probability everywhere, instead of config.json's rates.
    #[arg(long)]
    pub dropout: Option<f32>,
    /// Keep the word, position and token-type embeddings fixed.
    #[arg(long)]
    pub freeze_embeddings: bool,
    /// Train on the first N examples only.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl TrainingArgs {
    pub fn options(&self, default_lr: f32) -> Result<TrainOptions> {
        if let Some(n) = self.threads {
            rayon::ThreadPoolBuilder::new().num_threads(n).build_global().context("cannot start threads")?;
        }
        Ok(TrainOptions {
            epochs: self.epochs,
            lr: self.lr.unwrap_or(default_lr),
            batch_size: self.batch,
            warmup_ratio: self.warmup,
            weight_decay: self.weight_decay,
            clip_norm: self.clip,
            seed: self.seed,
            hidden_dropout: 0.0,
            attention_dropout: 0.0,
            freeze_embeddings: self.freeze_embeddings,
            progress: !self.quiet,
        })
    }
}

/// Prints the per-epoch table and where the best checkpoint went.
pub fn print_report(report: &TrainReport, output: &std::path::Path) -> Result<()> {
    for e in &report.epochs {
        let dev = e.dev_accuracy.map(|a| format!("{a:.4}")).unwrap_or_else(|| "-".into());
        outln!(
            "epoch {}: train loss {:.4}, {:.1} examples/s, {:.0} s, dev accuracy {dev}",
            e.epoch,
            e.train_loss,
            e.examples_per_sec,
            e.seconds
        );
    }
    let dev = report.best_dev_accuracy.map(|a| format!(" (dev accuracy {a:.4})")).unwrap_or_default();
    outln!("kept epoch {}{dev}: {}", report.best_epoch, output.display());
    Ok(())
}

/// Fine-tune a checkpoint as a text classifier on `label<TAB>text` data (labels 0..N-1).
#[derive(Args, Debug)]
#[command(
    after_help = "Adds a pooler and classifier when the checkpoint has none. The output is a standard \
Hugging Face checkpoint (config.json with id2label, model.safetensors, tokenizer files) holding the best \
dev epoch.\n\nExample (the checkpoint folder the quickstart fetched):\n  edgebert finetune .cache/models/all-minilm-l6-v2 \
--train train.tsv --dev dev.tsv -o my-classifier"
)]
pub struct FinetuneArgs {
    /// Hugging Face checkpoint directory.
    pub model: PathBuf,
    /// Training data: `label<TAB>text` per line.
    #[arg(long)]
    pub train: PathBuf,
    /// Dev data, same format: measured after each epoch, the best epoch is kept.
    #[arg(long)]
    pub dev: Option<PathBuf>,
    /// Output checkpoint directory.
    #[arg(long, short)]
    pub output: PathBuf,
    #[command(flatten)]
    pub training: TrainingArgs,
}

pub fn run(args: FinetuneArgs) -> Result<()> {
    let opts = FinetuneOptions {
        model: args.model,
        train: args.train,
        dev: args.dev,
        output: args.output.clone(),
        max_len: args.training.max_len,
        limit: args.training.limit,
        dropout: args.training.dropout,
        train_options: args.training.options(5e-5)?,
    };
    let report = finetune(&opts)?;
    if report.new_head {
        outln!("added a new classification head");
    }
    if let Some(a) = report.initial_dev_accuracy {
        outln!("dev accuracy before training: {a:.4}");
    }
    print_report(&report.train, &args.output)?;
    Ok(())
}
