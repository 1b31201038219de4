//! `edgebert convert --calib TEXTS`: the float reference run on calibration texts, and what the
//! measurements buy.
//!
//! - Bias correction ([`bias`]): each linear layer's bias absorbs the mean output shift its
//!   quantized weight causes on the calibration activations; kept only when it lowers the
//!   log-odds (or cosine) error on the calibration texts.
//! - `--max-drop P` ([`search`]): per-tensor encodings chosen against a measured budget.
//! - GPTQ ([`gptq`]), with `--weights int4`: int4 linear weights quantized column by column
//!   with the rounding error pushed onto the later inputs through the inverse Hessian of the
//!   calibration activations (instead of rounding each weight to its nearest level).
//!
//! Not done, and why: clipped activation ranges (the engine quantizes activations per row at run
//! time from each row's own maximum, so there is no stored range to clip), and SmoothQuant's
//! folding of per-channel scales into the preceding LayerNorm (in a post-LayerNorm encoder the
//! LayerNorm's output is also the residual, which the scales would change).

pub mod bias;
pub mod gptq;
pub mod observe;
pub mod score;
pub mod search;
pub mod texts;

use crate::blob::model::{linears, tensors_planned};
use crate::blob::{blob_bytes, ModelDescription, Precision, Recipe, TensorPlan};
use anyhow::{Context, Result};
use edgebert_engine::blob::MetaValue;
use edgebert_engine::tokenizer::TextTokenizer;
use edgebert_models::schema::layer_name;
use edgebert_models::BertModel;
use edgebert_models::Sequence;
use gptq::Gram;
use gptq::{gptq_int4, Int4Weight};
use observe::{gram_key, observe, GramRequest, Observed};
use score::{run_blob, Score};
use std::collections::BTreeMap;
use std::path::PathBuf;
use texts::read_calib_texts;

/// Calibration texts used when `--calib-limit` is not given.
pub const DEFAULT_LIMIT: usize = 256;

/// `--bias-correction`: whether calibrated biases go into the blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BiasCorrection {
    /// When it lowers the error on the calibration texts (without losing agreement).
    #[default]
    Auto,
    On,
    Off,
}

/// What `--calib`, `--calib-limit`, `--max-drop` and `--bias-correction` ask for.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibOptions {
    pub texts: PathBuf,
    pub limit: usize,
    /// Budget in percentage points (see [`Score::drop_points`]); `None`: no precision search.
    pub max_drop: Option<f64>,
    pub bias_correction: BiasCorrection,
    /// With int4 weights: GPTQ instead of rounding to nearest (`--gptq`).
    pub gptq: bool,
    /// GPTQ's relative dampening of the Hessian (`--gptq-damp`).
    pub gptq_damp: f64,
    /// What GPTQ's Hessians are measured on (`--gptq-inputs`).
    pub gptq_inputs: GptqInputs,
    /// After GPTQ, re-fit each row's group scales to its integers by least squares under `H`
    /// (`--gptq-refit`).
    pub gptq_refit: bool,
}

/// The activations GPTQ's Hessian `2·XᵀX` is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GptqInputs {
    /// The float reference's input to each linear.
    #[default]
    Float,
    /// The same, each row rounded as the engine's int8 activation quantization rounds it.
    Int8,
    /// Layer by layer: the inputs of the float model whose earlier layers already carry their
    /// GPTQ int4 weights, int8-rounded (what the engine feeds, up to its other roundings).
    Sequential,
}

impl GptqInputs {
    pub fn name(self) -> &'static str {
        match self {
            Self::Float => "float reference inputs",
            Self::Int8 => "int8-rounded reference inputs",
            Self::Sequential => "int8-rounded inputs of the model quantized layer by layer",
        }
    }
}

impl CalibOptions {
    pub fn new(texts: PathBuf) -> CalibOptions {
        CalibOptions {
            texts,
            limit: DEFAULT_LIMIT,
            max_drop: None,
            bias_correction: BiasCorrection::Auto,
            gptq: true,
            gptq_damp: gptq::DAMP,
            gptq_inputs: GptqInputs::Float,
            gptq_refit: false,
        }
    }
}

