//! Classification and embedding on top of a session's encoder output.

use crate::session::{linear, Session};
use crate::EngineError;
use edgebert_models::{pool_rows, Classification, Sequence};

impl Session<'_> {
    /// Classification of each sequence: `classifier(tanh(pooler(h_[CLS])))`, softmax, argmax.
    pub fn classify_sequences(&mut self, batch: &[Sequence]) -> Result<Vec<Classification>, EngineError> {
        let model = self.model();
        let plan = model.plan();
        let (Some(pooler), Some(classifier)) = (plan.pooler, plan.classifier) else {
            return Err(EngineError::NoClassifier);
        };
        let h = model.info().config.hidden_size;
        let hidden = self.encode(batch)?;
        let mut cls = Vec::with_capacity(batch.len() * h);
        let mut b_start = 0;
        for s in batch {
            cls.extend_from_slice(&hidden[b_start * h..(b_start + 1) * h]);
            b_start += s.ids.len();
        }
        let mut scratch = Vec::new();
        let mut pooled = vec![0.0f32; batch.len() * h];
        linear(model, pooler, &cls, batch.len(), false, None, &mut pooled, &mut scratch)?;
        pooled.iter_mut().for_each(|v| *v = v.tanh());
        let mut logits = vec![0.0f32; batch.len() * classifier.n];
        linear(model, classifier, &pooled, batch.len(), false, None, &mut logits, &mut scratch)?;
        let labels = &model.info().config.id2label;
        Ok(logits
            .chunks_exact(classifier.n)
            .map(|l| Classification::from_logits(l.to_vec(), labels))
            .collect())
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
