//! Training losses and their gradients with respect to their inputs. Each is a sum over the
//! given rows divided by `denominator` (the number of examples of the whole batch, so that the
//! chunks of a batch processed on different threads add up to the batch mean).

/// A loss value and its gradient with respect to the input it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct LossGrad {
    pub loss: f32,
    pub grad: Vec<f32>,
}

fn log_softmax(row: &[f32], temperature: f32) -> Vec<f32> {
    let scaled: Vec<f32> = row.iter().map(|v| v / temperature).collect();
    let max = scaled.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max + scaled.iter().map(|v| (v - max).exp()).sum::<f32>().ln();
    scaled.iter().map(|v| v - lse).collect()
}

/// `−log softmax(logits)[label]` per row (`logits` `[rows, classes]`).
pub fn softmax_cross_entropy(logits: &[f32], classes: usize, labels: &[usize], denominator: f32) -> LossGrad {
    assert_eq!(logits.len(), labels.len() * classes, "cross_entropy: logits must be [rows, classes]");
    let mut grad = vec![0.0f32; logits.len()];
    let mut loss = 0.0f32;
    for ((row, g), &label) in logits.chunks_exact(classes).zip(grad.chunks_exact_mut(classes)).zip(labels) {
        assert!(label < classes, "cross_entropy: label {label} outside {classes} classes");
        let lp = log_softmax(row, 1.0);
        loss -= lp[label];
        for (i, gi) in g.iter_mut().enumerate() {
            *gi = (lp[i].exp() - if i == label { 1.0 } else { 0.0 }) / denominator;
        }
    }
    LossGrad { loss: loss / denominator, grad }
}

/// Distillation's soft-target loss: `T²·KL(softmax(teacher/T) ‖ softmax(student/T))` per row,
/// the `T²` keeping gradient sizes comparable across temperatures (Hinton et al.).
pub fn kl_div_with_temperature(
    student: &[f32],
    teacher: &[f32],
    classes: usize,
    temperature: f32,
    denominator: f32,
) -> LossGrad {
    assert_eq!(student.len(), teacher.len(), "kl_div: student and teacher logits differ in shape");
    let t = temperature;
    let mut grad = vec![0.0f32; student.len()];
    let mut loss = 0.0f32;
    for ((s, te), g) in
        student.chunks_exact(classes).zip(teacher.chunks_exact(classes)).zip(grad.chunks_exact_mut(classes))
    {
        let (ls, lt) = (log_softmax(s, t), log_softmax(te, t));
        for i in 0..classes {
            let pt = lt[i].exp();
            loss += t * t * pt * (lt[i] - ls[i]);
            g[i] = t * (ls[i].exp() - pt) / denominator;
        }
    }
    LossGrad { loss: loss / denominator, grad }
}

/// `Σ (a − b)² / denominator`; the gradient is with respect to `a`.
pub fn mse(a: &[f32], b: &[f32], denominator: f32) -> LossGrad {
    assert_eq!(a.len(), b.len(), "mse: shapes differ");
    let loss = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>() / denominator;
    let grad = a.iter().zip(b).map(|(x, y)| 2.0 * (x - y) / denominator).collect();
    LossGrad { loss, grad }
}