/// What calibration measured and chose.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibReport {
    pub texts: usize,
    pub available: usize,
    /// The file had `label<TAB>text` rows; their text column was used.
    pub tabular: bool,
    /// The blob without calibration (the recipe and `--keep-f16` alone).
    pub before: Score,
    /// With the chosen encodings, before bias correction.
    pub chosen: Score,
    /// The final blob's score.
    pub after: Score,
    pub bias_corrected: bool,
    pub max_drop: Option<f64>,
    /// `tensor=encoding` for every linear weight.
    pub recipe: Vec<String>,
    /// How GPTQ chose the int4 weights (the `quant.gptq` metadata), when it did.
    pub gptq: Option<String>,
}

impl CalibReport {
    /// The `quant.calib` metadata value.
    pub fn summary(&self) -> String {
        let budget = self.max_drop.map_or(String::new(), |p| format!(", max-drop {p} points"));
        let gptq = if self.gptq.is_some() { ", int4 by GPTQ" } else { "" };
        format!(
            "{} texts{budget}{gptq}, bias correction {}; {}",
            self.texts,
            if self.bias_corrected { "on" } else { "off" },
            self.after
        )
    }
}

/// A model, its reference outputs on the calibration texts, and a way to score candidates.
pub struct Calibrator<'a> {
    d: &'a ModelDescription<'a>,
    recipe: Recipe,
    metadata: &'a [(String, MetaValue)],
    sequences: Vec<Sequence>,
    observed: Observed,
    bias_correction: bool,
    /// GPTQ's int4 weights, used wherever a plan stores a weight in int4.
    gptq: BTreeMap<String, Int4Weight>,
}

