//! The backward pass against central finite differences: every weight of small random models
//! (proptest over shapes, batches and dropout), and each loss on its own.

#[allow(dead_code)]
mod random_model;

use edgebert_kernels::Kernels;
use edgebert_models::train::{
    backward, forward, kl_div_with_temperature, mse, softmax_cross_entropy, tensors_mut, zeros_like, Batch,
    Dropout, Gemm, PackedModel, Rng,
};
use edgebert_models::{Activation, BertModel, BertWeights, Config, Family, Head, Sequence};
use proptest::prelude::*;
use random_model::RandomSource;

/// Central differences in f32 with this step: truncation error ~step², rounding ~1e-7/step.
const STEP: f32 = 1e-2;
/// |numeric − analytic| ≤ ABS + REL · max(|numeric|, |analytic|).
const ABS: f32 = 3e-3;
const REL: f32 = 3e-2;

struct Case {
    model: BertModel,
    sequences: Vec<Sequence>,
    labels: Vec<usize>,
    teacher: Vec<f32>,
    /// Target for the hidden-state MSE on state 1 (the first layer's output).
    target: Vec<f32>,
    dropout: Dropout,
}

fn config(hidden: usize, heads: usize, layers: usize, inter: usize, labels: usize) -> Config {
    Config {
        architecture: "BertForSequenceClassification".into(),
        family: Family::Bert,
        head: Head::SequenceClassification,
        embedding_size: hidden,
        position_offset: 0,
        hidden_act: Activation::GeluErf,
        shared_layers: false,
        vocab_size: 13,
        hidden_size: hidden,
        num_hidden_layers: layers,
        num_attention_heads: heads,
        intermediate_size: inter,
        max_position_embeddings: 7,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        id2label: (0..labels).map(|i| format!("L{i}")).collect(),
        problem_type: None,
    }
}

fn case(cfg: Config, lengths: &[usize], seed: u64, dropout: bool) -> Case {
    let mut weights = BertWeights::load(&cfg, &RandomSource::new(&cfg, "bert.")).expect("random weights");
    let mut rng = Rng::new(seed);
    for (_, t) in tensors_mut(&mut weights) {
        t.iter_mut().for_each(|v| *v += 0.2 * (rng.uniform() - 0.5));
    }
    let sequences: Vec<Sequence> = lengths
        .iter()
        .map(|&len| Sequence {
            ids: (0..len).map(|_| rng.below(cfg.vocab_size) as u32).collect(),
            type_ids: (0..len).map(|_| rng.below(2) as u32).collect(),
        })
        .collect();
    let classes = cfg.id2label.len();
    let labels = lengths.iter().map(|_| rng.below(classes)).collect();
    let teacher = (0..lengths.len() * classes).map(|_| 2.0 * rng.normal()).collect();
    let rows: usize = lengths.iter().sum();
    let target = (0..rows * cfg.hidden_size).map(|_| rng.normal()).collect();
    let dropout = if dropout { Dropout { hidden: 0.2, attention: 0.2, seed } } else { Dropout::off() };
    Case { model: BertModel::new(cfg, weights), sequences, labels, teacher, target, dropout }
}

/// The loss of a distillation step with every term on: 0.5·CE + 0.5·KL(T=2) + MSE on state 1.
fn loss_and_grads(c: &Case, want_grads: bool) -> (f32, Option<BertWeights>) {
    let mut gemm = Gemm::new(Kernels::selected());
    let packed = PackedModel::new(&c.model.weights);
    let batch = Batch::new(&c.model, &c.sequences).expect("valid batch");
    let tape = forward(&c.model, &packed, batch, c.dropout, &mut gemm);
    let n = c.labels.len() as f32;
    let classes = c.model.config.id2label.len();
    let ce = softmax_cross_entropy(&tape.logits, classes, &c.labels, n);
    let kl = kl_div_with_temperature(&tape.logits, &c.teacher, classes, 2.0, n);
    let hid = mse(&tape.states[1], &c.target, c.target.len() as f32);
    let loss = 0.5 * ce.loss + 0.5 * kl.loss + hid.loss;
    if !want_grads {
        return (loss, None);
    }
    let d_logits: Vec<f32> = ce.grad.iter().zip(&kl.grad).map(|(a, b)| 0.5 * a + 0.5 * b).collect();
    let mut grads = zeros_like(&c.model.weights);
    backward(&c.model, &packed, &tape, Some(&d_logits), &[(1, hid.grad)], &mut grads, &mut gemm);
    (loss, Some(grads))
}

