//! Every tensor of a model as a flat list, so optimizers and gradient sums need no knowledge of
//! the encoder's structure.

use crate::{BertWeights, LayerNorm, Linear};

/// What a tensor is, which decides weight decay (none on biases and LayerNorm, as BERT's recipe
/// does) and lets a trainer freeze the embedding tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A linear layer's weight matrix.
    Matrix,
    /// Word, position or token-type embedding table.
    Embedding,
    Bias,
    /// LayerNorm gamma or beta.
    Norm,
}

impl ParamKind {
    pub fn decays(self) -> bool {
        matches!(self, ParamKind::Matrix | ParamKind::Embedding)
    }
}

fn linear<'a>(out: &mut Vec<(ParamKind, &'a mut Vec<f32>)>, l: &'a mut Linear) {
    out.push((ParamKind::Matrix, &mut l.weight));
    out.push((ParamKind::Bias, &mut l.bias));
}

fn norm<'a>(out: &mut Vec<(ParamKind, &'a mut Vec<f32>)>, n: &'a mut LayerNorm) {
    out.push((ParamKind::Norm, &mut n.gamma));
    out.push((ParamKind::Norm, &mut n.beta));
}

/// Every tensor, always in the same order for models of the same shape.
pub fn tensors_mut(w: &mut BertWeights) -> Vec<(ParamKind, &mut Vec<f32>)> {
    let mut out = Vec::new();
    let e = &mut w.embeddings;
    out.push((ParamKind::Embedding, &mut e.word));
    out.push((ParamKind::Embedding, &mut e.position));
    out.push((ParamKind::Embedding, &mut e.token_type));
    norm(&mut out, &mut e.norm);
    for layer in &mut w.layers {
        linear(&mut out, &mut layer.query);
        linear(&mut out, &mut layer.key);
        linear(&mut out, &mut layer.value);
        linear(&mut out, &mut layer.attention_output);
        norm(&mut out, &mut layer.attention_norm);
        linear(&mut out, &mut layer.intermediate);
        linear(&mut out, &mut layer.output);
        norm(&mut out, &mut layer.output_norm);
    }
    if let Some(p) = &mut w.pooler {
        linear(&mut out, p);
    }
    if let Some(c) = &mut w.classifier {
        linear(&mut out, c);
    }
    out
}

/// A gradient holder: the same shapes, all zeros.
pub fn zeros_like(w: &BertWeights) -> BertWeights {
    let mut z = w.clone();
    for (_, t) in tensors_mut(&mut z) {
        t.iter_mut().for_each(|v| *v = 0.0);
    }
    z
}

/// `acc += other`, tensor by tensor (same shapes).
pub fn add_assign(acc: &mut BertWeights, other: &mut BertWeights) {
    for ((_, a), (_, b)) in tensors_mut(acc).into_iter().zip(tensors_mut(other)) {
        assert_eq!(a.len(), b.len(), "add_assign: shapes differ");
        a.iter_mut().zip(b.iter()).for_each(|(x, y)| *x += y);
    }
}

/// Multiplies every value by `factor`.
pub fn scale(w: &mut BertWeights, factor: f32) {
    for (_, t) in tensors_mut(w) {
        t.iter_mut().for_each(|v| *v *= factor);
    }
}

/// L2 norm over all tensors (accumulated in f64), what gradient clipping compares.
pub fn global_norm(w: &mut BertWeights) -> f32 {
    let sum: f64 =
        tensors_mut(w).iter().map(|(_, t)| t.iter().map(|&v| v as f64 * v as f64).sum::<f64>()).sum();
    sum.sqrt() as f32
}
