//! edgebert-engine: the runtime. It opens a blob (`mmap`, validation, zero-copy typed views), turns
//! text into token ids, and runs the encoder with the kernels; pipelines (classify, embed) sit on
//! top.
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
mod embeddings;
mod error;
mod heads;
#[allow(unsafe_code)]
mod mmap;
mod model;
mod parallel;
mod plan;
mod session;
pub mod tasks;
pub mod tokenizer;

pub use error::EngineError;
pub use model::Model;
pub use session::{Session, SessionMemory};
