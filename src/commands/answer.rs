use crate::model_source;
use anyhow::{Context, Result};
use clap::Args;
use edgebert_engine::tasks::qa::{self, QaParams};
use edgebert_engine::tasks::run::{answer_question, Windows};
use edgebert_models::Head;
use serde::Serialize;
use std::path::PathBuf;

/// Answer a question from a context with an extractive question-answering model.
///
/// Prints the best span of the context, its score and character offsets. Contexts longer than the
/// model takes are read in overlapping windows (--stride tokens shared), as transformers'
/// question-answering pipeline.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    edgebert answer QA_MODEL --question \"Who wrote it?\" --context \"The book was written by Jane Austen.\"\n  \
    edgebert answer QA_MODEL -q \"What is it about?\" --context-file review.txt --top-k 3 --json")]
pub struct AnswerArgs {
    /// A Hugging Face checkpoint directory (…ForQuestionAnswering) or a converted blob.
    pub model: PathBuf,
    /// The question (must not be empty).
    #[arg(long, short)]
    pub question: String,
    /// The text to find the answer in (or --context-file).
    #[arg(long, short, conflicts_with = "context_file")]
    pub context: Option<String>,
    /// Read the context from this file ("-" for standard input).
    #[arg(long)]
    pub context_file: Option<PathBuf>,
    /// Longest answer, in tokens.
    #[arg(long, default_value_t = 15)]
    pub max_answer_len: usize,
    /// Tokens per window (question, context part and special tokens); default: the model's
    /// maximum, at most 384, as the pipeline.
    #[arg(long)]
    pub max_seq_len: Option<usize>,
    /// Context tokens consecutive windows share; default: half the window, at most 128.
    #[arg(long)]
    pub stride: Option<usize>,
    /// How many answers to print, best first.
    #[arg(long, default_value_t = 1)]
    pub top_k: usize,
    /// Also offer the empty answer (for models trained on unanswerable questions, SQuAD 2.0).
    #[arg(long)]
    pub handle_impossible_answer: bool,
    /// Print one JSON object per answer: {"score", "start", "end", "answer"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct AnswerJson<'a> {
    score: f64,
    start: usize,
    end: usize,
    answer: &'a str,
}

pub fn run(args: AnswerArgs) -> Result<()> {
    let context = match (&args.context, &args.context_file) {
        (Some(c), _) => c.clone(),
        (None, Some(path)) => crate::input::read_file_text(path)?,
        (None, None) => usage_bail!("no context: give --context TEXT or --context-file FILE"),
    };
    qa::check_inputs(&args.question, &context)?;
    let runner = model_source::open(&args.model)?;
    runner.require_head(&[Head::QuestionAnswering], "answer")?;
    let params = QaParams {
        max_answer_len: args.max_answer_len,
        top_k: args.top_k,
        handle_impossible_answer: args.handle_impossible_answer,
    };
    let windows = Windows { max_seq_len: args.max_seq_len, stride: args.stride };
    let answers = answer_question(&args.question, &context, runner.tokenizer(), &params, windows, |batch| {
        runner.token_logits(batch)
    })
    .context("answer")?;
    if args.json {
        for a in &answers {
            let line = AnswerJson { score: a.score, start: a.start, end: a.end, answer: &a.answer };
            outln!("{}", serde_json::to_string(&line)?);
        }
        return Ok(());
    }
    if answers.is_empty() {
        outln!("(no answer)");
    }
    outln!("{:>6}  {:>9}  answer", "score", "span");
    for a in &answers {
        outln!(
            "{:>6.4}  {:>9}  {}",
            a.score,
            format!("{}..{}", a.start, a.end),
            crate::shorten(&a.answer, 70)
        );
    }
    Ok(())
}
