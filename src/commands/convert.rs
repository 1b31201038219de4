//! `edgebert convert`: a Hugging Face checkpoint directory to one blob.

use anyhow::Result;
use clap::{Args, ValueEnum};
use edgebert_convert::blob::progress::ConvertBar;
use edgebert_convert::blob::{convert_dir_with, Precision, Recipe, WriteOutcome};
use std::path::PathBuf;

/// Quantize and pack a Hugging Face checkpoint into a memory-mappable blob (docs/FORMAT.md).
#[derive(Args, Debug)]
#[command(after_help = "Examples (the checkpoint folder the quickstart fetched):\n  \
    edgebert convert .cache/models/all-minilm-l6-v2 -o minilm.ebq\n  \
    edgebert convert .cache/models/all-minilm-l6-v2 -o minilm-f16.ebq --weights f16 --embeddings f16 --force")]
pub struct ConvertArgs {
    /// Checkpoint directory: config.json, model.safetensors, tokenizer.json or vocab.txt.
    pub model: PathBuf,
    /// Where to write the blob (written to a temporary file first, then renamed).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Precision of linear layers (attention, feed-forward, pooler, classifier).
    #[arg(long, value_enum, default_value_t = Choice::Int8)]
    pub weights: Choice,
    /// Precision of the word, position and token-type embedding tables (int8: one scale per row).
    #[arg(long, value_enum, default_value_t = Choice::Int8)]
    pub embeddings: Choice,
    /// With int8 weights, keep the linear layers whose name contains one of these (comma-separated,
    /// e.g. `output.dense` for every feed-forward output projection) in f16: mixed precision for the
    /// layers int8 hurts most (`edgebert eval` shows the per-layer error).
    #[arg(long, value_delimiter = ',')]
    pub keep_f16: Vec<String>,
    /// Replace an existing, different file at the output path.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Choice {
    Int8,
    F16,
    F32,
}

impl From<Choice> for Precision {
    fn from(c: Choice) -> Precision {
        match c {
            Choice::Int8 => Precision::Int8,
            Choice::F16 => Precision::F16,
            Choice::F32 => Precision::F32,
        }
    }
}

pub fn run(args: ConvertArgs) -> Result<()> {
    let recipe = Recipe { weights: args.weights.into(), embeddings: args.embeddings.into() };
    let mut bar = ConvertBar::new();
    let result =
        convert_dir_with(&args.model, &args.output, recipe, &args.keep_f16, args.force, &mut |stage| {
            bar.update(stage)
        });
    bar.finish();
    let report = result?;
    let verb = match report.outcome {
        WriteOutcome::Created => "wrote",
        WriteOutcome::Replaced => "replaced",
        WriteOutcome::Unchanged => "unchanged (identical file already there):",
    };
    outln!(
        "{verb} {} — {} bytes, {} tensors, {:.1}% of model.safetensors ({} bytes); weights {}, embeddings {}",
        report.output.display(),
        report.blob_bytes,
        report.tensors,
        100.0 * report.blob_bytes as f64 / report.source_bytes.max(1) as f64,
        report.source_bytes,
        recipe.weights,
        recipe.embeddings
    );
    Ok(())
}
