use crate::{input, model_source};
use anyhow::Result;
use clap::Args;
use edgebert_models::cosine;
use serde::Serialize;
use std::path::PathBuf;

/// Turn texts into sentence embeddings (the checkpoint's pooling; mean + L2 norm by default).
#[derive(Args, Debug)]
#[command(after_help = "Examples (paths the quickstart creates):\n  \
    edgebert embed .cache/all-minilm-l6-v2.int8.ebq \"A cat sat.\" \"A dog ran.\" --nearest\n  \
    edgebert embed .cache/all-minilm-l6-v2.int8.ebq --file .cache/sentences.txt --json > vectors.jsonl\n  \
    edgebert embed .cache/models/all-minilm-l6-v2 \"A cat sat.\"   (the float reference, from the checkpoint folder)")]
pub struct EmbedArgs {
    /// A `.ebq` blob from `edgebert convert` (quantized engine) or a Hugging Face checkpoint
    /// directory: config.json, model.safetensors, tokenizer files (float reference path).
    pub model: PathBuf,
    /// Texts to embed (or use --file).
    pub texts: Vec<String>,
    /// Read one text per line from this file ("-" for standard input).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Print one JSON object per input: {"embedding": [...]}.
    #[arg(long, conflicts_with = "nearest")]
    pub json: bool,
    /// For each text, print the most similar other text and their cosine similarity.
    #[arg(long)]
    pub nearest: bool,
}

/// One `--json` line.
#[derive(Serialize)]
struct EmbedLine<'a> {
    embedding: &'a [f32],
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let texts = input::read_texts(&args.texts, args.file.as_deref())?;
    let pipeline = model_source::open(&args.model)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embeddings = pipeline.embed(&refs)?;
    if args.json {
        for e in &embeddings {
            println!("{}", serde_json::to_string(&EmbedLine { embedding: e })?);
        }
    } else if args.nearest {
        print_nearest(&texts, &embeddings);
    } else {
        println!("{:>4}  {:>7}  {:<40}  text", "dims", "norm", "first values");
        for (e, text) in embeddings.iter().zip(&texts) {
            let norm = e.iter().map(|v| v * v).sum::<f32>().sqrt();
            let head: Vec<String> = e.iter().take(4).map(|v| format!("{v:+.4}")).collect();
            println!(
                "{:>4}  {norm:>7.4}  {:<40}  {}",
                e.len(),
                head.join(" ") + " …",
                crate::shorten(text, 50)
            );
        }
    }
    Ok(())
}

fn print_nearest(texts: &[String], embeddings: &[Vec<f32>]) {
    println!("{:>6}  {:<40}  nearest", "cosine", "text");
    for (i, e) in embeddings.iter().enumerate() {
        let best = embeddings
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, other)| (j, cosine(e, other)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((j, c)) => {
                println!("{c:>6.3}  {:<40}  {}", crate::shorten(&texts[i], 40), crate::shorten(&texts[j], 40))
            }
            None => println!("{:>6}  {:<40}  (no other text)", "-", crate::shorten(&texts[i], 40)),
        }
    }
}
