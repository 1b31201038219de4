//! The task heads on top of a session's encoder output: sequence classification, per-token
//! logits (token classification, question answering), masked-LM logits, and embeddings.

use crate::blob::TensorData;
use crate::session::{linear, Session};
use crate::EngineError;
use edgebert_models::{gelu_tanh, pool_rows, Activation, Classification, ModelError, Sequence};

impl Session<'_> {
    /// Classification of each sequence: `classifier(act(dense(h_first)))` (tanh, or ReLU for
    /// DistilBERT), softmax, argmax. Sentence pairs are sequences with type ids 0 then 1.
    pub fn classify_sequences(&mut self, batch: &[Sequence]) -> Result<Vec<Classification>, EngineError> {
        let model = self.model();
        let plan = model.plan();
        let (Some(pooler), Some(classifier)) = (plan.pooler, plan.classifier) else {
            return Err(EngineError::NoClassifier);
        };
        let h = model.info().config.hidden_size;
        // Only each sequence's first row is read: the last layer runs on those rows alone.
        let starts = first_rows(batch);
        self.encode_rows(batch, Some(&starts))?;
        let (hidden, scratch) = self.hidden_and_scratch();
        let cls: Vec<f32> = starts.iter().flat_map(|&r| &hidden[r * h..(r + 1) * h]).copied().collect();
        let mut pooled = vec![0.0f32; batch.len() * h];
        linear(model, pooler, &cls, batch.len(), false, None, &mut pooled, scratch)?;
        model.info().config.pooler_activation().apply(&mut pooled);
        let mut logits = vec![0.0f32; batch.len() * classifier.n];
        linear(model, classifier, &pooled, batch.len(), false, None, &mut logits, scratch)?;
        let config = &model.info().config;
        Ok(logits
            .chunks_exact(classifier.n)
            .map(|l| Classification::from_logits(l.to_vec(), config))
            .collect())
    }

    /// Per-token logits of each sequence, `[length, n]` row-major: the token classifier's labels,
    /// or (question answering) start and end logits in columns 0 and 1.
    pub fn token_logits(&mut self, batch: &[Sequence]) -> Result<Vec<Vec<f32>>, EngineError> {
        let model = self.model();
        let (Some(classifier), None) = (model.plan().classifier, model.plan().pooler) else {
            return Err(EngineError::NoHead { what: "token-classification or question-answering" });
        };
        let h = model.info().config.hidden_size;
        self.encode(batch)?;
        let (hidden, scratch) = self.hidden_and_scratch();
        let tokens = hidden.len() / h;
        let mut logits = vec![0.0f32; tokens * classifier.n];
        linear(model, classifier, hidden, tokens, false, None, &mut logits, scratch)?;
        Ok((0..batch.len())
            .map(|b| {
                let rows = self.sequence_rows(b);
                logits[rows.start * classifier.n..rows.end * classifier.n].to_vec()
            })
            .collect())
    }

    /// Vocabulary logits at the given token positions of each sequence (`positions[b]` for
    /// sequence `b`; one `[vocab]` row per position): the masked-LM transform, activation and
    /// LayerNorm, then the word embedding table (the tied decoder, stored once) plus the bias.
    pub fn mask_logits(
        &mut self,
        batch: &[Sequence],
        positions: &[Vec<usize>],
    ) -> Result<Vec<Vec<Vec<f32>>>, EngineError> {
        let model = self.model();
        let Some(mlm) = model.plan().mlm else {
            return Err(EngineError::NoHead { what: "masked-LM" });
        };
        let c = &model.info().config;
        let (h, e) = (c.hidden_size, c.embedding_size);
        if positions.len() != batch.len() {
            return Err(EngineError::Input(ModelError::Config {
                field: "positions",
                problem: format!("{} lists for {} sequences", positions.len(), batch.len()),
            }));
        }
        for (seq, ps) in batch.iter().zip(positions) {
            if let Some(&p) = ps.iter().find(|&&p| p >= seq.ids.len()) {
                return Err(EngineError::Input(ModelError::PositionOutOfRange {
                    position: p,
                    len: seq.ids.len(),
                }));
            }
        }
        // Only the masked positions are read: the last layer runs on those rows alone.
        let starts = first_rows(batch);
        let mut needed: Vec<usize> = positions
            .iter()
            .zip(&starts)
            .flat_map(|(ps, &start)| ps.iter().map(move |&p| start + p))
            .collect();
        needed.sort_unstable();
        needed.dedup();
        self.encode_rows(batch, Some(&needed))?;
        let (hidden, scratch) = self.hidden_and_scratch();
        let rows: Vec<f32> = positions
            .iter()
            .zip(&starts)
            .flat_map(|(ps, &start)| {
                ps.iter().flat_map(move |&p| &hidden[(start + p) * h..(start + p + 1) * h])
            })
            .copied()
            .collect();
        let m = rows.len() / h;
        let mut x = vec![0.0f32; m * e];
        let erf = c.hidden_act == Activation::GeluErf;
        linear(model, mlm.transform, &rows, m, erf, None, &mut x, scratch)?;
        if !erf {
            x.iter_mut().for_each(|v| *v = gelu_tanh(*v));
        }
        model.kernels().layer_norm(
            &mut x,
            model.f32(mlm.norm.gamma)?,
            model.f32(mlm.norm.beta)?,
            c.layer_norm_eps,
        );
        let bias = model.f32(mlm.bias)?;
        let table = model.tensor(model.plan().word.index)?;
        let mut logits =
            x.chunks_exact(e).map(|row| decode(&table, row, bias)).collect::<Vec<_>>().into_iter();
        Ok(positions.iter().map(|ps| logits.by_ref().take(ps.len()).collect()).collect())
    }

    /// One sentence embedding per sequence, with the blob's pooling (mean + L2 norm by default).
    pub fn embed_sequences(&mut self, batch: &[Sequence]) -> Result<Vec<Vec<f32>>, EngineError> {
        let pooling = self.model().info().pooling.unwrap_or_default();
        let h = self.model().info().config.hidden_size;
        self.encode(batch)?;
        let hidden = self.last_hidden();
        Ok((0..batch.len())
            .map(|b| {
                let rows = self.sequence_rows(b);
                pool_rows(&hidden[rows.start * h..rows.end * h], h, pooling)
            })
            .collect())
    }

    /// Tokenizes then classifies.
    #[cfg(feature = "tokenizer")]
    pub fn classify(&mut self, texts: &[&str]) -> Result<Vec<Classification>, EngineError> {
        let batch = self.tokenize_all(texts)?;
        self.classify_sequences(&batch)
    }

    /// Tokenizes then embeds.
    #[cfg(feature = "tokenizer")]
    pub fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EngineError> {
        let batch = self.tokenize_all(texts)?;
        self.embed_sequences(&batch)
    }

    #[cfg(feature = "tokenizer")]
    fn tokenize_all(&self, texts: &[&str]) -> Result<Vec<Sequence>, EngineError> {
        texts.iter().map(|t| self.model().tokenize(t)).collect()
    }
}

