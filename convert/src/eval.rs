//! `edgebert eval`: how far a blob run by the engine is from the float reference of its source
//! checkpoint, on a labelled (or unlabelled) text file — accuracy, argmax agreement, cosine of
//! the outputs, logit error, and the error of every layer's hidden states, so a user sees which
//! layer costs accuracy.

use crate::calib::score::Moments;
use crate::reference::ReferencePipeline;
use anyhow::{bail, Context, Result};
use edgebert_engine::Model;
use edgebert_models::{argmax, cosine, Sequence};
use serde::Serialize;
use std::path::Path;

/// One input row: an optional gold label id and the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub label: Option<usize>,
    pub text: String,
}

/// Reads `label<TAB>text` rows (a `label\ttext` header is skipped; backslash escapes `\t`, `\n`,
/// `\\` are decoded), or plain one-text-per-line files.
pub fn read_examples(path: &Path) -> Result<Vec<Example>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line).map_err(|e| {
            anyhow::anyhow!("{}: line {}: invalid UTF-8 at byte {}", path.display(), i + 1, e.valid_up_to())
        })?;
        if line.is_empty() || (i == 0 && line.starts_with("label\t")) {
            continue;
        }
        let example = match line.split_once('\t') {
            Some((label, text)) => {
                let label: usize = label.trim().parse().with_context(|| {
                    format!("{}: line {}: label `{label}` is not a label id", path.display(), i + 1)
                })?;
                Example { label: Some(label), text: unescape(text) }
            }
            None => Example { label: None, text: unescape(line) },
        };
        out.push(example);
    }
    if out.is_empty() {
        bail!("{}: no examples", path.display());
    }
    Ok(out)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Error of one hidden state (embeddings output = layer 0) over all tokens of all examples.
#[derive(Debug, Clone, Serialize)]
pub struct LayerError {
    pub layer: usize,
    pub max_abs: f32,
    /// ‖engine − reference‖² / ‖reference‖² summed over all tokens.
    pub nmse: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub examples: usize,
    /// `classification` or `embedding`.
    pub task: &'static str,
    pub accuracy: Option<f64>,
    pub reference_accuracy: Option<f64>,
    pub argmax_agreement: Option<f64>,
    pub max_abs_logit_error: Option<f32>,
    /// Two-label classifiers: error of the log-odds `logit[1] − logit[0]` against the reference.
    pub log_odds_error: Option<LogOddsError>,
    /// Cosine between engine and reference outputs (logits or embeddings).
    pub cosine_mean: f64,
    pub cosine_min: f64,
    /// Texts the blob tokenizes into other tokens than the reference (only with a pruned
    /// vocabulary); the hidden-state errors leave them out.
    pub tokenization_changed: usize,
    pub layers: Vec<LayerError>,
}

/// Mean, standard deviation and largest magnitude of the log-odds error over the examples.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LogOddsError {
    pub mean: f64,
    pub sd: f64,
    pub max_abs: f64,
}

/// Texts per forward pass.
const BATCH: usize = 16;

