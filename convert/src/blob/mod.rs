//! The blob writer: quantize and pack a checkpoint's tensors, lay them out as docs/FORMAT.md
//! says, and write the file atomically. The byte-level encoding of the header and index lives in
//! the engine (`edgebert_engine::blob::encode`), next to the reader that must agree with it.

pub mod model;
pub mod progress;
pub mod quantize;
pub mod writer;

pub use model::{metadata, tensors, ModelDescription, Recipe, CONVERTER_VERSION};
pub use quantize::{EncodedTensor, Precision};
pub use writer::{write_blob, WriteOutcome};

use crate::hf::Checkpoint;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Stages of [`convert_dir`], for a progress display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage<'a> {
    Loading,
    Encoding { done: usize, total: usize, name: &'a str },
    Writing,
}

/// What [`convert_dir`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertReport {
    pub output: PathBuf,
    pub outcome: WriteOutcome,
    pub blob_bytes: u64,
    pub source_bytes: u64,
    pub tensors: usize,
}

/// `edgebert convert`: a Hugging Face checkpoint directory to a blob at `output`.
pub fn convert_dir(
    hf_dir: &Path,
    output: &Path,
    recipe: Recipe,
    force: bool,
    progress: &mut dyn FnMut(Stage<'_>),
) -> Result<ConvertReport> {
    convert_dir_with(hf_dir, output, recipe, &[], force, progress)
}

/// [`convert_dir`] with linear weights whose name contains one of `keep_f16` kept in f16 (see
/// [`model::tensors_with`]); the list is recorded in the blob as `quant.keep_f16`.
pub fn convert_dir_with(
    hf_dir: &Path,
    output: &Path,
    recipe: Recipe,
    keep_f16: &[String],
    force: bool,
    progress: &mut dyn FnMut(Stage<'_>),
) -> Result<ConvertReport> {
    progress(Stage::Loading);
    let ckpt = Checkpoint::load(hf_dir)?;
    let source = hf_dir.join("model.safetensors");
    let source_bytes =
        std::fs::metadata(&source).with_context(|| format!("cannot stat {}", source.display()))?.len();
    let description = ModelDescription {
        model: &ckpt.model,
        tokenizer: &ckpt.tokenizer,
        pooling: ckpt.pooling,
        max_seq_len: ckpt.max_seq_len,
        source_sha256: ckpt.source_sha256()?,
    };
    let mut meta = metadata(&description, recipe);
    meta.extend(ckpt.prompts.to_metadata());
    if !keep_f16.is_empty() {
        meta.push(("quant.keep_f16".into(), edgebert_engine::blob::MetaValue::StrList(keep_f16.to_vec())));
    }
    let encoded = model::tensors_with(&description, recipe, keep_f16, &mut |done, total, name| {
        progress(Stage::Encoding { done, total, name })
    })
    .with_context(|| format!("converting {}", hf_dir.display()))?;
    progress(Stage::Writing);
    let (outcome, blob_bytes) = write_blob(output, &meta, &encoded, force)?;
    Ok(ConvertReport {
        output: output.to_path_buf(),
        outcome,
        blob_bytes,
        source_bytes,
        tensors: encoded.len(),
    })
}
