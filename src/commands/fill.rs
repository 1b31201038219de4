use crate::{input, model_source};
use anyhow::Result;
use clap::Args;
use edgebert_engine::tasks::fill::Guess;
use edgebert_engine::tasks::run::fill_texts;
use edgebert_models::Head;
use serde::Serialize;
use std::path::PathBuf;

/// Fill the mask token ([MASK], or <mask> for RoBERTa) with a masked-language model.
///
/// Prints the likeliest tokens and their probabilities at each mask, as transformers' fill-mask
/// pipeline.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    edgebert fill MLM_MODEL \"The man went to the [MASK] to buy some milk.\"\n  \
    edgebert fill MLM_MODEL \"I [MASK] this movie, it was [MASK].\" --top-k 3 --json")]
pub struct FillArgs {
    /// A Hugging Face checkpoint directory (…ForMaskedLM) or a converted blob.
    pub model: PathBuf,
    /// Texts with at least one mask token (or use --file).
    pub texts: Vec<String>,
    /// Read one text per line from this file ("-" for standard input).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Guesses per mask.
    #[arg(long, default_value_t = 5)]
    pub top_k: usize,
    /// Print one JSON array per text, one inner array per mask:
    /// [[{"score", "token", "token_str", "sequence"}]].
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct GuessJson<'a> {
    score: f32,
    token: u32,
    token_str: &'a str,
    sequence: &'a str,
}

pub fn run(args: FillArgs) -> Result<()> {
    let texts = input::read_texts(&args.texts, args.file.as_deref())?;
    let runner = model_source::open(&args.model)?;
    runner.require_head(&[Head::MaskedLm], "fill")?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let all = fill_texts(&refs, runner.tokenizer(), args.top_k, |batch, positions| {
        runner.mask_logits(batch, positions)
    })?;
    for (text, guesses) in texts.iter().zip(&all) {
        if args.json {
            let json: Vec<Vec<GuessJson>> =
                guesses.iter().map(|g| g.iter().map(guess_json).collect()).collect();
            outln!("{}", serde_json::to_string(&json)?);
        } else {
            print_table(text, guesses)?;
        }
    }
    Ok(())
}

fn guess_json(g: &Guess) -> GuessJson<'_> {
    GuessJson { score: g.score, token: g.token, token_str: &g.token_str, sequence: &g.sequence }
}

fn print_table(text: &str, guesses: &[Vec<Guess>]) -> Result<()> {
    outln!("{}", crate::shorten(text, 78));
    for (m, mask) in guesses.iter().enumerate() {
        if guesses.len() > 1 {
            outln!("  mask {}", m + 1);
        }
        for g in mask {
            outln!(
                "  {:>6.4}  {:<16}  {}",
                g.score,
                crate::shorten(&g.token_str, 16),
                crate::shorten(&g.sequence, 60)
            );
        }
    }
    Ok(())
}