/// Compares every weight's analytic gradient with central differences; returns the worst
/// violation ratio (≤ 1 passes) and where it happened.
fn check_model(mut c: Case) -> (f32, String) {
    let (_, grads) = loss_and_grads(&c, true);
    let mut grads = grads.expect("asked for gradients");
    let analytic: Vec<Vec<f32>> = tensors_mut(&mut grads).into_iter().map(|(_, t)| t.clone()).collect();
    let mut worst = (0.0f32, String::new());
    for (ti, tensor) in analytic.iter().enumerate() {
        for (i, &a) in tensor.iter().enumerate() {
            let original = tensors_mut(&mut c.model.weights)[ti].1[i];
            let mut central = |step: f32| {
                tensors_mut(&mut c.model.weights)[ti].1[i] = original + step;
                let plus = loss_and_grads(&c, false).0;
                tensors_mut(&mut c.model.weights)[ti].1[i] = original - step;
                let minus = loss_and_grads(&c, false).0;
                (plus - minus) / (2.0 * step)
            };
            // Richardson extrapolation cancels the O(step²) error of the central difference,
            // which is large for LayerNorm over very few dimensions (hidden size 2 or 3). When a
            // sharp bend of the loss lies within the step (seen: a 1e-2 step 2x off, a 3e-4 step
            // within 1e-3 of the analytic value), smaller steps decide; a wrong gradient disagrees
            // at every step.
            let mut best = (f32::INFINITY, 0.0f32);
            for step in [STEP, STEP / 10.0, STEP / 30.0] {
                let (coarse, fine) = (central(step), central(step / 2.0));
                let numeric = (4.0 * fine - coarse) / 3.0;
                let ratio = (numeric - a).abs() / (ABS + REL * numeric.abs().max(a.abs()));
                if ratio < best.0 {
                    best = (ratio, numeric);
                }
                if ratio <= 1.0 {
                    break;
                }
            }
            tensors_mut(&mut c.model.weights)[ti].1[i] = original;
            let (ratio, numeric) = best;
            if ratio > worst.0 {
                worst = (ratio, format!("tensor {ti} index {i}: numeric {numeric}, analytic {a}"));
            }
        }
    }
    worst
}

#[test]
fn every_weight_of_a_two_layer_model_with_dropout() {
    let (ratio, at) = check_model(case(config(8, 2, 2, 12, 3), &[4, 1, 6], 7, true));
    assert!(ratio <= 1.0, "finite differences disagree at {at} (ratio {ratio})");
}

