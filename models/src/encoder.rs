//! The float reference forward pass of a BERT-family encoder: embeddings, then
//! `num_hidden_layers` of masked multi-head self-attention and a GELU feed-forward block, each
//! followed by a residual add and LayerNorm — exactly what `transformers`' `BertModel`,
//! `DistilBertModel`, `RobertaModel` and `AlbertModel` compute, in plain f32. The families differ
//! only in data the config carries: token types or none, the first position id (RoBERTa), an
//! embedding projection and shared layer weights (ALBERT), the GELU form.
//!
//! A batch is padded to its longest sequence. Attention only ever looks at a sequence's own keys
//! (the attention mask), and every other operation works row by row, so each sequence's numbers
//! are bit-identical to running it alone; the values in padding rows mean nothing.

use crate::weights::{EncoderLayer, Linear};
use crate::{Activation, BertWeights, Config, ModelError};
use edgebert_kernels::generic::{gelu_erf_f32, layer_norm_f32, linear_f32, softmax_f32};

/// One input sequence: token ids (with `[CLS]`/`[SEP]` already added) and token types.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sequence {
    pub ids: Vec<u32>,
    /// Same length as `ids`; empty means all zeros.
    pub type_ids: Vec<u32>,
}

impl Sequence {
    pub fn new(ids: Vec<u32>) -> Sequence {
        Sequence { ids, type_ids: Vec::new() }
    }

    fn type_id(&self, position: usize) -> u32 {
        self.type_ids.get(position).copied().unwrap_or(0)
    }
}

/// Which linear layers of an encoder layer an observed activation feeds
/// ([`BertModel::forward_observed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinearInput {
    /// The layer's input: query, key and value.
    QueryKeyValue,
    /// The attention context: `attention.output.dense`.
    AttentionOutput,
    /// The attention block's LayerNorm output: `intermediate.dense`.
    Intermediate,
    /// The activated feed-forward hidden state: `output.dense`.
    Output,
}

/// The encoder's output for a padded batch.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderOutput {
    /// `[batch, seq_len, hidden]`; rows past a sequence's length are padding (not meaningful).
    pub last_hidden_state: Vec<f32>,
    /// The true length of each sequence.
    pub lengths: Vec<usize>,
    /// The padded length (the longest sequence in the batch).
    pub seq_len: usize,
    pub hidden_size: usize,
    /// When requested: the embeddings' output then each layer's output, each `[batch, seq_len,
    /// hidden]` — what `output_hidden_states=True` returns in transformers.
    pub hidden_states: Vec<Vec<f32>>,
}

impl EncoderOutput {
    /// The hidden state of token `t` of sequence `b`.
    pub fn token(&self, b: usize, t: usize) -> &[f32] {
        let start = (b * self.seq_len + t) * self.hidden_size;
        &self.last_hidden_state[start..start + self.hidden_size]
    }

    /// The valid rows (`[length, hidden]`) of sequence `b` in `state`, a `[batch, seq_len, hidden]`
    /// tensor such as `last_hidden_state` or one of `hidden_states`.
    pub fn rows<'a>(&self, state: &'a [f32], b: usize) -> &'a [f32] {
        let start = b * self.seq_len * self.hidden_size;
        &state[start..start + self.lengths[b] * self.hidden_size]
    }
}

/// A BERT-family encoder with f32 weights: the oracle.
#[derive(Debug, Clone)]
pub struct BertModel {
    pub config: Config,
    pub weights: BertWeights,
}

impl BertModel {
    pub fn new(config: Config, weights: BertWeights) -> BertModel {
        BertModel { config, weights }
    }

    /// Runs the encoder over a batch. With `keep_hidden_states`, every intermediate hidden state is
    /// returned too (for per-layer error reports).
    pub fn forward(&self, batch: &[Sequence], keep_hidden_states: bool) -> Result<EncoderOutput, ModelError> {
        self.forward_observed(batch, keep_hidden_states, &mut |_, _, _| {})
    }

    /// [`BertModel::forward`], handing `observe(layer, site, rows)` the input of every linear
    /// layer of every encoder layer (`[batch · seq_len, in_dim]`, padding rows included): what
    /// calibration (`edgebert convert --calib`) measures activations with.
    pub fn forward_observed(
        &self,
        batch: &[Sequence],
        keep_hidden_states: bool,
        observe: &mut dyn FnMut(usize, LinearInput, &[f32]),
    ) -> Result<EncoderOutput, ModelError> {
        self.config.check_batch(batch)?;
        let h = self.config.hidden_size;
        let lengths: Vec<usize> = batch.iter().map(|s| s.ids.len()).collect();
        let seq_len = lengths.iter().copied().max().unwrap_or(0);
        let mut x = self.embed(batch, seq_len);
        let mut hidden_states = Vec::new();
        if keep_hidden_states {
            hidden_states.push(x.clone());
        }
        for i in 0..self.config.num_hidden_layers {
            self.layer_forward(self.weights.layer(i), &mut x, &lengths, seq_len, &mut |site, rows| {
                observe(i, site, rows)
            });
            if keep_hidden_states {
                hidden_states.push(x.clone());
            }
        }
        Ok(EncoderOutput { last_hidden_state: x, lengths, seq_len, hidden_size: h, hidden_states })
    }

