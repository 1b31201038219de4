use super::embed_output::{write_rows, OutputArgs, Row};
use super::prompt_args::PromptArgs;
use crate::{input, model_source};
use anyhow::{bail, Context, Result};
use clap::Args;
use edgebert_engine::chunks::pool_chunks;
use edgebert_models::Sequence;
use std::path::PathBuf;

/// Turn texts into sentence embeddings (the checkpoint's pooling; mean + L2 norm by default).
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  edgebert embed .cache/all-minilm-l6-v2.int8.ebq \"A cat sat.\" \"A dog ran.\" --nearest\n  \
    edgebert embed .cache/all-minilm-l6-v2.int8.ebq --file .cache/sentences.txt --json > vectors.jsonl\n  \
    edgebert embed MODEL --file corpus.txt --output corpus.npy            (NumPy float32 [texts, dim])\n  \
    edgebert embed MODEL --file corpus.txt --dim 256 --precision int8 --output corpus-int8.npy\n  \
    edgebert embed MODEL --file book.txt --chunk 128 --stride 32 --per-chunk --json   (one vector per window)\n  \
    edgebert embed e5-model.ebq --prompt-text \"query: \" \"how do cats sleep\"\n\n\
Texts longer than the model's maximum are cut to it (a warning says how many tokens were dropped); \
--chunk TOKENS embeds them whole as overlapping windows instead: the mean of the windows' vectors, \
normalised, or one vector per window with --per-chunk. Windows end between words, so a window's \
text embedded alone gives the same vector.\n\n\
--precision follows sentence-transformers' quantize_embeddings: int8 maps each dimension's \
[min, max] over the embedded texts (or --int8-ranges) to 256 steps; ubinary keeps the sign bits, \
8 per byte, first dimension in the high bit."
)]
pub struct EmbedArgs {
    /// A `.ebq` blob from `edgebert convert` (quantized engine) or a Hugging Face checkpoint
    /// directory: config.json, model.safetensors, tokenizer files (float reference path).
    pub model: PathBuf,
    /// Texts to embed (or use --file).
    pub texts: Vec<String>,
    /// Read one text per line from this file ("-" for standard input).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Print one JSON object per vector: {"embedding": [...]} (with --per-chunk also "text",
    /// "chunk" and the window's character span "start", "end").
    #[arg(long, conflicts_with = "nearest")]
    pub json: bool,
    /// For each text, print the most similar other text and their cosine similarity.
    #[arg(long, conflicts_with_all = ["output", "per_chunk"])]
    pub nearest: bool,
    /// Embed long texts whole, as windows of at most TOKENS tokens (special tokens included;
    /// at most the model's maximum).
    #[arg(long, value_name = "TOKENS")]
    pub chunk: Option<usize>,
    /// Tokens shared by neighbouring windows (with --chunk).
    #[arg(long, value_name = "TOKENS", default_value_t = 0, requires = "chunk")]
    pub stride: usize,
    /// One vector per window, with its character span, instead of one pooled vector per text.
    #[arg(long, requires = "chunk")]
    pub per_chunk: bool,
    #[command(flatten)]
    pub prompt: PromptArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let texts = input::read_texts(&args.texts, args.file.as_deref())?;
    if args.nearest && !args.output.is_plain() {
        bail!("--nearest compares full f32 vectors: drop --dim and --precision");
    }
    let runner = model_source::open(&args.model)?;
    let prompt = args.prompt.resolve(runner.prompts())?.to_string();
    let prompted: Vec<String> = texts.iter().map(|t| format!("{prompt}{t}")).collect();
    let tok = runner.tokenizer();
    let rows: Vec<Row> = match args.chunk {
        None => {
            let mut batch = Vec::with_capacity(texts.len());
            for (i, text) in prompted.iter().enumerate() {
                let (e, dropped) =
                    tok.encode_counting_dropped(text).with_context(|| format!("text {}", i + 1))?;
                if dropped > 0 {
                    eprintln!(
                        "warning: text {} has {} tokens; the model reads {}, so the last {dropped} were \
                         dropped (embed it whole with --chunk {} --stride 32)",
                        i + 1,
                        e.len() + dropped,
                        tok.max_len(),
                        tok.max_len()
                    );
                }
                batch.push(e.sequence());
            }
            let vectors = runner.embed_sequences(&batch)?;
            vectors.into_iter().enumerate().map(|(i, v)| Row { text: i, chunk: None, vector: v }).collect()
        }
        Some(window) => {
            let prompt_chars = prompt.chars().count();
            let mut spans = Vec::new();
            let mut batch: Vec<Sequence> = Vec::new();
            for (i, text) in prompted.iter().enumerate() {
                let chunks = tok
                    .encode_chunks(text, window, args.stride)
                    .with_context(|| format!("text {}", i + 1))?;
                for (j, c) in chunks.into_iter().enumerate() {
                    // Spans count in the text as given, without the prompt.
                    let span = (c.span.0.saturating_sub(prompt_chars), c.span.1.saturating_sub(prompt_chars));
                    spans.push((i, j, span));
                    batch.push(c.encoded.sequence());
                }
            }
            let vectors = runner.embed_sequences(&batch)?;
            if args.per_chunk {
                spans
                    .into_iter()
                    .zip(vectors)
                    .map(|((i, j, span), v)| Row { text: i, chunk: Some((j, span)), vector: v })
                    .collect()
            } else {
                let mut per_text: Vec<Vec<Vec<f32>>> = vec![Vec::new(); texts.len()];
                for ((i, _, _), v) in spans.into_iter().zip(vectors) {
                    per_text[i].push(v);
                }
                per_text
                    .iter()
                    .enumerate()
                    .map(|(i, vs)| Row { text: i, chunk: None, vector: pool_chunks(vs) })
                    .collect()
            }
        }
    };
    if args.nearest {
        let vectors: Vec<Vec<f32>> = rows.into_iter().map(|r| r.vector).collect();
        print_nearest(&texts, &vectors)?;
        return Ok(());
    }
    write_rows(rows, &texts, &args.output, args.json)
}

fn print_nearest(texts: &[String], embeddings: &[Vec<f32>]) -> Result<()> {
    outln!("{:>6}  {:<40}  nearest", "cosine", "text");
    for (i, e) in embeddings.iter().enumerate() {
        let best = embeddings
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, other)| (j, edgebert_models::cosine(e, other)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((j, c)) => {
                outln!("{c:>6.3}  {:<40}  {}", crate::shorten(&texts[i], 40), crate::shorten(&texts[j], 40))
            }
            None => outln!("{:>6}  {:<40}  (no other text)", "-", crate::shorten(&texts[i], 40)),
        }
    }
    Ok(())
}
