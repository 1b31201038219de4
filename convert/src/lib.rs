//! edgebert-convert: everything that turns a Hugging Face checkpoint into something edgebert runs —
//! the import of a checkpoint directory (config, safetensors weights, tokenizer files, pooling),
//! quantization and packing, the blob writer, fine-tuning and distillation loops, and the
//! benchmark every front end (CLI, Python) shares.
//!
//! It may use every edgebert crate and convenience crates (serde, anyhow); the engine and kernels
//! must never depend on it.

#![forbid(unsafe_code)]

pub mod bench;
pub mod blob;
pub mod calib;
pub mod eval;
pub mod hf;
pub mod init;
pub mod reference;
pub mod train;
pub mod vocab;
