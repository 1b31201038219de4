use super::prompt_args::PromptArgs;
use crate::{input, model_source};
use anyhow::{bail, Context, Result};
use clap::Args;
use edgebert_engine::rerank::{cross_encoder_pairs, ranked, sigmoid};
use edgebert_engine::EngineError;
use edgebert_models::Head;
use serde::Serialize;
use std::path::PathBuf;

/// Rank documents for a query: a cross-encoder (one-label classifier) or an embedding model.
///
/// A cross-encoder scores each
/// (query, document) pair, an embedding model compares embeddings by cosine.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  edgebert rerank ms-marco-MiniLM-L-6-v2.ebq --query \"how do cats sleep\" --file passages.txt --top-k 5\n  \
    edgebert rerank ../shared/assets/models/all-minilm-l6-v2 --query \"a pet\" \"A cat sat.\" \"Stocks fell.\" --json\n\n\
Cross-encoders (…ForSequenceClassification with one label, e.g. cross-encoder/ms-marco-MiniLM-L-6-v2): \
the score is the sigmoid of the pair's logit, as sentence-transformers' CrossEncoder gives it; a \
document too long for the model is cut on the document side only. Embedding models: the score is \
the cosine of the query's and the document's embeddings (prompt options apply to the query). \
Output is best first; --json prints {\"index\", \"score\", \"document\"} per line."
)]
pub struct RerankArgs {
    /// A cross-encoder or an embedding model: checkpoint directory or converted blob.
    pub model: PathBuf,
    /// The query.
    #[arg(long, short)]
    pub query: String,
    /// Documents to rank (or use --file).
    pub documents: Vec<String>,
    /// Read one document per line from this file ("-" for standard input).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Print only the K best.
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// One JSON object per document, best first: {"index", "score", "document"}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub prompt: PromptArgs,
}

#[derive(Serialize)]
struct RerankLine<'a> {
    index: usize,
    score: f32,
    document: &'a str,
}

pub fn run(args: RerankArgs) -> Result<()> {
    let docs = input::read_texts(&args.documents, args.file.as_deref())?;
    let runner = model_source::open(&args.model)?;
    let tok = runner.tokenizer();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let config = runner.config();
    let scores: Vec<f32> = match config.head {
        Head::SequenceClassification => {
            if config.id2label.len() != 1 {
                bail!(EngineError::NotOneLabel { labels: config.id2label.len() });
            }
            let pairs = cross_encoder_pairs(tok, &args.query, &refs).context("query and documents")?;
            runner.classify_sequences(&pairs)?.iter().map(|c| sigmoid(c.logits[0])).collect()
        }
        Head::None => {
            let prompt = args.prompt.resolve(runner.prompts())?;
            let mut batch = vec![tok.encode(&format!("{prompt}{}", args.query))?.sequence()];
            for d in &refs {
                batch.push(tok.encode(d)?.sequence());
            }
            let vectors = runner.embed_sequences(&batch)?;
            vectors[1..].iter().map(|d| edgebert_models::cosine(&vectors[0], d) as f32).collect()
        }
        other => bail!(
            "`edgebert rerank` needs a one-label sequence classifier (cross-encoder) or an embedding \
             model; this one is {} ({})",
            config.architecture,
            other.name()
        ),
    };
    let mut hits = ranked(&scores);
    hits.truncate(args.top_k.unwrap_or(usize::MAX));
    if args.json {
        for h in &hits {
            let line = RerankLine { index: h.index, score: h.score, document: &docs[h.index] };
            outln!("{}", serde_json::to_string(&line)?);
        }
        return Ok(());
    }
    outln!("{:>4}  {:>8}  {:>5}  document", "rank", "score", "index");
    for (rank, h) in hits.iter().enumerate() {
        outln!(
            "{:>4}  {:>8.5}  {:>5}  {}",
            rank + 1,
            h.score,
            h.index + 1,
            crate::shorten(&docs[h.index], 70)
        );
    }
    Ok(())
}