    /// word + token-type + position embeddings, then LayerNorm (and ALBERT's projection to the
    /// hidden size). Padding rows stay zero before the norm (they are never read as keys thanks
    /// to the mask).
    fn embed(&self, batch: &[Sequence], seq_len: usize) -> Vec<f32> {
        let c = &self.config;
        let e = c.embedding_size;
        let emb = &self.weights.embeddings;
        let mut x = vec![0.0f32; batch.len() * seq_len * e];
        for (b, seq) in batch.iter().enumerate() {
            for (t, &id) in seq.ids.iter().enumerate() {
                let row = &mut x[(b * seq_len + t) * e..][..e];
                let word = &emb.word[id as usize * e..][..e];
                let pos = &emb.position[(t + c.position_offset) * e..][..e];
                match c.type_vocab_size {
                    0 => row.iter_mut().zip(word.iter().zip(pos)).for_each(|(r, (w, p))| *r = w + p),
                    _ => {
                        let ty = &emb.token_type[seq.type_id(t) as usize * e..][..e];
                        for i in 0..e {
                            row[i] = word[i] + ty[i] + pos[i];
                        }
                    }
                }
            }
        }
        layer_norm_f32(&mut x, &emb.norm.gamma, &emb.norm.beta, c.layer_norm_eps);
        match &emb.projection {
            Some(p) => apply(p, &x, batch.len() * seq_len),
            None => x,
        }
    }

    fn layer_forward(
        &self,
        layer: &EncoderLayer,
        x: &mut [f32],
        lengths: &[usize],
        seq_len: usize,
        observe: &mut dyn FnMut(LinearInput, &[f32]),
    ) {
        let (h, eps) = (self.config.hidden_size, self.config.layer_norm_eps);
        let rows = x.len() / h;
        observe(LinearInput::QueryKeyValue, x);
        let q = apply(&layer.query, x, rows);
        let k = apply(&layer.key, x, rows);
        let v = apply(&layer.value, x, rows);
        let context = self.attention(&q, &k, &v, lengths, seq_len);
        observe(LinearInput::AttentionOutput, &context);
        let mut attn = apply(&layer.attention_output, &context, rows);
        add_in_place(&mut attn, x);
        layer_norm_f32(&mut attn, &layer.attention_norm.gamma, &layer.attention_norm.beta, eps);
        observe(LinearInput::Intermediate, &attn);
        let mut inter = apply(&layer.intermediate, &attn, rows);
        activate(self.config.hidden_act, &mut inter);
        observe(LinearInput::Output, &inter);
        let mut out = apply(&layer.output, &inter, rows);
        add_in_place(&mut out, &attn);
        layer_norm_f32(&mut out, &layer.output_norm.gamma, &layer.output_norm.beta, eps);
        x.copy_from_slice(&out);
    }

    /// softmax(Q·Kᵀ/√d)·V for each sequence and head, over the sequence's own keys only: keys past
    /// its length (padding) are left out, which is what the attention mask means, and keeps every
    /// sum in the same order as when the sequence runs alone.
    fn attention(&self, q: &[f32], k: &[f32], v: &[f32], lengths: &[usize], seq_len: usize) -> Vec<f32> {
        let h = self.config.hidden_size;
        let d = self.config.head_dim();
        let scale = 1.0 / (d as f32).sqrt();
        let mut context = vec![0.0f32; q.len()];
        for (b, &len) in lengths.iter().enumerate() {
            let (mut qh, mut kh, mut vt) = (vec![0.0; len * d], vec![0.0; len * d], vec![0.0; d * len]);
            let (mut scores, mut ctx) = (vec![0.0f32; len * len], vec![0.0f32; len * d]);
            for head in 0..self.config.num_attention_heads {
                for t in 0..len {
                    let src = (b * seq_len + t) * h + head * d;
                    qh[t * d..][..d].copy_from_slice(&q[src..src + d]);
                    kh[t * d..][..d].copy_from_slice(&k[src..src + d]);
                    for i in 0..d {
                        vt[i * len + t] = v[src + i];
                    }
                }
                linear_f32(&qh, &kh, None, &mut scores, len, d, len);
                for row in scores.chunks_exact_mut(len) {
                    row.iter_mut().for_each(|s| *s *= scale);
                    softmax_f32(row);
                }
                linear_f32(&scores, &vt, None, &mut ctx, len, len, d);
                for t in 0..len {
                    let dst = (b * seq_len + t) * h + head * d;
                    context[dst..dst + d].copy_from_slice(&ctx[t * d..][..d]);
                }
            }
        }
        context
    }
}

/// `x · Wᵀ + b` over `rows` rows.
pub(crate) fn apply(linear: &Linear, x: &[f32], rows: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * linear.out_dim];
    linear_f32(x, &linear.weight, Some(&linear.bias), &mut out, rows, linear.in_dim, linear.out_dim);
    out
}

/// The feed-forward activation, in place.
pub(crate) fn activate(act: Activation, x: &mut [f32]) {
    match act {
        Activation::GeluErf => x.iter_mut().for_each(|v| *v = gelu_erf_f32(*v)),
        Activation::GeluTanh => x.iter_mut().for_each(|v| *v = crate::gelu_tanh(*v)),
    }
}

fn add_in_place(acc: &mut [f32], other: &[f32]) {
    acc.iter_mut().zip(other).for_each(|(a, b)| *a += b);
}
