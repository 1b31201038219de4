//! AdamW (decoupled weight decay, none on biases and LayerNorm), the learning-rate schedule and
//! gradient clipping.

use edgebert_models::train::{global_norm, scale, tensors_mut, ParamKind};
use edgebert_models::BertWeights;

/// Linear warm-up from 0 to `peak` over `warmup` steps, then linear decay to 0 at `total`
/// (transformers' `get_linear_schedule_with_warmup`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub peak: f32,
    pub warmup: usize,
    pub total: usize,
}

impl Schedule {
    /// The learning rate of step `step` (0-based).
    pub fn lr(&self, step: usize) -> f32 {
        if step < self.warmup {
            return self.peak * (step + 1) as f32 / self.warmup as f32;
        }
        let left = self.total.saturating_sub(step) as f32;
        let span = self.total.saturating_sub(self.warmup).max(1) as f32;
        self.peak * (left / span).clamp(0.0, 1.0)
    }
}

/// Scales `grads` so their global L2 norm is at most `max_norm`; returns the norm before.
pub fn clip_global_norm(grads: &mut BertWeights, max_norm: f32) -> f32 {
    let norm = global_norm(grads);
    if max_norm > 0.0 && norm > max_norm {
        scale(grads, max_norm / (norm + 1e-6));
    }
    norm
}

/// AdamW as in PyTorch (`torch.optim.AdamW`, bias-corrected moments).
#[derive(Debug, Clone)]
pub struct AdamW {
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// Leave the embedding tables as they are.
    pub freeze_embeddings: bool,
    step: u32,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl AdamW {
    pub fn new(weight_decay: f32, freeze_embeddings: bool) -> AdamW {
        AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            freeze_embeddings,
            step: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// One update of `weights` with `grads` at learning rate `lr`.
    pub fn step(&mut self, weights: &mut BertWeights, grads: &mut BertWeights, lr: f32) {
        self.step += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.step as i32);
        let c2 = 1.0 - b2.powi(self.step as i32);
        let params = tensors_mut(weights);
        if self.m.is_empty() {
            self.m = params.iter().map(|(_, t)| vec![0.0; t.len()]).collect();
            self.v = self.m.clone();
        }
        for (((kind, w), (_, g)), (m, v)) in
            params.into_iter().zip(tensors_mut(grads)).zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            if self.freeze_embeddings && kind == ParamKind::Embedding {
                continue;
            }
            let decay = if kind.decays() { 1.0 - lr * self.weight_decay } else { 1.0 };
            for i in 0..w.len() {
                let gi = g[i];
                m[i] = b1 * m[i] + (1.0 - b1) * gi;
                v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                let update = (m[i] / c1) / ((v[i] / c2).sqrt() + self.eps);
                w[i] = w[i] * decay - lr * update;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let s = Schedule { peak: 1.0, warmup: 4, total: 12 };
        assert_eq!(s.lr(0), 0.25);
        assert_eq!(s.lr(3), 1.0);
        assert_eq!(s.lr(4), 1.0);
        assert_eq!(s.lr(8), 0.5);
        assert_eq!(s.lr(12), 0.0);
    }
}
