use crate::{input, model_source};
use anyhow::{Context, Result};
use clap::Args;
use edgebert_engine::tasks::tag::{self, Entity};
use edgebert_engine::tokenizer::Encoded;
use edgebert_models::{Head, Sequence};
use serde::Serialize;
use std::path::PathBuf;

/// Tag entities (people, places ...) with a token-classification model.
///
/// B-/I- labels are merged into entities with scores and character offsets, as transformers'
/// pipeline with aggregation_strategy="simple".
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  edgebert tag NER_MODEL \"John Smith lives in New York.\"\n  \
    edgebert tag MODEL --file texts.txt --json   (one JSON array of entities per line)")]
pub struct TagArgs {
    /// A Hugging Face checkpoint directory (…ForTokenClassification) or a converted blob.
    pub model: PathBuf,
    /// Texts to tag (or use --file).
    pub texts: Vec<String>,
    /// Read one text per line from this file ("-" for standard input).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Print one JSON array per text: [{"entity_group", "score", "word", "start", "end"}].
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct EntityJson<'a> {
    entity_group: &'a str,
    score: f32,
    word: &'a str,
    start: usize,
    end: usize,
}

pub fn run(args: TagArgs) -> Result<()> {
    let texts = input::read_texts(&args.texts, args.file.as_deref())?;
    let runner = model_source::open(&args.model)?;
    runner.require_head(&[Head::TokenClassification], "tag")?;
    let tok = runner.tokenizer();
    let encodings = texts.iter().map(|t| tok.encode(t)).collect::<Result<Vec<_>, _>>()?;
    let batch: Vec<Sequence> = encodings.iter().map(Encoded::sequence).collect();
    let logits = runner.token_logits(&batch)?;
    let labels = label_names(&runner.config().id2label, &encodings, &logits);
    for (i, ((text, enc), logits)) in texts.iter().zip(&encodings).zip(&logits).enumerate() {
        let entities =
            tag::entities(text, enc, logits, &labels, tok).with_context(|| format!("text {}", i + 1))?;
        if args.json {
            outln!("{}", serde_json::to_string(&entities.iter().map(entity_json).collect::<Vec<_>>())?);
        } else {
            print_table(text, &entities)?;
        }
    }
    Ok(())
}

/// The config's labels, or transformers' `LABEL_0`, `LABEL_1` … when it names none.
fn label_names(id2label: &[String], encodings: &[Encoded], logits: &[Vec<f32>]) -> Vec<String> {
    if !id2label.is_empty() {
        return id2label.to_vec();
    }
    let n = match (encodings.first(), logits.first()) {
        (Some(e), Some(l)) if !e.is_empty() => l.len() / e.len(),
        _ => 0,
    };
    (0..n).map(|i| format!("LABEL_{i}")).collect()
}

fn entity_json(e: &Entity) -> EntityJson<'_> {
    EntityJson { entity_group: &e.entity_group, score: e.score, word: &e.word, start: e.start, end: e.end }
}

fn print_table(text: &str, entities: &[Entity]) -> Result<()> {
    outln!("{}", crate::shorten(text, 78));
    if entities.is_empty() {
        outln!("  (no entities)");
    }
    let width = entities.iter().map(|e| e.entity_group.chars().count()).max().unwrap_or(0).max(5);
    for e in entities {
        let span = format!("{}..{}", e.start, e.end);
        outln!(
            "  {:<width$}  {:>6.4}  {:>9}  {}",
            e.entity_group,
            e.score,
            span,
            crate::shorten(&e.word, 50)
        );
    }
    Ok(())
}