impl Calibrator<'_> {
    /// The linear weights and their element counts, in blob order.
    pub fn linear_sizes(&self) -> Vec<(String, usize)> {
        linears(self.d).into_iter().map(|(n, l)| (n, l.weight.len())).collect()
    }

    /// `plan` with GPTQ's values for every weight it stores in int4.
    fn with_gptq(&self, plan: &TensorPlan) -> TensorPlan {
        let mut out = plan.clone();
        for (name, w) in &self.gptq {
            if plan.precision.get(name).copied().unwrap_or(self.recipe.weights) == Precision::Int4 {
                out.int4.entry(name.clone()).or_insert_with(|| w.clone());
            }
        }
        out
    }

    /// `plan` with every linear's bias corrected for its encoding.
    fn with_bias(&self, plan: &TensorPlan) -> TensorPlan {
        let mut out = self.with_gptq(plan);
        for (name, l) in linears(self.d) {
            let Some(mean) = self.observed.mean_input.get(&name) else { continue };
            let p = plan.precision.get(&name).copied().unwrap_or(self.recipe.weights);
            let bias_name = format!("{}.bias", name.strip_suffix(".weight").unwrap_or(&name));
            let b = match out.int4.get(&name).filter(|_| p == Precision::Int4) {
                Some(w) => bias::corrected_bias_for(l, mean, &w.dequantized()),
                None => bias::corrected_bias(l, mean, p),
            };
            out.bias.insert(bias_name, b);
        }
        out
    }

    /// The engine's score for the blob `plan` describes (bias-corrected when asked).
    pub fn score(&self, plan: &TensorPlan) -> Result<Score> {
        let plan = if self.bias_correction { self.with_bias(plan) } else { self.with_gptq(plan) };
        self.score_exact(&plan)
    }

    /// GPTQ for the linear weights `only` accepts, from the Gram matrices in `grams` (consumed;
    /// progress per weight to `log`). Returns how many were quantized and how many fell back to
    /// rounding to nearest.
    fn run_gptq(
        &mut self,
        grams: &mut BTreeMap<String, Gram>,
        only: &dyn Fn(&str) -> bool,
        options: &CalibOptions,
        log: &mut dyn FnMut(&str),
    ) -> (usize, usize) {
        let damp = options.gptq_damp;
        let all = linears(self.d);
        let mut hessian: Option<(String, Vec<f64>)> = None;
        let (mut done, mut fallback) = (0, 0);
        for (i, (name, l)) in all.iter().enumerate().filter(|(_, (n, _))| only(n)) {
            let at = format!("calib: gptq {}/{} {name}", i + 1, all.len());
            let key = gram_key(name);
            if hessian.as_ref().is_none_or(|(k, _)| *k != key) {
                hessian = grams.remove(&key).map(|mut g| (key.clone(), g.hessian()));
            }
            let Some((_, h)) = hessian.as_ref().filter(|(_, h)| h.len() == l.in_dim * l.in_dim) else {
                log(&format!("{at}: input not observed, rounded to nearest"));
                fallback += 1;
                continue;
            };
            let started = std::time::Instant::now();
            let Some(mut w) = gptq_int4(&l.weight, l.out_dim, l.in_dim, h, damp) else {
                log(&format!("{at}: Hessian not positive definite, rounded to nearest"));
                fallback += 1;
                continue;
            };
            if options.gptq_refit {
                gptq::refit_scales(&l.weight, h, damp, &mut w);
            }
            let rtn = gptq::output_error(&bias::dequantized(l, Precision::Int4), &l.weight, h, l.in_dim);
            let ours = gptq::output_error(&w.dequantized(), &l.weight, h, l.in_dim);
            log(&format!(
                "{at} [{}, {}]: output error {rtn:.3e} -> {ours:.3e} ({:.0}% of rounding; {:.1} s)",
                l.out_dim,
                l.in_dim,
                100.0 * ours / rtn.max(f64::MIN_POSITIVE),
                started.elapsed().as_secs_f64()
            ));
            self.gptq.insert(name.clone(), w);
            done += 1;
        }
        (done, fallback)
    }

    /// GPTQ for every linear weight (see [`GptqInputs`]); returns the `quant.gptq` description.
    fn gptq_all(&mut self, options: &CalibOptions, log: &mut dyn FnMut(&str)) -> Result<String> {
        let (damp, inputs) = (options.gptq_damp, options.gptq_inputs);
        let refit = if options.gptq_refit { ", scales re-fit by least squares under H" } else { "" };
        let mut grams = std::mem::take(&mut self.observed.grams);
        let layers = self.d.model.weights.layers.len();
        let (mut done, mut fallback) = (0, 0);
        let mut add = |(a, b): (usize, usize)| {
            done += a;
            fallback += b;
        };
        if inputs == GptqInputs::Sequential && !self.d.model.config.shared_layers {
            let in_layer = |i: usize| move |n: &str| n.starts_with(&layer_name(i, ""));
            add(self.run_gptq(&mut grams, &in_layer(0), options, log));
            for i in 1..=layers {
                // The float model with layers 0..i in their GPTQ weights, observed at layer i
                // (or, past the last layer, at the pooler and classifier).
                let model = self.partly_quantized(i);
                let d = ModelDescription {
                    model: &model,
                    tokenizer: self.d.tokenizer,
                    pooling: self.d.pooling,
                    max_seq_len: self.d.max_seq_len,
                    source_sha256: String::new(),
                };
                let wanted =
                    move |n: &str| if i < layers { in_layer(i)(n) } else { !n.starts_with("encoder.layer.") };
                if i == layers && linears(self.d).iter().all(|(n, _)| n.starts_with("encoder.layer.")) {
                    break;
                }
                log(&format!("calib: gptq inputs of layer {i} with layers 0..{i} quantized"));
                let request = GramRequest { wanted: &wanted, int8_rows: true };
                let mut g = observe(&d, &self.sequences, Some(&request), &mut |_, _| {})?.grams;
                add(self.run_gptq(&mut g, &wanted, options, log));
            }
        } else {
            add(self.run_gptq(&mut grams, &|_| true, options, log));
        }
        Ok(format!(
            "GPTQ on {} texts ({}): {done} int4 linears ({fallback} rounded to nearest), groups of 32 in \
             order, scales by clipping search on the error-updated weights{refit}, damp {damp}·mean(diag H)",
            self.sequences.len(),
            inputs.name()
        ))
    }

    fn score_exact(&self, plan: &TensorPlan) -> Result<Score> {
        let tensors = tensors_planned(self.d, self.recipe, plan, &mut |_, _, _| {})?;
        let got = run_blob(&blob_bytes(self.metadata, &tensors), &self.sequences, self.observed.task)?;
        Ok(Score::of(self.observed.task, &self.observed.reference, &got))
    }

    /// The float model with the linears of layers `0..layers` replaced by their GPTQ weights.
    fn partly_quantized(&self, layers: usize) -> BertModel {
        let mut model = self.d.model.clone();
        for (i, layer) in model.weights.layers.iter_mut().enumerate().take(layers) {
            let parts = [
                ("attention.self.query", &mut layer.query),
                ("attention.self.key", &mut layer.key),
                ("attention.self.value", &mut layer.value),
                ("attention.output.dense", &mut layer.attention_output),
                ("intermediate.dense", &mut layer.intermediate),
                ("output.dense", &mut layer.output),
            ];
            for (part, linear) in parts {
                if let Some(w) = self.gptq.get(&format!("{}.weight", layer_name(i, part))) {
                    linear.weight = w.dequantized();
                }
            }
        }
        model
    }
}

