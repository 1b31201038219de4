//! The README's library example: classify texts with a blob, then embed one.
//!
//!     cargo run --release -p edgebert-engine --example classify -- sentiment.ebq "A gem of a film."

use edgebert_engine::{Model, Report};

#[derive(Debug, thiserror::Error)]
#[error("usage: classify MODEL.ebq TEXT...")]
struct Usage;

fn main() -> Result<(), Report> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or(Usage)?;
    let texts: Vec<String> = args.collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();

    let model = Model::open(&path)?; // mmap + validation, no weight copy
    let mut session = model.session(); // per-thread scratch; Model is Send + Sync
    for (text, r) in texts.iter().zip(session.classify(&texts)?) {
        println!("{:<10} {:.3}  {text}", r.label, r.score);
    }
    let vectors = session.embed(&["A cat sat on the mat."])?; // pooled, L2-normalised
    println!("{} dimensions", vectors[0].len());
    Ok(())
}