pub fn evaluate(
    model: &Model,
    reference: &ReferencePipeline,
    examples: &[Example],
    progress: &mut dyn FnMut(usize),
) -> Result<EvalReport> {
    let classify = model.has_classifier();
    let layers = model.info().config.num_hidden_layers + 1;
    let mut acc = Accumulator::new(layers);
    let mut session = model.session();
    session.keep_layer_states(true);
    for chunk in examples.chunks(BATCH) {
        let texts: Vec<&str> = chunk.iter().map(|e| e.text.as_str()).collect();
        let batch: Vec<Sequence> = reference
            .tokenize(&texts)?
            .into_iter()
            .map(|e| Sequence { ids: e.ids, type_ids: e.type_ids })
            .collect();
        // The engine reads the blob's own tokenization: the same as the reference's, unless the
        // vocabulary was pruned (`--vocab-from`), where ids are renumbered and a dropped word
        // splits into smaller pieces. Texts are compared by token strings.
        let mine_batch: Vec<Sequence> = texts.iter().map(|t| model.tokenize(t)).collect::<Result<_, _>>()?;
        let same: Vec<bool> =
            mine_batch.iter().zip(&batch).map(|(m, r)| same_tokens(model, reference, m, r)).collect();
        acc.tokenization_changed += same.iter().filter(|s| !**s).count();
        let ref_out = reference.checkpoint.model.forward(&batch, true)?;
        let (mine, theirs): (Vec<Vec<f32>>, Vec<Vec<f32>>) = if classify {
            let got = session.classify_sequences(&mine_batch)?;
            let want = reference.checkpoint.model.classify_logits(&ref_out)?;
            for ((g, w), ex) in got.iter().zip(&want).zip(chunk) {
                let want_id = argmax(w);
                acc.agree += usize::from(g.label_id == want_id);
                if let Some(label) = ex.label {
                    acc.labelled += 1;
                    acc.correct += usize::from(g.label_id == label);
                    acc.ref_correct += usize::from(want_id == label);
                }
                if let ([g0, g1], [w0, w1]) = (g.logits.as_slice(), w.as_slice()) {
                    acc.log_odds.push(f64::from(g1 - g0) - f64::from(w1 - w0));
                }
                let err = g.logits.iter().zip(w).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
                acc.max_logit = acc.max_logit.max(err);
            }
            (got.into_iter().map(|c| c.logits).collect(), want)
        } else {
            let pooling = model.info().pooling.unwrap_or_default();
            (
                session.embed_sequences(&mine_batch)?,
                reference.checkpoint.model.embed_pooled(&ref_out, pooling),
            )
        };
        for (a, b) in mine.iter().zip(&theirs) {
            acc.cosines.push(cosine(a, b));
        }
        for (layer, (engine_state, ref_state)) in
            session.layer_states().iter().zip(&ref_out.hidden_states).enumerate()
        {
            let h = ref_out.hidden_size;
            // Hidden states are comparable token by token only where the tokens are the same.
            for b in (0..batch.len()).filter(|&b| same[b]) {
                let rows = session.sequence_rows(b);
                acc.layer(layer, &engine_state[rows.start * h..rows.end * h], ref_out.rows(ref_state, b));
            }
        }
        progress(chunk.len());
    }
    Ok(acc.report(examples.len(), classify))
}

/// Whether the engine's and the reference's tokenizations of one text are the same tokens.
fn same_tokens(model: &Model, reference: &ReferencePipeline, mine: &Sequence, theirs: &Sequence) -> bool {
    let (a, b) = (model.tokenizer(), reference.tokenizer());
    mine.ids.len() == theirs.ids.len()
        && mine.ids.iter().zip(&theirs.ids).all(|(&m, &t)| a.id_to_token(m) == b.id_to_token(t))
}

struct Accumulator {
    tokenization_changed: usize,
    agree: usize,
    labelled: usize,
    correct: usize,
    ref_correct: usize,
    max_logit: f32,
    log_odds: Vec<f64>,
    cosines: Vec<f64>,
    max_abs: Vec<f32>,
    err_sq: Vec<f64>,
    ref_sq: Vec<f64>,
}

impl Accumulator {
    fn new(layers: usize) -> Self {
        Accumulator {
            tokenization_changed: 0,
            agree: 0,
            labelled: 0,
            correct: 0,
            ref_correct: 0,
            max_logit: 0.0,
            log_odds: Vec::new(),
            cosines: Vec::new(),
            max_abs: vec![0.0; layers],
            err_sq: vec![0.0; layers],
            ref_sq: vec![0.0; layers],
        }
    }

    fn layer(&mut self, layer: usize, got: &[f32], want: &[f32]) {
        for (g, w) in got.iter().zip(want) {
            let d = g - w;
            self.max_abs[layer] = self.max_abs[layer].max(d.abs());
            self.err_sq[layer] += (d as f64).powi(2);
            self.ref_sq[layer] += (*w as f64).powi(2);
        }
    }

    fn report(self, n: usize, classify: bool) -> EvalReport {
        let frac = |k: usize, of: usize| (of > 0).then(|| k as f64 / of as f64);
        EvalReport {
            examples: n,
            task: if classify { "classification" } else { "embedding" },
            accuracy: if classify { frac(self.correct, self.labelled) } else { None },
            reference_accuracy: if classify { frac(self.ref_correct, self.labelled) } else { None },
            argmax_agreement: if classify { frac(self.agree, n) } else { None },
            max_abs_logit_error: classify.then_some(self.max_logit),
            log_odds_error: (!self.log_odds.is_empty()).then(|| {
                let m = Moments::of(&self.log_odds);
                LogOddsError { mean: m.mean, sd: m.sd, max_abs: m.max_abs }
            }),
            cosine_mean: self.cosines.iter().sum::<f64>() / self.cosines.len().max(1) as f64,
            cosine_min: self.cosines.iter().copied().fold(1.0, f64::min),
            tokenization_changed: self.tokenization_changed,
            layers: (0..self.max_abs.len())
                .map(|l| LayerError {
                    layer: l,
                    max_abs: self.max_abs[l],
                    nmse: self.err_sq[l] / self.ref_sq[l].max(f64::MIN_POSITIVE),
                })
                .collect(),
        }
    }
}