/// One masked position's vocabulary logits: `table · x + bias`, reading the word table in its
/// stored encoding (each row widened to f32, int8 rows scaled once after the dot product).
fn decode(table: &TensorData<'_>, x: &[f32], bias: &[f32]) -> Vec<f32> {
    let e = x.len();
    let mut row = vec![0.0f32; e];
    let mut out = Vec::with_capacity(bias.len());
    for (r, b) in bias.iter().enumerate() {
        let scale = match table {
            TensorData::F32(d) => {
                row.copy_from_slice(&d[r * e..(r + 1) * e]);
                1.0
            }
            TensorData::F16(d) => {
                row.iter_mut().zip(&d[r * e..(r + 1) * e]).for_each(|(o, w)| *o = w.to_f32());
                1.0
            }
            TensorData::I8Row { data, scales } => {
                row.iter_mut().zip(&data[r * e..(r + 1) * e]).for_each(|(o, &q)| *o = q as f32);
                scales[r]
            }
            TensorData::I4RowGroup { data, scales } => {
                row.iter_mut().zip(crate::blob::i4_table_row(data, scales, e, r)).for_each(|(o, v)| *o = v);
                1.0
            }
            _ => unreachable!("the plan only admits f32, f16, i8_row and i4_row_group tables"),
        };
        out.push(scale * dot(&row, x) + b);
    }
    out
}

/// A dot product with eight independent sums, so the compiler can vectorise it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The stacked row where each sequence of `batch` starts (its first token).
fn first_rows(batch: &[Sequence]) -> Vec<usize> {
    crate::session::sequence_starts(batch).take(batch.len()).collect()
}
