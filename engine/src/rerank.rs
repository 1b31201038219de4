//! Reranking: order documents by relevance to a query, with either kind of model.
//!
//! - A **cross-encoder** (a sequence classifier with one label, such as the ms-marco MiniLM
//!   rerankers) reads each `[CLS] query [SEP] document [SEP]` pair; the score is the sigmoid of
//!   its single logit, as sentence-transformers' `CrossEncoder` computes it for one label.
//!   Documents too long for the model are cut on the document side only (transformers'
//!   `truncation="only_second"`); a query that alone fills the model is an error.
//! - A **bi-encoder** (an embedding model) embeds the query and each document; the score is
//!   their cosine similarity.
//!
//! Batches are packed without padding, as everywhere in the engine. Results are best first,
//! equal scores in document order.

use crate::search::Hit;
use crate::session::Session;
use crate::EngineError;
use edgebert_models::{Head, Sequence};

/// Sequences per encoder call: bounds scratch memory for long document lists.
const BATCH: usize = 32;

/// `1 / (1 + e^-x)`, in f32 as torch's `sigmoid` computes it.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `scores` as hits, best first, equal scores by index.
pub fn ranked(scores: &[f32]) -> Vec<Hit> {
    let mut hits: Vec<Hit> = scores.iter().enumerate().map(|(index, &score)| Hit { index, score }).collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    hits
}

impl Session<'_> {
    /// Cross-encoder scores of ready-made pair sequences: the sigmoid of the classifier's one
    /// logit for each.
    pub fn cross_encoder_scores(&mut self, pairs: &[Sequence]) -> Result<Vec<f32>, EngineError> {
        let labels = self.model().info().config.id2label.len();
        if self.model().info().head != Head::SequenceClassification {
            return Err(EngineError::NoClassifier);
        }
        if labels != 1 {
            return Err(EngineError::NotOneLabel { labels });
        }
        let mut scores = Vec::with_capacity(pairs.len());
        for batch in pairs.chunks(BATCH) {
            scores.extend(self.classify_sequences(batch)?.iter().map(|c| sigmoid(c.logits[0])));
        }
        Ok(scores)
    }

    /// `documents` ordered by relevance to `query`: a one-label sequence classifier scores each
    /// pair (cross-encoder), an embedding model compares embeddings (bi-encoder). See the
    /// module docs for both.
    #[cfg(feature = "tokenizer")]
    pub fn rerank(&mut self, query: &str, documents: &[&str]) -> Result<Vec<Hit>, EngineError> {
        let scores = if self.model().info().head == Head::SequenceClassification {
            let pairs = cross_encoder_pairs(self.model().tokenizer(), query, documents)?;
            self.cross_encoder_scores(&pairs)?
        } else {
            let q = self.embed(&[query])?.pop().unwrap_or_default();
            let mut scores = Vec::with_capacity(documents.len());
            for batch in documents.chunks(BATCH) {
                scores.extend(self.embed(batch)?.iter().map(|d| edgebert_models::cosine(&q, d) as f32));
            }
            scores
        };
        Ok(ranked(&scores))
    }
}

/// The `(query, document)` pairs a cross-encoder reads, each cut on the document side only.
#[cfg(feature = "tokenizer")]
pub fn cross_encoder_pairs(
    tokenizer: &crate::tokenizer::TextTokenizer,
    query: &str,
    documents: &[&str],
) -> Result<Vec<Sequence>, crate::tokenizer::TokenizerError> {
    use crate::tokenizer::PairTruncation;
    documents
        .iter()
        .map(|d| Ok(tokenizer.encode_pair(query, d, PairTruncation::OnlySecond)?.sequence()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_is_best_first_and_stable() {
        let hits = ranked(&[0.5, 0.9, 0.5, -1.0]);
        let order: Vec<usize> = hits.iter().map(|h| h.index).collect();
        assert_eq!(order, vec![1, 0, 2, 3]);
        assert_eq!(sigmoid(0.0), 0.5);
        assert!((sigmoid(2.0) - 0.880_797_1).abs() < 1e-7);
    }
}
