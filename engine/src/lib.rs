//! edgebert-engine: the runtime. It opens a blob (`mmap`, validation, zero-copy typed views), turns
//! text into token ids, and runs the encoder with the kernels; pipelines (classify, embed, rerank,
//! search) sit on top.
//!
//! Required dependencies stay light so the engine cross-compiles anywhere (phones, boards,
//! firmware): `edgebert-kernels`, `edgebert-models` (without its JSON feature), `half`,
//! `bytemuck`, `memmap2`, `thiserror`. `tokenizers` and `rayon` sit behind default-on features. It
//! must never depend on the converter, clap, serde, anyhow or indicatif.
//!
//! `unsafe` is forbidden here except in the `mmap` module.

#![deny(unsafe_code)]

mod attention;
pub mod blob;
#[cfg(feature = "tokenizer")]
pub mod chunks;
pub mod compact;
mod embeddings;
mod error;
mod heads;
#[allow(unsafe_code)]
mod mmap;
mod model;
pub mod npy;
mod parallel;
mod plan;
pub mod prompts;
pub mod rerank;
mod screen;
pub mod search;
mod session;
pub mod tasks;
pub mod tokenizer;

pub use error::{with_causes, EngineError, Report};
pub use model::Model;
pub use session::{Session, SessionMemory};

// The README's library example is compiled (not run: it needs a blob) by
// `cargo test --doc -p edgebert-engine`, so it cannot drift from the API.
#[cfg(all(doctest, feature = "tokenizer"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
