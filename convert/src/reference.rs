//! Text in, results out, through the float reference encoder of a Hugging Face checkpoint: the
//! path `edgebert classify|embed HFDIR` takes, and the oracle for accuracy checks.

use crate::hf::Checkpoint;
use anyhow::{Context, Result};
use edgebert_engine::tokenizer::{Encoded, TextTokenizer};
use edgebert_models::{Classification, EmbeddingPooling, EncoderOutput, Sequence};
use std::path::Path;

/// Sequences per forward pass: enough to amortise the per-layer work, small enough that one
/// 512-token text does not make seven short ones pad to 512 for long.
const BATCH: usize = 8;

pub struct ReferencePipeline {
    pub checkpoint: Checkpoint,
    tokenizer: TextTokenizer,
}

impl ReferencePipeline {
    pub fn open(dir: &Path) -> Result<ReferencePipeline> {
        let checkpoint = Checkpoint::load(dir)?;
        let tokenizer = TextTokenizer::new(&checkpoint.tokenizer, checkpoint.max_seq_len)
            .with_context(|| format!("{}: cannot build the tokenizer", dir.display()))?;
        Ok(ReferencePipeline { checkpoint, tokenizer })
    }

    /// Token ids of each text, `[CLS] … [SEP]`, truncated to the checkpoint's maximum length.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Encoded>> {
        texts.iter().map(|t| Ok(self.tokenizer.encode(t)?)).collect()
    }

    /// Runs the encoder over `texts` in batches and hands each batch's output to `head`.
    fn run<T>(
        &self,
        texts: &[&str],
        mut head: impl FnMut(&EncoderOutput) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        let mut results = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            let batch: Vec<Sequence> = self
                .tokenize(chunk)?
                .into_iter()
                .map(|e| Sequence { ids: e.ids, type_ids: e.type_ids })
                .collect();
            let out = self.checkpoint.model.forward(&batch, false)?;
            results.extend(head(&out)?);
        }
        Ok(results)
    }

    pub fn classify(&self, texts: &[&str]) -> Result<Vec<Classification>> {
        if self.checkpoint.model.weights.classifier.is_none() {
            anyhow::bail!(
                "{}: this checkpoint has no classification head (pooler + classifier); \
                 use `edgebert embed` for sentence embeddings",
                self.checkpoint.dir.display()
            );
        }
        let config = self.checkpoint.config();
        self.run(texts, |out| {
            let logits = self.checkpoint.model.classify_logits(out)?;
            Ok(logits.into_iter().map(|l| Classification::from_logits(l, config)).collect())
        })
    }

    /// Sentence embeddings with the checkpoint's pooling (mean + L2 normalisation when the
    /// checkpoint does not declare one).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let pooling = self.checkpoint.pooling.unwrap_or_default();
        self.embed_with(texts, pooling)
    }

    pub fn embed_with(&self, texts: &[&str], pooling: EmbeddingPooling) -> Result<Vec<Vec<f32>>> {
        self.run(texts, |out| Ok(self.checkpoint.model.embed_pooled(out, pooling)))
    }

    /// The checkpoint's tokenizer, cut to its maximum length.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    pub fn max_seq_len(&self) -> usize {
        self.tokenizer.max_len()
    }
}
