//! MODEL arguments: a Hugging Face checkpoint directory (run by the float reference path) or a
//! converted blob file (run by the quantized engine). Both give the same outputs.

use anyhow::{bail, Context, Result};
use edgebert_convert::reference::ReferencePipeline;
use edgebert_engine::blob::{Blob, BlobError};
use edgebert_engine::prompts::Prompts;
use edgebert_engine::tokenizer::TextTokenizer;
use edgebert_engine::Model;
use edgebert_models::{Classification, Config, EncoderOutput, Head, Sequence};
use std::path::Path;

pub enum Runner {
    Reference(Box<ReferencePipeline>),
    Engine(Box<Model>),
}

pub fn open(model: &Path) -> Result<Runner> {
    if model.is_dir() {
        return Ok(Runner::Reference(Box::new(ReferencePipeline::open(model)?)));
    }
    if model.is_file() {
        let m = open_model(model)?;
        return Ok(Runner::Engine(Box::new(m)));
    }
    bail!(
        "{}: no such file or directory; MODEL is a `.ebq` blob from `edgebert convert` or a Hugging Face \
         checkpoint folder (after the quickstart: .cache/all-minilm-l6-v2.int8.ebq or .cache/models/all-minilm-l6-v2)",
        model.display()
    )
}

/// Maps and validates the blob at `path`; errors name the file once (the engine's "does not
/// exist" and "is a directory" errors already do).
pub fn open_blob(path: &Path) -> Result<Blob> {
    Blob::open(path).map_err(|e| match e {
        BlobError::NotFound { .. } | BlobError::IsDirectory { .. } | BlobError::Io { .. } => e.into(),
        other => anyhow::Error::new(other).context(path.display().to_string()),
    })
}

/// [`open_blob`], then the model it holds.
pub fn open_model(path: &Path) -> Result<Model> {
    Model::from_blob(open_blob(path)?).with_context(|| path.display().to_string())
}

impl Runner {
    pub fn classify(&self, texts: &[&str]) -> Result<Vec<Classification>> {
        self.require_head(&[Head::SequenceClassification], "classify")?;
        match self {
            Runner::Reference(p) => p.classify(texts),
            Runner::Engine(m) => {
                let mut session = m.session();
                Ok(texts.chunks(BATCH).map(|c| session.classify(c)).collect::<Result<Vec<_>, _>>()?.concat())
            }
        }
    }

    /// Sentence embeddings of ready-made sequences (chunks of long texts, prompted texts).
    pub fn embed_sequences(&self, batch: &[Sequence]) -> Result<Vec<Vec<f32>>> {
        match self {
            Runner::Reference(p) => {
                let pooling = p.checkpoint.pooling.unwrap_or_default();
                reference_batches(p, batch, |out, _| Ok(p.checkpoint.model.embed_pooled(out, pooling)))
            }
            Runner::Engine(m) => engine_batches(m, batch, |s, c, _| Ok(s.embed_sequences(c)?)),
        }
    }

    /// The model's named prompts (from `config_sentence_transformers.json` or the blob).
    pub fn prompts(&self) -> &Prompts {
        match self {
            Runner::Reference(p) => &p.checkpoint.prompts,
            Runner::Engine(m) => &m.info().prompts,
        }
    }

    pub fn tokenizer(&self) -> &TextTokenizer {
        match self {
            Runner::Reference(p) => p.tokenizer(),
            Runner::Engine(m) => m.tokenizer(),
        }
    }

    pub fn config(&self) -> &Config {
        match self {
            Runner::Reference(p) => p.checkpoint.config(),
            Runner::Engine(m) => &m.info().config,
        }
    }

    /// Fails, naming the checkpoint's head and the one `command` needs, unless they match.
    pub fn require_head(&self, heads: &[Head], command: &str) -> Result<()> {
        let c = self.config();
        if !heads.contains(&c.head) {
            let want: Vec<&str> = heads.iter().map(|h| h.name()).collect();
            let fits = match c.head {
                Head::None => "embed",
                Head::SequenceClassification => "classify",
                Head::TokenClassification => "tag",
                Head::QuestionAnswering => "answer",
                Head::MaskedLm => "fill",
            };
            bail!(
                "`edgebert {command}` needs a {} model; this one is {} ({}): use `edgebert {fits}`",
                want.join(" or "),
                c.architecture,
                c.head.name()
            );
        }
        Ok(())
    }

    /// Sequence (or sentence-pair) classification of ready-made sequences.
    pub fn classify_sequences(&self, batch: &[Sequence]) -> Result<Vec<Classification>> {
        self.require_head(&[Head::SequenceClassification], "classify")?;
        match self {
            Runner::Reference(p) => {
                let config = p.checkpoint.config();
                reference_batches(p, batch, |out, _| {
                    let logits = p.checkpoint.model.classify_logits(out)?;
                    Ok(logits.into_iter().map(|l| Classification::from_logits(l, config)).collect())
                })
            }
            Runner::Engine(m) => engine_batches(m, batch, |s, c, _| Ok(s.classify_sequences(c)?)),
        }
    }

    /// Per-token logits, `[len, n]` row-major per sequence (labels, or start/end for QA).
    pub fn token_logits(&self, batch: &[Sequence]) -> Result<Vec<Vec<f32>>> {
        match self {
            Runner::Reference(p) => {
                reference_batches(p, batch, |out, _| Ok(p.checkpoint.model.token_logits(out)?))
            }
            Runner::Engine(m) => engine_batches(m, batch, |s, c, _| Ok(s.token_logits(c)?)),
        }
    }

    /// Vocabulary logits at `positions[b]` of each sequence `b`, one row per position.
    pub fn mask_logits(&self, batch: &[Sequence], positions: &[Vec<usize>]) -> Result<Vec<Vec<Vec<f32>>>> {
        if positions.len() != batch.len() {
            bail!("{} position lists for {} sequences", positions.len(), batch.len());
        }
        match self {
            Runner::Reference(p) => reference_batches(p, batch, |out, first| {
                (0..out.lengths.len())
                    .map(|b| Ok(p.checkpoint.model.mask_logits(out, b, &positions[first + b])?))
                    .collect()
            }),
            Runner::Engine(m) => engine_batches(m, batch, |s, c, first| {
                Ok(s.mask_logits(c, &positions[first..first + c.len()])?)
            }),
        }
    }
}

/// Runs the reference encoder over `batch` in chunks; `head` gets each chunk's output and the
/// index of its first sequence.
fn reference_batches<T>(
    p: &ReferencePipeline,
    batch: &[Sequence],
    mut head: impl FnMut(&EncoderOutput, usize) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let mut results = Vec::with_capacity(batch.len());
    for (i, chunk) in batch.chunks(REFERENCE_BATCH).enumerate() {
        let out = p.checkpoint.model.forward(chunk, false)?;
        results.extend(head(&out, i * REFERENCE_BATCH)?);
    }
    Ok(results)
}

/// The engine's twin of [`reference_batches`], one session for all chunks.
fn engine_batches<T>(
    m: &Model,
    batch: &[Sequence],
    mut head: impl FnMut(&mut edgebert_engine::Session<'_>, &[Sequence], usize) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let mut session = m.session();
    let mut results = Vec::with_capacity(batch.len());
    for (i, chunk) in batch.chunks(BATCH).enumerate() {
        results.extend(head(&mut session, chunk, i * BATCH)?);
    }
    Ok(results)
}

/// Texts per engine call: bounds scratch memory for long input files.
const BATCH: usize = 32;
/// Sequences per reference forward pass (its padding costs more).
const REFERENCE_BATCH: usize = 8;
