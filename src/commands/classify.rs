use crate::{input, model_source};
use anyhow::{Context, Result};
use clap::Args;
use edgebert_engine::tokenizer::PairTruncation;
use edgebert_models::Sequence;
use serde::Serialize;
use std::path::PathBuf;

/// Classify texts, or sentence pairs (--pair), with a sequence-classification model.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples (the quickstart writes .cache/minilm-l6-rt-sentiment.int8.ebq where ../shared/assets exists; \
any other sequence classifier, blob or checkpoint folder, works the same):\n  \
    edgebert classify .cache/minilm-l6-rt-sentiment.int8.ebq \"A gem of a film.\"\n  \
    edgebert classify .cache/minilm-l6-rt-sentiment.int8.ebq --file reviews.txt --json\n  \
    edgebert classify PAIR_MODEL --pair \"A man is eating.\" \"Someone eats.\"\n  \
    edgebert classify PAIR_MODEL --pair --file pairs.tsv   (one pair per line: first<TAB>second)"
)]
pub struct ClassifyArgs {
    /// A `.ebq` blob from `edgebert convert` (quantized engine) or a Hugging Face checkpoint
    /// directory: config.json, model.safetensors, tokenizer files (float reference path).
    pub model: PathBuf,
    /// Texts to classify (or use --file); with --pair, two per pair: A1 B1 A2 B2 ...
    pub texts: Vec<String>,
    /// Read one text per line from this file ("-" for standard input); with --pair, two
    /// tab-separated columns per line.
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Classify sentence pairs (premise and hypothesis, question and passage ...): token types 0
    /// then 1, the longer text cut first when the pair is too long.
    #[arg(long)]
    pub pair: bool,
    /// Print one JSON object per input: {"label", "score", "probs", "logits"} in label-id order.
    /// probs are softmax probabilities, or each label's sigmoid when the model has one label or
    /// config.json says problem_type "multi_label_classification" (a cross-encoder's relevance),
    /// or the logits themselves for "regression"; logits are the raw classifier outputs.
    #[arg(long)]
    pub json: bool,
}

/// One `--json` line; a struct (not `json!`) keeps the key order and prints f32 values shortest.
#[derive(Serialize)]
struct ClassifyLine<'a> {
    label: &'a str,
    score: f32,
    probs: &'a [f32],
    logits: &'a [f32],
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    let (texts, results) = if args.pair {
        let pairs = input::read_pairs(&args.texts, args.file.as_deref())?;
        let runner = model_source::open(&args.model)?;
        let tok = runner.tokenizer();
        let batch = pairs
            .iter()
            .enumerate()
            .map(|(i, (a, b))| {
                let e = tok
                    .encode_pair(a, b, PairTruncation::LongestFirst)
                    .with_context(|| format!("pair {}", i + 1))?;
                Ok(Sequence { ids: e.ids, type_ids: e.type_ids })
            })
            .collect::<Result<Vec<_>>>()?;
        let texts = pairs.iter().map(|(a, b)| format!("{a} ⇥ {b}")).collect();
        (texts, runner.classify_sequences(&batch)?)
    } else {
        let texts = input::read_texts(&args.texts, args.file.as_deref())?;
        let runner = model_source::open(&args.model)?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let results = runner.classify(&refs)?;
        (texts, results)
    };
    if args.json {
        for r in &results {
            let line = ClassifyLine { label: &r.label, score: r.score, probs: &r.probs, logits: &r.logits };
            outln!("{}", serde_json::to_string(&line)?);
        }
        return Ok(());
    }
    let width = results.iter().map(|r| r.label.chars().count()).max().unwrap_or(5).max(5);
    outln!("{:<width$}  {:>6}  text", "label", "score");
    for (r, text) in results.iter().zip(&texts) {
        outln!("{:<width$}  {:>6.4}  {}", r.label, r.score, crate::shorten(text, 70));
    }
    Ok(())
}
