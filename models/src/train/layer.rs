//! One encoder layer (`BertLayer`): its forward pass keeping activations, and its backward pass.

use super::gemm::{Gemm, PackedLinear};
use super::ops::{apply_mask, dropout_mask, gelu_erf_grad, layer_norm_backward, layer_norm_forward};
use super::ops::{Attention, NormCache};
use super::rng::Rng;
use crate::EncoderLayer;
use edgebert_kernels::generic::gelu_erf_f32;

/// Dropout probabilities during training (0 turns a dropout off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    /// `hidden_dropout_prob`: embeddings, attention output, feed-forward output, pooled output.
    pub hidden: f32,
    /// `attention_probs_dropout_prob`.
    pub attention: f32,
    pub seed: u64,
}

impl Dropout {
    pub fn off() -> Dropout {
        Dropout { hidden: 0.0, attention: 0.0, seed: 0 }
    }
}

/// Everything a layer's backward reads. The layer's input is not here: it is the previous
/// state, which the [`super::Tape`] keeps once.
pub(crate) struct LayerCache {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    attention: Attention,
    context: Vec<f32>,
    attention_drop: Option<Vec<f32>>,
    norm1: NormCache,
    /// The attention block's output (input of the feed-forward block).
    h1: Vec<f32>,
    /// Intermediate pre-activation and its GELU.
    inter: Vec<f32>,
    gelu: Vec<f32>,
    output_drop: Option<Vec<f32>>,
    norm2: NormCache,
}

pub(crate) struct LayerShape<'a> {
    pub offsets: &'a [usize],
    pub heads: usize,
    pub eps: f32,
}

pub(crate) fn layer_forward(
    w: &EncoderLayer,
    p: &[PackedLinear; 6],
    x: &[f32],
    shape: &LayerShape,
    dropout: Dropout,
    rng: &mut Rng,
    gemm: &mut Gemm,
) -> (Vec<f32>, LayerCache) {
    let h = w.query.in_dim;
    let rows = x.len() / h;
    let q = gemm.linear(x, rows, &p[0].forward, Some(&w.query.bias));
    let k = gemm.linear(x, rows, &p[1].forward, Some(&w.key.bias));
    let v = gemm.linear(x, rows, &p[2].forward, Some(&w.value.bias));
    let (attention, context) =
        Attention::forward(&q, &k, &v, shape.offsets, shape.heads, dropout.attention, rng);
    let mut a = gemm.linear(&context, rows, &p[3].forward, Some(&w.attention_output.bias));
    let attention_drop = dropout_mask(a.len(), dropout.hidden, rng);
    apply_mask(&mut a, &attention_drop);
    a.iter_mut().zip(x).for_each(|(a, x)| *a += x);
    let (h1, norm1) = layer_norm_forward(&a, &w.attention_norm.gamma, &w.attention_norm.beta, shape.eps);
    let inter = gemm.linear(&h1, rows, &p[4].forward, Some(&w.intermediate.bias));
    let gelu: Vec<f32> = inter.iter().map(|&v| gelu_erf_f32(v)).collect();
    let mut o = gemm.linear(&gelu, rows, &p[5].forward, Some(&w.output.bias));
    let output_drop = dropout_mask(o.len(), dropout.hidden, rng);
    apply_mask(&mut o, &output_drop);
    o.iter_mut().zip(&h1).for_each(|(o, x)| *o += x);
    let (out, norm2) = layer_norm_forward(&o, &w.output_norm.gamma, &w.output_norm.beta, shape.eps);
    let cache = LayerCache {
        q,
        k,
        v,
        attention,
        context,
        attention_drop,
        norm1,
        h1,
        inter,
        gelu,
        output_drop,
        norm2,
    };
    (out, cache)
}

/// Accumulates the layer's weight gradients into `g` and returns the gradient of its input.
pub(crate) fn layer_backward(
    (w, p): (&EncoderLayer, &[PackedLinear; 6]),
    c: &LayerCache,
    x: &[f32],
    dout: &[f32],
    offsets: &[usize],
    g: &mut EncoderLayer,
    gemm: &mut Gemm,
) -> Vec<f32> {
    let h = w.query.in_dim;
    let rows = x.len() / h;
    let on = &mut g.output_norm;
    let dz2 = layer_norm_backward(dout, &c.norm2, &w.output_norm.gamma, &mut on.gamma, &mut on.beta);
    let mut d_o = dz2.clone();
    apply_mask(&mut d_o, &c.output_drop);
    let dgelu = gemm.linear_backward(&d_o, &c.gelu, rows, &p[5], &mut g.output);
    let dinter: Vec<f32> = dgelu.iter().zip(&c.inter).map(|(d, &x)| d * gelu_erf_grad(x)).collect();
    let mut dh1 = gemm.linear_backward(&dinter, &c.h1, rows, &p[4], &mut g.intermediate);
    dh1.iter_mut().zip(&dz2).for_each(|(a, b)| *a += b);
    let an = &mut g.attention_norm;
    let dz1 = layer_norm_backward(&dh1, &c.norm1, &w.attention_norm.gamma, &mut an.gamma, &mut an.beta);
    let mut da = dz1.clone();
    apply_mask(&mut da, &c.attention_drop);
    let dctx = gemm.linear_backward(&da, &c.context, rows, &p[3], &mut g.attention_output);
    let (dq, dk, dv) = c.attention.backward(&dctx, &c.q, &c.k, &c.v, offsets);
    let mut dx = dz1;
    for (d, pk, grad) in [(&dq, &p[0], &mut g.query), (&dk, &p[1], &mut g.key), (&dv, &p[2], &mut g.value)] {
        let part = gemm.linear_backward(d, x, rows, pk, grad);
        dx.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
    }
    dx
}
