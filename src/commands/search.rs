use super::prompt_args::PromptArgs;
use crate::{input, model_source};
use anyhow::{bail, Context, Result};
use clap::Args;
use edgebert_engine::npy::{self, Dtype};
use edgebert_engine::search::{StoredPrecision, VectorIndex};
use edgebert_kernels::Kernels;
use serde::Serialize;
use std::path::PathBuf;

/// Exact cosine search of queries over stored vectors (a .npy from `embed --output`).
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  edgebert embed MODEL --file corpus.txt --output corpus.npy\n  \
    edgebert search MODEL --corpus corpus.npy --texts corpus.txt --query \"how do cats sleep\" --top-k 5\n  \
    edgebert search MODEL --corpus corpus-f16.npy --query \"first\" --query \"second\" --json\n\n\
Every row is compared (no approximate index): the top-k are exactly those a brute-force cosine \
gives, through the SIMD kernels with one block of rows per thread. The corpus may be float32 or \
float16 (half the memory per query); a corpus cut with --dim N gets queries cut and re-normalised \
the same way. Use the same model (and prompt conventions) that embedded the corpus.")]
pub struct SearchArgs {
    /// The model that embedded the corpus: checkpoint directory or converted blob.
    pub model: PathBuf,
    /// The stored vectors: a .npy float32 or float16 matrix [rows, dim].
    #[arg(long, value_name = "VECTORS.npy")]
    pub corpus: PathBuf,
    /// The corpus texts, one per line, row i of the corpus being line i (shown in results).
    #[arg(long, value_name = "TEXTS.txt")]
    pub texts: Option<PathBuf>,
    /// A query (repeat for several).
    #[arg(long, short, required = true)]
    pub query: Vec<String>,
    /// Results per query.
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub top_k: usize,
    /// One JSON object per query: {"query", "hits": [{"index", "score", "text"}]}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub prompt: PromptArgs,
}

#[derive(Serialize)]
struct SearchLine<'a> {
    query: &'a str,
    hits: Vec<HitLine<'a>>,
}

#[derive(Serialize)]
struct HitLine<'a> {
    index: usize,
    score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

pub fn run(args: SearchArgs) -> Result<()> {
    let path = &args.corpus;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let matrix = npy::decode(&bytes).with_context(|| format!("{}", path.display()))?;
    let precision = match matrix.dtype {
        Dtype::F32 => StoredPrecision::F32,
        Dtype::F16 => StoredPrecision::F16,
        other => bail!(
            "{}: the corpus is {}; search reads float32 or float16 vectors (embed with --precision f32 or f16)",
            path.display(),
            other.descr()
        ),
    };
    let texts = match &args.texts {
        Some(t) => {
            let lines = input::read_texts(&[], Some(t))?;
            if lines.len() != matrix.rows {
                bail!(
                    "{} has {} lines but {} has {} rows: they must match",
                    t.display(),
                    lines.len(),
                    path.display(),
                    matrix.rows
                );
            }
            Some(lines)
        }
        None => None,
    };
    let index = VectorIndex::new(&matrix.to_f32(), matrix.cols, precision)
        .with_context(|| format!("{}", path.display()))?;
    drop(bytes);
    let runner = model_source::open(&args.model)?;
    let prompt = args.prompt.resolve(runner.prompts())?;
    let tok = runner.tokenizer();
    let batch = args
        .query
        .iter()
        .map(|q| Ok(tok.encode(&format!("{prompt}{q}"))?.sequence()))
        .collect::<Result<Vec<_>>>()?;
    let mut queries = runner.embed_sequences(&batch)?;
    let model_dim = queries.first().map_or(0, Vec::len);
    if matrix.cols < model_dim {
        edgebert_engine::compact::truncate_dims(&mut queries, matrix.cols)?;
    } else if matrix.cols > model_dim {
        bail!(
            "{} has {} dimensions, more than the model's {model_dim}: was it embedded by another model?",
            path.display(),
            matrix.cols
        );
    }
    let flat: Vec<f32> = queries.concat();
    let results = index.search(Kernels::selected(), &flat, args.top_k)?;
    let text_of = |i: usize| texts.as_ref().map(|t| t[i].as_str());
    for (query, hits) in args.query.iter().zip(&results) {
        if args.json {
            let hits = hits
                .iter()
                .map(|h| HitLine { index: h.index, score: h.score, text: text_of(h.index) })
                .collect();
            outln!("{}", serde_json::to_string(&SearchLine { query, hits })?);
            continue;
        }
        outln!("query: {}", crate::shorten(query, 70));
        outln!("{:>4}  {:>7}  {:>7}  text", "rank", "cosine", "row");
        for (rank, h) in hits.iter().enumerate() {
            let text = text_of(h.index).map_or_else(|| "-".to_string(), |t| crate::shorten(t, 60));
            outln!("{:>4}  {:>7.4}  {:>7}  {text}", rank + 1, h.score, h.index);
        }
    }
    Ok(())
}
