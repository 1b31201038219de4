//! What sits on top of the encoder: the pooler and classifier for sequence classification, and
//! sentence-embedding pooling.

use crate::encoder::{apply, BertModel, EncoderOutput};
use crate::pooling::{EmbeddingPooling, PoolingMode};
use crate::ModelError;

impl BertModel {
    /// Classification logits per sequence: `classifier(tanh(pooler(h_[CLS])))`, as
    /// `BertForSequenceClassification` computes them (dropout is off at inference).
    pub fn classify_logits(&self, out: &EncoderOutput) -> Result<Vec<Vec<f32>>, ModelError> {
        let pooler = self.weights.pooler.as_ref().ok_or(ModelError::MissingHead { what: "pooler" })?;
        let classifier =
            self.weights.classifier.as_ref().ok_or(ModelError::MissingHead { what: "classifier" })?;
        let batch = out.lengths.len();
        let mut cls = Vec::with_capacity(batch * out.hidden_size);
        for b in 0..batch {
            cls.extend_from_slice(out.token(b, 0));
        }
        let mut pooled = apply(pooler, &cls, batch);
        pooled.iter_mut().for_each(|v| *v = v.tanh());
        let logits = apply(classifier, &pooled, batch);
        Ok(logits.chunks_exact(classifier.out_dim).map(<[f32]>::to_vec).collect())
    }

    /// One sentence embedding per sequence.
    pub fn embed_pooled(&self, out: &EncoderOutput, pooling: EmbeddingPooling) -> Vec<Vec<f32>> {
        (0..out.lengths.len())
            .map(|b| {
                let mut v = match pooling.mode {
                    PoolingMode::Cls => out.token(b, 0).to_vec(),
                    PoolingMode::Mean => mean_rows(out.rows(&out.last_hidden_state, b), out.hidden_size),
                };
                if pooling.normalize {
                    l2_normalize(&mut v);
                }
                v
            })
            .collect()
    }
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

/// Divides by the L2 norm, with the same floor (1e-12) as `torch.nn.functional.normalize`.
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

/// Probabilities from logits, numerically safe.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let mut p = logits.to_vec();
    edgebert_kernels::generic::softmax_f32(&mut p);
    p
}

/// A classification result: the winning label and every label's probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub label: String,
    pub label_id: usize,
    /// Probability of the winning label.
    pub score: f32,
    /// Probabilities in label-id order.
    pub probs: Vec<f32>,
    pub logits: Vec<f32>,
}

impl Classification {
    /// Softmax and argmax over `logits`; labels come from `id2label`, or `LABEL_<id>` as
    /// transformers names them when the config has none.
    pub fn from_logits(logits: Vec<f32>, id2label: &[String]) -> Classification {
        let probs = softmax(&logits);
        let (label_id, score) = probs
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, p)| if p > best.1 { (i, p) } else { best });
        let label = id2label.get(label_id).cloned().unwrap_or_else(|| format!("LABEL_{label_id}"));
        Classification { label, label_id, score, probs, logits }
    }
}
