//! `--max-drop`: choose per linear weight the smallest encoding that keeps the whole model within
//! the budget. Each weight is measured alone (all others in the largest candidate), the cheapest
//! steps per byte saved are taken first, and every step is checked end to end on the
//! calibration texts; a step that breaks the budget is undone.

use super::score::Score;
use super::Calibrator;
use crate::blob::{Precision, TensorPlan};
use anyhow::Result;

/// The encodings a linear weight may get, largest first, down to `floor` (`--weights`): with
/// `--weights int8` the search never goes below int8, with `--weights int4` it may.
pub fn ladder(floor: Precision) -> Vec<Precision> {
    const LARGEST_FIRST: [Precision; 3] = [Precision::F16, Precision::Int8, Precision::Int4];
    match LARGEST_FIRST.iter().position(|&p| p == floor) {
        Some(i) => LARGEST_FIRST[..=i].to_vec(),
        None => vec![floor],
    }
}

/// Stored bits per weight (scales left out).
pub fn bits(p: Precision) -> f64 {
    match p {
        Precision::F32 => 32.0,
        Precision::F16 => 16.0,
        Precision::Int8 => 8.0,
        // 4 bits plus one f16 scale per group of 32.
        Precision::Int4 => 4.5,
    }
}

/// One possible step: `name` from `ladder[level - 1]` to `ladder[level]`, at `cost` (error added
/// per bit saved, measured alone).
struct Step {
    cost: f64,
    level: usize,
    name: String,
}

/// The chosen plan and its measured score.
pub fn choose(
    cal: &Calibrator<'_>,
    ladder: &[Precision],
    max_drop: f64,
    log: &mut dyn FnMut(&str),
) -> Result<(TensorPlan, Score)> {
    let weights = cal.linear_sizes();
    let all = |p: Precision| TensorPlan {
        precision: weights.iter().map(|(n, _)| (n.clone(), p)).collect(),
        ..Default::default()
    };
    let top = all(ladder[0]);
    let base = cal.score(&top)?;
    log(&format!("calib: everything {}: {base}", ladder[0]));
    let mut steps = Vec::new();
    for (i, (name, count)) in weights.iter().enumerate() {
        for level in 1..ladder.len() {
            let mut plan = top.clone();
            plan.precision.insert(name.clone(), ladder[level]);
            let s = cal.score(&plan)?;
            let saved = (bits(ladder[level - 1]) - bits(ladder[level])) * *count as f64;
            let cost = (s.error() - base.error()).max(0.0) / saved.max(1.0);
            log(&format!(
                "calib: sensitivity {}/{} {name}={}: error {:.3e} ({:+.3e})",
                i + 1,
                weights.len(),
                ladder[level],
                s.error(),
                s.error() - base.error()
            ));
            steps.push(Step { cost, level, name: name.clone() });
        }
    }
    steps.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.level.cmp(&b.level)).then(a.name.cmp(&b.name)));
    let (mut plan, mut score) = (top, base);
    // A step whose tensor is not yet at the level above waits for the next round (int4 after
    // int8); each step is tried at most once.
    let mut tried = vec![false; steps.len()];
    for _round in 1..ladder.len() {
        for (i, step) in steps.iter().enumerate() {
            if tried[i] || plan.precision.get(&step.name) != Some(&ladder[step.level - 1]) {
                continue;
            }
            tried[i] = true;
            let mut next = plan.clone();
            next.precision.insert(step.name.clone(), ladder[step.level]);
            let s = cal.score(&next)?;
            let keep = s.drop_points() <= max_drop;
            log(&format!(
                "calib: step {}/{} {}={} {}: {s}",
                i + 1,
                steps.len(),
                step.name,
                ladder[step.level],
                if keep { "kept" } else { "undone (over budget)" }
            ));
            if keep {
                (plan, score) = (next, s);
            }
        }
    }
    Ok((plan, score))
}
