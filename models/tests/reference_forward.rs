//! Properties of the float reference encoder that need no assets: it never panics on any token
//! sequence, a padded batch equals one-by-one runs bit for bit, and bad checkpoints are named.

mod random_model;

use edgebert_models::{
    BertModel, BertWeights, EmbeddingPooling, Family, Head, ModelError, Sequence, TensorSource,
};
use proptest::prelude::*;
use random_model::{tiny_config, tiny_model, tiny_model_of, RandomSource};
use std::sync::OnceLock;

const FAMILIES: [Family; 4] = [Family::Bert, Family::DistilBert, Family::Roberta, Family::Albert];

/// One random model per family, built once for every proptest case.
fn family_models() -> &'static [BertModel] {
    static MODELS: OnceLock<Vec<BertModel>> = OnceLock::new();
    MODELS.get_or_init(|| FAMILIES.into_iter().map(tiny_model_of).collect())
}

#[test]
fn out_of_vocabulary_ids_are_errors_in_every_family() {
    for model in family_models() {
        let c = &model.config;
        let bad = Sequence::new(vec![c.pad_token_id + 1, c.vocab_size as u32, 2]);
        let got = model.forward(&[bad], false);
        assert!(
            matches!(got, Err(ModelError::TokenOutOfRange { id: 50, position: 1, vocab_size: 50 })),
            "{:?}: {:?}",
            c.family,
            got.map(|_| "an answer")
        );
    }
}

#[test]
fn padded_batch_equals_one_by_one_bitwise() {
    let model = tiny_model();
    let batch: Vec<Sequence> = [vec![1, 5, 7, 2], vec![1, 2], vec![1, 9, 9, 9, 9, 9, 9, 2], vec![1, 3, 2]]
        .into_iter()
        .map(Sequence::new)
        .collect();
    let together = model.forward(&batch, true).unwrap();
    let logits = model.classify_logits(&together).unwrap();
    let embeddings = model.embed_pooled(&together, EmbeddingPooling::default());
    for (b, seq) in batch.iter().enumerate() {
        let alone = model.forward(std::slice::from_ref(seq), true).unwrap();
        assert_eq!(together.rows(&together.last_hidden_state, b), alone.rows(&alone.last_hidden_state, 0));
        for (layer, (t, a)) in together.hidden_states.iter().zip(&alone.hidden_states).enumerate() {
            assert_eq!(together.rows(t, b), alone.rows(a, 0), "layer {layer}, sequence {b}");
        }
        assert_eq!(logits[b], model.classify_logits(&alone).unwrap()[0]);
        assert_eq!(embeddings[b], model.embed_pooled(&alone, EmbeddingPooling::default())[0]);
    }
}

#[test]
fn hidden_states_are_embeddings_then_each_layer() {
    let model = tiny_model();
    let out = model.forward(&[Sequence::new(vec![1, 4, 2])], true).unwrap();
    assert_eq!(out.hidden_states.len(), model.config.num_hidden_layers + 1);
    assert_eq!(out.hidden_states.last().unwrap(), &out.last_hidden_state);
}

#[test]
fn bad_inputs_are_errors() {
    let model = tiny_model();
    let too_long = Sequence::new(vec![1; model.config.max_position_embeddings + 1]);
    assert!(matches!(
        model.forward(&[too_long], false),
        Err(ModelError::SequenceTooLong { len: 25, max: 24 })
    ));
    assert!(matches!(model.forward(&[Sequence::new(vec![])], false), Err(ModelError::EmptySequence)));
    let bad_id = Sequence::new(vec![1, 50, 2]);
    assert!(matches!(
        model.forward(&[bad_id], false),
        Err(ModelError::TokenOutOfRange { id: 50, position: 1, .. })
    ));
    let bad_type = Sequence { ids: vec![1, 2], type_ids: vec![0, 2] };
    assert!(matches!(model.forward(&[bad_type], false), Err(ModelError::TokenTypeOutOfRange { id: 2, .. })));
    assert!(model.forward(&[], false).unwrap().lengths.is_empty());
}

/// Wraps a source and changes one tensor: gone, or reshaped.
struct Tampered {
    inner: RandomSource,
    name: &'static str,
    shape: Option<Vec<usize>>,
}

impl TensorSource for Tampered {
    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        if name == self.name {
            return self.shape.clone();
        }
        self.inner.shape(name)
    }
    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        self.inner.to_f32(name)
    }
}

#[test]
fn missing_and_misshaped_tensors_are_named() {
    let config = tiny_config();
    let name = "bert.encoder.layer.1.intermediate.dense.weight";
    let missing = Tampered { inner: RandomSource::new(&config, "bert."), name, shape: None };
    let err = BertWeights::load(&config, &missing).unwrap_err().to_string();
    assert!(err.contains(name) && err.contains("missing"), "{err}");
    let misshaped = Tampered { inner: RandomSource::new(&config, "bert."), name, shape: Some(vec![8, 16]) };
    let err = BertWeights::load(&config, &misshaped).unwrap_err().to_string();
    assert!(err.contains(name) && err.contains("[8, 16]") && err.contains("[16, 8]"), "{err}");
}

#[test]
fn loads_without_prefix_and_without_heads() {
    let mut config = tiny_config();
    config.architecture = "BertModel".into();
    config.head = Head::None;
    let mut source = RandomSource::new(&config, "");
    source.specs.retain(|s| !s.name.starts_with("pooler") && !s.name.starts_with("classifier"));
    let weights = BertWeights::load(&config, &source).unwrap();
    assert!(weights.pooler.is_none() && weights.classifier.is_none());
    config.architecture = "BertForSequenceClassification".into();
    config.head = Head::SequenceClassification;
    let err = BertWeights::load(&config, &source).unwrap_err().to_string();
    assert!(err.contains("pooler.dense.weight") && err.contains("missing"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any ids, any lengths (including empty and too long): an answer or an error, never a panic,
    /// and answers are finite.
    /// Any ids and token types, any lengths (including empty and too long), in every family:
    /// an answer or an error, never a panic, and answers are finite.
    #[test]
    fn never_panics_on_random_sequences(
        seqs in prop::collection::vec(
            (prop::collection::vec(0u32..53, 0..27), prop::collection::vec(0u32..3, 0..27)),
            0..4,
        ),
        with_types in any::<bool>(),
    ) {
        let batch: Vec<Sequence> = seqs
            .into_iter()
            .map(|(ids, types)| {
                let type_ids = if with_types { types.into_iter().take(ids.len()).collect() } else { Vec::new() };
                Sequence { ids, type_ids }
            })
            .collect();
        for model in family_models() {
            if let Ok(out) = model.forward(&batch, false) {
                prop_assert!(out.last_hidden_state.iter().all(|v| v.is_finite()));
                let logits = model.classify_logits(&out).unwrap();
                prop_assert!(logits.iter().flatten().all(|v| v.is_finite()));
            }
        }
    }
}