#[test]
fn gradients_are_exactly_additive_over_chunks() {
    // Chunks of a batch on different threads must add up to the whole batch's gradient.
    let c = case(config(8, 2, 1, 12, 2), &[3, 5], 3, false);
    let mut parts = zeros_like(&c.model.weights);
    for k in 0..2 {
        let part = Case {
            model: c.model.clone(),
            sequences: vec![c.sequences[k].clone()],
            labels: vec![c.labels[k]],
            teacher: c.teacher[k * 2..k * 2 + 2].to_vec(),
            target: vec![0.0; c.sequences[k].ids.len() * 8],
            dropout: c.dropout,
        };
        let mut gemm = Gemm::new(Kernels::selected());
        let packed = PackedModel::new(&part.model.weights);
        let tape = forward(
            &part.model,
            &packed,
            Batch::new(&part.model, &part.sequences).unwrap(),
            part.dropout,
            &mut gemm,
        );
        let ce = softmax_cross_entropy(&tape.logits, 2, &part.labels, 2.0);
        backward(&part.model, &packed, &tape, Some(&ce.grad), &[], &mut parts, &mut gemm);
    }
    // Cross-entropy alone on the whole batch must give the sum of the per-sequence gradients.
    let mut gemm = Gemm::new(Kernels::selected());
    let packed = PackedModel::new(&c.model.weights);
    let tape = forward(&c.model, &packed, Batch::new(&c.model, &c.sequences).unwrap(), c.dropout, &mut gemm);
    let ce = softmax_cross_entropy(&tape.logits, 2, &c.labels, 2.0);
    let mut ce_grads = zeros_like(&c.model.weights);
    backward(&c.model, &packed, &tape, Some(&ce.grad), &[], &mut ce_grads, &mut gemm);
    for ((_, a), (_, b)) in tensors_mut(&mut ce_grads).into_iter().zip(tensors_mut(&mut parts)) {
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() <= 1e-5 + 1e-4 * x.abs(), "{x} vs {y}");
        }
    }
}

type LossFn<'a> = Box<dyn Fn(&[f32]) -> (f32, Vec<f32>) + 'a>;

#[test]
fn losses_match_finite_differences() {
    let mut rng = Rng::new(11);
    let (rows, classes) = (3, 4);
    let logits: Vec<f32> = (0..rows * classes).map(|_| 3.0 * rng.normal()).collect();
    let teacher: Vec<f32> = (0..rows * classes).map(|_| 3.0 * rng.normal()).collect();
    let labels = [0usize, 3, 1];
    let fns: Vec<LossFn> = vec![
        Box::new(|x| {
            let l = softmax_cross_entropy(x, classes, &labels, 3.0);
            (l.loss, l.grad)
        }),
        Box::new(|x| {
            let l = kl_div_with_temperature(x, &teacher, classes, 2.5, 3.0);
            (l.loss, l.grad)
        }),
        Box::new(|x| {
            let l = mse(x, &teacher, 5.0);
            (l.loss, l.grad)
        }),
    ];
    for f in &fns {
        let (_, grad) = f(&logits);
        for i in 0..logits.len() {
            let mut x = logits.clone();
            x[i] += STEP;
            let plus = f(&x).0;
            x[i] -= 2.0 * STEP;
            let minus = f(&x).0;
            let numeric = (plus - minus) / (2.0 * STEP);
            assert!((numeric - grad[i]).abs() <= ABS + REL * numeric.abs(), "{numeric} vs {}", grad[i]);
        }
    }
    // KL of identical distributions is 0 with a 0 gradient.
    let same = kl_div_with_temperature(&teacher, &teacher, classes, 2.0, 1.0);
    assert!(same.loss.abs() < 1e-5 && same.grad.iter().all(|g| g.abs() < 1e-6));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn every_weight_of_random_small_models(
        heads in 1usize..=2,
        head_dim in 2usize..=4,
        layers in 1usize..=2,
        inter in 3usize..=9,
        labels in 2usize..=3,
        lengths in proptest::collection::vec(1usize..=6, 1..=3),
        seed in any::<u64>(),
        dropout in any::<bool>(),
    ) {
        // LayerNorm over 2 or 3 values is nearly a sign function (its output is ±1 for 2): finite
        // differences straddle its kinks there, so the check needs at least 4 hidden dimensions.
        prop_assume!(heads * head_dim >= 4);
        let cfg = config(heads * head_dim, heads, layers, inter, labels);
        let (ratio, at) = check_model(case(cfg, &lengths, seed, dropout));
        prop_assert!(ratio <= 1.0, "finite differences disagree at {} (ratio {})", at, ratio);
    }
}