/// Runs calibration for the model `d` describes, starting from `base` (the `--keep-f16` plan);
/// `metadata` is the blob's, `log` gets progress lines.
pub fn calibrate(
    d: &ModelDescription<'_>,
    recipe: Recipe,
    base: TensorPlan,
    metadata: &[(String, MetaValue)],
    options: &CalibOptions,
    log: &mut dyn FnMut(&str),
) -> Result<(TensorPlan, CalibReport)> {
    let texts = read_calib_texts(&options.texts, options.limit)?;
    let tokenizer = TextTokenizer::new(d.tokenizer, d.max_seq_len).context("cannot build the tokenizer")?;
    let sequences = texts
        .texts
        .iter()
        .map(|t| tokenizer.encode(t).map(|e| Sequence { ids: e.ids, type_ids: e.type_ids }))
        .collect::<Result<Vec<_>, _>>()?;
    log(&format!(
        "calib: float reference over {} of {} texts of {}{}",
        sequences.len(),
        texts.available,
        options.texts.display(),
        if texts.tabular { " (text column)" } else { "" }
    ));
    let mut last = 0;
    let want_gptq = options.gptq && recipe.weights == Precision::Int4;
    let sequential = options.gptq_inputs == GptqInputs::Sequential && !d.model.config.shared_layers;
    // Sequential GPTQ measures layer 0 here and the later layers on partly quantized models.
    let wanted = |n: &str| !sequential || n.starts_with(&layer_name(0, ""));
    let request = GramRequest { wanted: &wanted, int8_rows: options.gptq_inputs != GptqInputs::Float };
    let observed = observe(d, &sequences, want_gptq.then_some(&request), &mut |done, total| {
        if done * 10 / total.max(1) != last {
            last = done * 10 / total.max(1);
            log(&format!("calib: reference {done}/{total}"));
        }
    })?;
    let mut cal = Calibrator {
        d,
        recipe,
        metadata,
        sequences,
        observed,
        bias_correction: false,
        gptq: BTreeMap::new(),
    };
    let before = cal.score(&base)?;
    log(&format!("calib: without calibration: {before}"));
    let (mut gptq_summary, mut base_score) = (None, before.clone());
    if want_gptq {
        gptq_summary = Some(cal.gptq_all(options, log)?);
        base_score = cal.score(&base)?;
        log(&format!("calib: with GPTQ int4 weights: {base_score}"));
    }
    let (plan, chosen) = match options.max_drop {
        Some(p) => {
            cal.bias_correction = options.bias_correction != BiasCorrection::Off;
            let (plan, _) = search::choose(&cal, &search::ladder(recipe.weights), p, log)?;
            cal.bias_correction = false;
            let s = cal.score(&plan)?;
            (cal.with_gptq(&plan), s)
        }
        None => (cal.with_gptq(&base), base_score),
    };
    let (mut plan, mut after, mut bias_corrected) = (plan, chosen.clone(), false);
    if options.bias_correction != BiasCorrection::Off {
        let corrected = cal.with_bias(&plan);
        let s = cal.score_exact(&corrected)?;
        log(&format!("calib: with bias correction: {s}"));
        let helps = s.error() < chosen.error() && s.drop_points() <= chosen.drop_points();
        if helps || options.bias_correction == BiasCorrection::On {
            (plan, after, bias_corrected) = (corrected, s, true);
        }
    }
    if let Some(p) = options.max_drop {
        if after.drop_points() > p {
            log(&format!("calib: the chosen blob is {:.3} points off, over the budget", after.drop_points()));
        }
    }
    let recipe_lines = plan.recipe_lines(d, recipe);
    let report = CalibReport {
        texts: texts.texts.len(),
        available: texts.available,
        tabular: texts.tabular,
        before,
        chosen,
        after,
        bias_corrected,
        max_drop: options.max_drop,
        recipe: recipe_lines,
        gptq: gptq_summary,
    };
    Ok((plan, report))
}
