//! What sits on top of the encoder: sequence classification, token classification, question
//! answering (start/end logits), the masked-LM head, and sentence-embedding pooling.

use crate::encoder::{activate, apply, BertModel, EncoderOutput};
use crate::pooling::{EmbeddingPooling, PoolingMode};
use crate::{Config, Head, ModelError, ScoreFunction};
use edgebert_kernels::generic::{layer_norm_f32, linear_f32};

impl BertModel {
    /// Classification logits per sequence: `classifier(act(dense(h_first)))` with tanh (BERT's
    /// pooler, RoBERTa's head, ALBERT) or ReLU (DistilBERT's `pre_classifier`), as
    /// `*ForSequenceClassification` computes them (dropout is off at inference).
    pub fn classify_logits(&self, out: &EncoderOutput) -> Result<Vec<Vec<f32>>, ModelError> {
        if self.config.head != Head::SequenceClassification {
            return Err(ModelError::MissingHead { what: "sequence-classification head" });
        }
        let pooler = self.weights.pooler.as_ref().ok_or(ModelError::MissingHead { what: "pooler" })?;
        let classifier =
            self.weights.classifier.as_ref().ok_or(ModelError::MissingHead { what: "classifier" })?;
        let batch = out.lengths.len();
        let mut cls = Vec::with_capacity(batch * out.hidden_size);
        for b in 0..batch {
            cls.extend_from_slice(out.token(b, 0));
        }
        let mut pooled = apply(pooler, &cls, batch);
        self.config.pooler_activation().apply(&mut pooled);
        let logits = apply(classifier, &pooled, batch);
        Ok(logits.chunks_exact(classifier.out_dim).map(<[f32]>::to_vec).collect())
    }

    /// Per-token logits of each sequence, `[length, n]` row-major: the token classifier's labels,
    /// or (question answering) start and end logits as columns 0 and 1.
    pub fn token_logits(&self, out: &EncoderOutput) -> Result<Vec<Vec<f32>>, ModelError> {
        if !matches!(self.config.head, Head::TokenClassification | Head::QuestionAnswering) {
            return Err(ModelError::MissingHead { what: "token-classification or question-answering head" });
        }
        let classifier =
            self.weights.classifier.as_ref().ok_or(ModelError::MissingHead { what: "classifier" })?;
        Ok((0..out.lengths.len())
            .map(|b| apply(classifier, out.rows(&out.last_hidden_state, b), out.lengths[b]))
            .collect())
    }

    /// Vocabulary logits at `positions` of sequence `b` (one `[vocab]` row each): the masked-LM
    /// transform, activation and LayerNorm, then the tied word embeddings plus the decoder bias.
    pub fn mask_logits(
        &self,
        out: &EncoderOutput,
        b: usize,
        positions: &[usize],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let mlm = self.weights.mlm.as_ref().ok_or(ModelError::MissingHead { what: "masked-LM head" })?;
        let h = out.hidden_size;
        let mut rows = Vec::with_capacity(positions.len() * h);
        for &t in positions {
            if t >= out.lengths[b] {
                return Err(ModelError::PositionOutOfRange { position: t, len: out.lengths[b] });
            }
            rows.extend_from_slice(out.token(b, t));
        }
        let mut x = apply(&mlm.transform, &rows, positions.len());
        activate(self.config.hidden_act, &mut x);
        layer_norm_f32(&mut x, &mlm.norm.gamma, &mlm.norm.beta, self.config.layer_norm_eps);
        let (e, vocab) = (self.config.embedding_size, self.config.vocab_size);
        let mut logits = vec![0.0f32; positions.len() * vocab];
        let word = &self.weights.embeddings.word;
        linear_f32(&x, word, Some(&mlm.bias), &mut logits, positions.len(), e, vocab);
        Ok(logits.chunks_exact(vocab).map(<[f32]>::to_vec).collect())
    }

    /// One sentence embedding per sequence.
    pub fn embed_pooled(&self, out: &EncoderOutput, pooling: EmbeddingPooling) -> Vec<Vec<f32>> {
        (0..out.lengths.len())
            .map(|b| pool_rows(out.rows(&out.last_hidden_state, b), out.hidden_size, pooling))
            .collect()
    }
}

/// One sequence's embedding from its token states `rows` (`[length, width]`, `[CLS]` first): the
/// pooling both the reference encoder and the engine use.
pub fn pool_rows(rows: &[f32], width: usize, pooling: EmbeddingPooling) -> Vec<f32> {
    let mut v = match pooling.mode {
        PoolingMode::Cls => rows[..width].to_vec(),
        PoolingMode::Mean => mean_rows(rows, width),
    };
    if pooling.normalize {
        l2_normalize(&mut v);
    }
    v
}

/// Mean of the rows of a `[n, width]` matrix (n ≥ 1: every sequence has at least [CLS]).
fn mean_rows(rows: &[f32], width: usize) -> Vec<f32> {
    let n = rows.len() / width;
    let mut sum = vec![0.0f32; width];
    for row in rows.chunks_exact(width) {
        sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    let inv = 1.0 / n.max(1) as f32;
    sum.iter_mut().for_each(|s| *s *= inv);
    sum
}

/// GELU in transformers' tanh form (`gelu_new`): `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
pub fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)).tanh())
}

/// Divides by the L2 norm, with the same floor (1e-12) as `torch.nn.functional.normalize`.
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

/// Index of the largest value (the first one on ties; 0 for an empty slice).
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| if x > best.1 { (i, x) } else { best })
        .0
}

/// Cosine similarity, accumulated in f64 (0 when either vector is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb).max(f64::MIN_POSITIVE)
}

/// Probabilities from logits, numerically safe.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let mut p = logits.to_vec();
    edgebert_kernels::generic::softmax_f32(&mut p);
    p
}

/// `1 / (1 + e^-x)`, without overflow for large |x|.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// A classification result: the winning label and every label's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub label: String,
    pub label_id: usize,
    /// Score of the winning label.
    pub score: f32,
    /// Scores in label-id order, by the config's [`ScoreFunction`]: softmax probabilities, each
    /// label's sigmoid (one label, multi-label), or the logits themselves (regression).
    pub probs: Vec<f32>,
    pub logits: Vec<f32>,
}

impl Classification {
    /// Scores (softmax, sigmoid or none, as [`Config::score_function`] says) and argmax over
    /// `logits`; labels come from `id2label`, or `LABEL_<id>` as transformers names them when the
    /// config has none.
    pub fn from_logits(logits: Vec<f32>, config: &Config) -> Classification {
        let probs = match config.score_function() {
            ScoreFunction::Softmax => softmax(&logits),
            ScoreFunction::Sigmoid => logits.iter().map(|&x| sigmoid(x)).collect(),
            ScoreFunction::Identity => logits.clone(),
        };
        let id2label = &config.id2label;
        let label_id = argmax(&probs);
        let score = probs.get(label_id).copied().unwrap_or(f32::NEG_INFINITY);
        let label = id2label.get(label_id).cloned().unwrap_or_else(|| format!("LABEL_{label_id}"));
        Classification { label, label_id, score, probs, logits }
    }
}
