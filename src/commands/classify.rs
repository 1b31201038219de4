use crate::{input, model_source};
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

/// Classify texts with a sequence-classification model.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  edgebert classify ../shared/assets/models/minilm-l6-rt-sentiment \"A gem of a film.\"\n  \
    edgebert classify MODEL --file reviews.txt --json"
)]
pub struct ClassifyArgs {
    /// A Hugging Face checkpoint directory (config.json, model.safetensors, tokenizer files).
    pub model: PathBuf,
    /// Texts to classify (or use --file).
    pub texts: Vec<String>,
    /// Read one text per line from this file ("-" for standard input).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Print one JSON object per input: {"label", "score", "probs"} (probs in label-id order).
    #[arg(long)]
    pub json: bool,
}

/// One `--json` line; a struct (not `json!`) keeps the key order and prints f32 values shortest.
#[derive(Serialize)]
struct ClassifyLine<'a> {
    label: &'a str,
    score: f32,
    probs: &'a [f32],
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    let texts = input::read_texts(&args.texts, args.file.as_deref())?;
    let pipeline = model_source::open(&args.model)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let results = pipeline.classify(&refs)?;
    if args.json {
        for r in &results {
            let line = ClassifyLine { label: &r.label, score: r.score, probs: &r.probs };
            println!("{}", serde_json::to_string(&line)?);
        }
        return Ok(());
    }
    let width = results.iter().map(|r| r.label.chars().count()).max().unwrap_or(5).max(5);
    println!("{:<width$}  {:>6}  text", "label", "score");
    for (r, text) in results.iter().zip(&texts) {
        println!("{:<width$}  {:>6.4}  {}", r.label, r.score, crate::shorten(text, 70));
    }
    Ok(())
}
