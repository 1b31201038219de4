//! `edgebert init`: a randomly initialised checkpoint of a `config.json`.

use anyhow::Result;
use clap::Args;
use edgebert_convert::init::init_checkpoint;
use std::path::PathBuf;

/// Write a randomly initialised checkpoint of any supported config.json (to size and time shapes).
///
/// Any family (BERT, DistilBERT, RoBERTa, ALBERT) and head: measure size and latency of shapes you
/// have no weights for.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    edgebert init .cache/models/all-minilm-l6-v2/config.json -o minilm-random --tokenizer .cache/models/all-minilm-l6-v2\n  \
    edgebert convert minilm-random -o minilm-random.ebq && edgebert bench minilm-random.ebq --seq 128\n  \
    edgebert init bert-base-config.json -o bert-base --tokenizer .cache/models/all-minilm-l6-v2   (any config.json: BERT-base shapes)\n\n\
Weights follow transformers' initialisation (normal with the config's initializer_range, biases 0, \
LayerNorm weights 1): outputs are meaningless, shapes and costs are real.")]
pub struct InitArgs {
    /// A Hugging Face config.json (its `architectures` decides family and head).
    pub config: PathBuf,
    /// Directory to write config.json and model.safetensors into.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Seed of the random weights: the same seed writes the same file.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Copy the tokenizer files (tokenizer.json, vocab.txt, ...) of this checkpoint directory, so
    /// the result converts and runs on text.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Write into a directory that is not empty.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: InitArgs) -> Result<()> {
    let report =
        init_checkpoint(&args.config, &args.output, args.seed, args.tokenizer.as_deref(), args.force)?;
    outln!(
        "wrote {} ({}): {} tensors, {:.1} M parameters, model.safetensors {:.1} MB",
        args.output.display(),
        report.architecture,
        report.tensors,
        report.parameters as f64 / 1e6,
        report.safetensors_bytes as f64 / 1e6
    );
    if report.tokenizer_files == 0 {
        outln!(
            "no tokenizer copied: pass --tokenizer DIR (e.g. .cache/models/all-minilm-l6-v2 after the quickstart) \
             before `edgebert convert`, which needs one"
        );
    }
    Ok(())
}
