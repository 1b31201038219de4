use crate::{input, model_source};
use anyhow::Result;
use clap::Args;
use edgebert_engine::tasks::run::tag_texts;
use edgebert_engine::tasks::tag::Entity;
use edgebert_models::Head;
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
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let all =
        tag_texts(&refs, runner.tokenizer(), &runner.config().id2label, |batch| runner.token_logits(batch))?;
    for (text, entities) in texts.iter().zip(&all) {
        if args.json {
            outln!("{}", serde_json::to_string(&entities.iter().map(entity_json).collect::<Vec<_>>())?);
        } else {
            print_table(text, entities)?;
        }
    }
    Ok(())
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
