//! The whole model in training mode: [`forward`] records a [`Tape`], [`backward`] turns output
//! gradients into weight gradients.

use super::gemm::{Gemm, PackedModel};
pub use super::layer::Dropout;
use super::layer::{layer_backward, layer_forward, LayerCache, LayerShape};
use super::ops::{apply_mask, dropout_mask, layer_norm_backward, layer_norm_forward, NormCache};
use super::rng::Rng;
use crate::{BertModel, BertWeights, ModelError, Sequence};

/// Sequences packed row after row: token `t` of sequence `b` is row `offsets[b] + t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// `batch + 1` row offsets.
    pub offsets: Vec<usize>,
}

impl Batch {
    /// Packs and checks `sequences` against the model's vocabulary and position table.
    pub fn new(model: &BertModel, sequences: &[Sequence]) -> Result<Batch, ModelError> {
        model.config.check_batch(sequences)?;
        let mut batch = Batch { ids: Vec::new(), type_ids: Vec::new(), offsets: vec![0] };
        for s in sequences {
            batch.ids.extend_from_slice(&s.ids);
            batch.type_ids.extend((0..s.ids.len()).map(|t| s.type_ids.get(t).copied().unwrap_or(0)));
            batch.offsets.push(batch.ids.len());
        }
        Ok(batch)
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn rows(&self) -> usize {
        self.ids.len()
    }
}

/// What the backward pass needs from one forward pass.
pub struct Tape {
    pub batch: Batch,
    /// The embeddings' output, then each layer's output: `[rows, hidden]` each.
    pub states: Vec<Vec<f32>>,
    /// `[batch, num_labels]` when the model has a classification head, else empty.
    pub logits: Vec<f32>,
    embedding_norm: NormCache,
    embedding_drop: Option<Vec<f32>>,
    layers: Vec<LayerCache>,
    cls: Vec<f32>,
    /// `tanh(pooler(cls))`, before dropout.
    pooled: Vec<f32>,
    pooled_drop: Option<Vec<f32>>,
    pooled_dropped: Vec<f32>,
}

/// Runs the model over `batch` with `dropout` (use [`Dropout::off`] for evaluation), keeping the
/// activations. The classification head runs when the model has one.
pub fn forward(
    model: &BertModel,
    packed: &PackedModel,
    batch: Batch,
    dropout: Dropout,
    gemm: &mut Gemm,
) -> Tape {
    let (c, w) = (&model.config, &model.weights);
    let h = c.hidden_size;
    let mut rng = Rng::new(dropout.seed);
    let mut x = vec![0.0f32; batch.rows() * h];
    for (b, win) in batch.offsets.windows(2).enumerate() {
        let _ = b;
        for (t, r) in (win[0]..win[1]).enumerate() {
            let word = &w.embeddings.word[batch.ids[r] as usize * h..][..h];
            let pos = &w.embeddings.position[t * h..][..h];
            let ty = &w.embeddings.token_type[batch.type_ids[r] as usize * h..][..h];
            for i in 0..h {
                x[r * h + i] = word[i] + ty[i] + pos[i];
            }
        }
    }
    let norm = &w.embeddings.norm;
    let (mut x, embedding_norm) = layer_norm_forward(&x, &norm.gamma, &norm.beta, c.layer_norm_eps);
    let embedding_drop = dropout_mask(x.len(), dropout.hidden, &mut rng);
    apply_mask(&mut x, &embedding_drop);
    let mut states = vec![x];
    let mut layers = Vec::with_capacity(w.layers.len());
    let shape = LayerShape { offsets: &batch.offsets, heads: c.num_attention_heads, eps: c.layer_norm_eps };
    for (layer, p) in w.layers.iter().zip(&packed.layers) {
        let input = states.last().expect("states start with the embeddings");
        let (out, cache) = layer_forward(layer, p, input, &shape, dropout, &mut rng, gemm);
        layers.push(cache);
        states.push(out);
    }
    let mut tape = Tape {
        batch,
        states,
        logits: Vec::new(),
        embedding_norm,
        embedding_drop,
        layers,
        cls: Vec::new(),
        pooled: Vec::new(),
        pooled_drop: None,
        pooled_dropped: Vec::new(),
    };
    if let (Some(pw), Some(cw), Some(pp), Some(cp)) =
        (&w.pooler, &w.classifier, &packed.pooler, &packed.classifier)
    {
        let last = tape.states.last().expect("states start with the embeddings");
        let n = tape.batch.len();
        let mut cls = Vec::with_capacity(n * h);
        for &start in &tape.batch.offsets[..n] {
            cls.extend_from_slice(&last[start * h..][..h]);
        }
        let mut pooled = gemm.linear(&cls, n, &pp.forward, Some(&pw.bias));
        pooled.iter_mut().for_each(|v| *v = v.tanh());
        let pooled_drop = dropout_mask(pooled.len(), dropout.hidden, &mut rng);
        let mut pooled_dropped = pooled.clone();
        apply_mask(&mut pooled_dropped, &pooled_drop);
        tape.logits = gemm.linear(&pooled_dropped, n, &cp.forward, Some(&cw.bias));
        tape.cls = cls;
        tape.pooled = pooled;
        tape.pooled_drop = pooled_drop;
        tape.pooled_dropped = pooled_dropped;
    }
    tape
}

/// Accumulates into `grads` (shaped like the model, e.g. from [`super::zeros_like`]) the
/// gradient of a loss whose gradient is `d_logits` (`[batch, num_labels]`, or `None`) plus
/// `d_states`: extra gradients on states (index into [`Tape::states`], `[rows, hidden]`).
pub fn backward(
    model: &BertModel,
    packed: &PackedModel,
    tape: &Tape,
    d_logits: Option<&[f32]>,
    d_states: &[(usize, Vec<f32>)],
    grads: &mut BertWeights,
    gemm: &mut Gemm,
) {
    let (c, w) = (&model.config, &model.weights);
    let h = c.hidden_size;
    let n = tape.batch.len();
    let layers = w.layers.len();
    let mut dx = vec![0.0f32; tape.batch.rows() * h];
    if let Some(dl) = d_logits {
        let (pw, cw) = (w.pooler.as_ref(), w.classifier.as_ref());
        let (pp, cp) = (packed.pooler.as_ref(), packed.classifier.as_ref());
        let (Some(_), Some(_), Some(pp), Some(cp)) = (pw, cw, pp, cp) else {
            panic!("backward: logits gradient given for a model without a classification head");
        };
        let gc = grads.classifier.as_mut().expect("grads shaped like the model");
        let mut dp = gemm.linear_backward(dl, &tape.pooled_dropped, n, cp, gc);
        apply_mask(&mut dp, &tape.pooled_drop);
        dp.iter_mut().zip(&tape.pooled).for_each(|(d, y)| *d *= 1.0 - y * y);
        let gp = grads.pooler.as_mut().expect("grads shaped like the model");
        let dcls = gemm.linear_backward(&dp, &tape.cls, n, pp, gp);
        for (b, &start) in tape.batch.offsets[..n].iter().enumerate() {
            dx[start * h..][..h].iter_mut().zip(&dcls[b * h..][..h]).for_each(|(a, d)| *a += d);
        }
    }
    let add_state = |dx: &mut Vec<f32>, index: usize| {
        for (_, d) in d_states.iter().filter(|(i, _)| *i == index) {
            dx.iter_mut().zip(d).for_each(|(a, b)| *a += b);
        }
    };
    add_state(&mut dx, layers);
    for l in (0..layers).rev() {
        dx = layer_backward(
            (&w.layers[l], &packed.layers[l]),
            &tape.layers[l],
            &tape.states[l],
            &dx,
            &tape.batch.offsets,
            &mut grads.layers[l],
            gemm,
        );
        add_state(&mut dx, l);
    }
    apply_mask(&mut dx, &tape.embedding_drop);
    let ge = &mut grads.embeddings;
    let de = layer_norm_backward(
        &dx,
        &tape.embedding_norm,
        &w.embeddings.norm.gamma,
        &mut ge.norm.gamma,
        &mut ge.norm.beta,
    );
    for win in tape.batch.offsets.windows(2) {
        for (t, r) in (win[0]..win[1]).enumerate() {
            let d = &de[r * h..][..h];
            let id = tape.batch.ids[r] as usize;
            let ty = tape.batch.type_ids[r] as usize;
            ge.word[id * h..][..h].iter_mut().zip(d).for_each(|(g, v)| *g += v);
            ge.position[t * h..][..h].iter_mut().zip(d).for_each(|(g, v)| *g += v);
            ge.token_type[ty * h..][..h].iter_mut().zip(d).for_each(|(g, v)| *g += v);
        }
    }
}
