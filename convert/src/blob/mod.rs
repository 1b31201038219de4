//! The blob writer: quantize and pack a checkpoint's tensors, lay them out as docs/FORMAT.md
//! says, and write the file atomically. The byte-level encoding of the header and index lives in
//! the engine (`edgebert_engine::blob::encode`), next to the reader that must agree with it.

pub mod model;
pub mod progress;
pub mod quantize;
pub mod writer;

pub use model::{metadata, tensors, ModelDescription, Recipe, TensorPlan, CONVERTER_VERSION};
pub use quantize::{EncodedTensor, Precision};
pub use writer::{blob_bytes, write_blob, WriteOutcome};

use crate::calib::{calibrate, CalibOptions, CalibReport};
use crate::hf::Checkpoint;
use crate::vocab::{prune_checkpoint, read_corpus, PruneReport};
use anyhow::{Context, Result};
use edgebert_engine::blob::MetaValue;
use std::path::{Path, PathBuf};

/// Stages of [`convert_dir`], for a progress display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage<'a> {
    Loading,
    /// Tokenizing the `--vocab-from` corpus and pruning the vocabulary.
    Pruning {
        texts: usize,
    },
    /// `--calib`: one line of progress (long work: a reference pass, then candidate blobs).
    Calibrating {
        message: &'a str,
    },
    Encoding {
        done: usize,
        total: usize,
        name: &'a str,
    },
    Writing,
}

/// What [`convert_dir`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvertReport {
    pub output: PathBuf,
    pub outcome: WriteOutcome,
    pub blob_bytes: u64,
    pub source_bytes: u64,
    pub tensors: usize,
    /// What `--vocab-from` did, when it was given.
    pub vocab: Option<VocabSummary>,
    /// What `--calib` measured and chose, when it was given.
    pub calib: Option<CalibReport>,
}

/// Vocabulary pruning's effect on the blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VocabSummary {
    pub prune: PruneReport,
    /// Bytes of the word-embedding table in the chosen encoding, before and after.
    pub word_table_bytes: (u64, u64),
    /// The blob's length without pruning, computed from the tensors that shrank (exact up to
    /// alignment padding and the one metadata key pruning adds).
    pub unpruned_blob_bytes: u64,
}

/// Everything `edgebert convert` can be asked to do besides the paths.
#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    pub recipe: Recipe,
    /// Linear weights whose name contains one of these stay f16 (`--keep-f16`).
    pub keep_f16: Vec<String>,
    /// Corpus files for vocabulary pruning (`--vocab-from`); empty: keep the whole vocabulary.
    pub vocab_from: Vec<PathBuf>,
    /// Replace an existing different file (`--force`).
    pub force: bool,
    /// Calibration (`--calib`, `--max-drop`); `None`: today's blob, byte for byte.
    pub calib: Option<CalibOptions>,
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
    let options =
        ConvertOptions { recipe, keep_f16: keep_f16.to_vec(), vocab_from: Vec::new(), force, calib: None };
    convert_dir_opts(hf_dir, output, &options, progress)
}

/// [`convert_dir`] with every option of `edgebert convert`: `--keep-f16` (see
/// [`model::tensors_with`]; recorded as `quant.keep_f16`) and `--vocab-from` (see
/// [`crate::vocab`]; the original size is recorded as `vocab.original_size`).
pub fn convert_dir_opts(
    hf_dir: &Path,
    output: &Path,
    options: &ConvertOptions,
    progress: &mut dyn FnMut(Stage<'_>),
) -> Result<ConvertReport> {
    let ConvertOptions { recipe, ref keep_f16, ref vocab_from, force, ref calib } = *options;
    // The corpus is read first: a wrong path fails before the checkpoint is loaded.
    let corpus = if vocab_from.is_empty() { None } else { Some(read_corpus(vocab_from)?) };
    progress(Stage::Loading);
    let mut ckpt = Checkpoint::load(hf_dir)?;
    let table_bytes =
        |rows: usize, c: &edgebert_models::Config| table_byte_len(recipe.embeddings, rows, c.embedding_size);
    let mut pruned = None;
    if let Some(texts) = &corpus {
        progress(Stage::Pruning { texts: texts.len() });
        let before = table_bytes(ckpt.config().vocab_size, ckpt.config());
        let prune = prune_checkpoint(&mut ckpt, texts)
            .with_context(|| format!("pruning the vocabulary of {}", hf_dir.display()))?;
        let after = table_bytes(prune.kept, ckpt.config());
        pruned = Some((prune, (before, after)));
    }
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
    if let Some((p, _)) = &pruned {
        meta.push(("vocab.original_size".into(), MetaValue::U64(p.original as u64)));
    }
    if !keep_f16.is_empty() {
        meta.push(("quant.keep_f16".into(), MetaValue::StrList(keep_f16.to_vec())));
    }
    let mut plan = TensorPlan::keep_f16(&description, recipe, keep_f16);
    let mut calib_report = None;
    if let Some(c) = calib {
        let (chosen, report) = calibrate(&description, recipe, plan, &meta, c, &mut |message| {
            progress(Stage::Calibrating { message })
        })
        .with_context(|| format!("calibrating {} on {}", hf_dir.display(), c.texts.display()))?;
        plan = chosen;
        meta.push(("quant.recipe".into(), MetaValue::StrList(report.recipe.clone())));
        meta.push(("quant.calib".into(), MetaValue::Str(report.summary())));
        if let Some(g) = &report.gptq {
            meta.push(("quant.gptq".into(), MetaValue::Str(g.clone())));
        }
        calib_report = Some(report);
    }
    let encoded = model::tensors_planned(&description, recipe, &plan, &mut |done, total, name| {
        progress(Stage::Encoding { done, total, name })
    })
    .with_context(|| format!("converting {}", hf_dir.display()))?;
    progress(Stage::Writing);
    let (outcome, blob_bytes) = write_blob(output, &meta, &encoded, force)?;
    let vocab = pruned.map(|(prune, word_table_bytes)| {
        let mlm = if ckpt.model.weights.mlm.is_some() { 4 * (prune.original - prune.kept) as u64 } else { 0 };
        let saved = (word_table_bytes.0 - word_table_bytes.1)
            + (prune.tokenizer_bytes.0 as u64).saturating_sub(prune.tokenizer_bytes.1 as u64)
            + mlm;
        VocabSummary { prune, word_table_bytes, unpruned_blob_bytes: blob_bytes + saved }
    });
    Ok(ConvertReport {
        output: output.to_path_buf(),
        outcome,
        blob_bytes,
        source_bytes,
        tensors: encoded.len(),
        vocab,
        calib: calib_report,
    })
}

/// Bytes of a `[rows, cols]` embedding table in `precision` (FORMAT.md §5).
fn table_byte_len(precision: Precision, rows: usize, cols: usize) -> u64 {
    use edgebert_engine::blob::format::{self, Encoding, Layout};
    let encoding = match precision {
        Precision::Int8 => Encoding::I8Row,
        Precision::Int4 => Encoding::I4RowGroup,
        Precision::F16 => Encoding::F16,
        Precision::F32 => Encoding::F32,
    };
    format::parts(encoding, Layout::RowMajor, &[rows, cols]).map_or(0, |p| p.byte_len as u64)
}
