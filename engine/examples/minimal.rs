//! The floor for firmware users: an engine-only program that classifies token ids with a blob.
//! No tokenizer, no rayon (build without default features), only std and the engine.
//!
//!     cargo build --release -p edgebert-engine --no-default-features --example minimal
//!     minimal sentiment.ebq 101 1037 8069 1997 1037 2143 1012 102
//!
//! The ids are the model's vocabulary ids, [CLS] and [SEP] included (the tokenizer that made
//! them runs elsewhere: on a host, or in the app). Prints `label score` for the sequence.

use edgebert_engine::Model;
use edgebert_models::Sequence;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: minimal MODEL.ebq TOKEN_ID...")?;
    let ids = args.map(|a| a.parse::<u32>()).collect::<Result<Vec<_>, _>>()?;

    let model = Model::open(&path)?; // mmap + validation, no weight copy
    let mut session = model.session();
    let result = session.classify_sequences(&[Sequence::new(ids)])?.remove(0);
    println!("{} {:.6}", result.label, result.score);
    Ok(())
}
