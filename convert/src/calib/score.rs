//! A candidate blob run by the engine on the calibration texts, against the float reference.

use super::observe::Task;
use anyhow::{Context, Result};
use edgebert_engine::blob::Blob;
use edgebert_engine::Model;
use edgebert_models::{argmax, cosine, Sequence};
use std::fmt;

/// Texts per engine call.
const BATCH: usize = 16;

/// Mean, standard deviation and largest magnitude of an error.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub mean: f64,
    pub sd: f64,
    pub max_abs: f64,
}

impl Moments {
    pub fn of(values: &[f64]) -> Moments {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let max_abs = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        Moments { mean, sd: var.sqrt(), max_abs }
    }
}

/// How far a blob's outputs are from the reference's.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub task: Task,
    pub texts: usize,
    /// Classifiers: texts whose label is the reference's.
    pub agree: usize,
    /// Classifiers: error of the log-odds `logit[1] − logit[0]` (two labels), or of the margin
    /// between the reference's top two labels (more labels).
    pub log_odds: Option<Moments>,
    pub cosine_mean: f64,
    pub cosine_min: f64,
}

impl Score {
    pub fn of(task: Task, reference: &[Vec<f32>], got: &[Vec<f32>]) -> Score {
        let cosines: Vec<f64> = reference.iter().zip(got).map(|(w, g)| cosine(g, w)).collect();
        let (agree, log_odds) = match task {
            Task::Classify => {
                let agree = reference.iter().zip(got).filter(|(w, g)| argmax(w) == argmax(g)).count();
                let errors: Vec<f64> = reference.iter().zip(got).map(|(w, g)| margin_error(w, g)).collect();
                (agree, Some(Moments::of(&errors)))
            }
            Task::Embed => (0, None),
        };
        Score {
            task,
            texts: reference.len(),
            agree,
            log_odds,
            cosine_mean: cosines.iter().sum::<f64>() / cosines.len().max(1) as f64,
            cosine_min: cosines.iter().copied().fold(1.0, f64::min),
        }
    }

    /// What `--max-drop` bounds, in percentage points: of argmax agreement with the reference
    /// (classifiers), of the mean cosine with the reference embedding (encoders).
    pub fn drop_points(&self) -> f64 {
        match self.task {
            Task::Classify => 100.0 * (self.texts - self.agree) as f64 / self.texts.max(1) as f64,
            Task::Embed => 100.0 * (1.0 - self.cosine_mean),
        }
    }

    /// The finer error the search ranks tensors by: the mean squared log-odds error
    /// (classifiers), one minus the mean cosine (encoders).
    pub fn error(&self) -> f64 {
        match self.log_odds {
            Some(m) => m.sd * m.sd + m.mean * m.mean,
            None => 1.0 - self.cosine_mean,
        }
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.log_odds {
            Some(m) => write!(
                f,
                "agreement {:.2}% ({} flips of {}), log-odds error mean {:+.4} sd {:.4} max {:.4}",
                100.0 * self.agree as f64 / self.texts.max(1) as f64,
                self.texts - self.agree,
                self.texts,
                m.mean,
                m.sd,
                m.max_abs
            ),
            None => write!(
                f,
                "embedding cosine mean {:.6} min {:.6} over {} texts",
                self.cosine_mean, self.cosine_min, self.texts
            ),
        }
    }
}

fn margin_error(want: &[f32], got: &[f32]) -> f64 {
    if want.len() == 2 {
        return f64::from(got[1] - got[0]) - f64::from(want[1] - want[0]);
    }
    let top = argmax(want);
    let second = (0..want.len()).filter(|&i| i != top).max_by(|&a, &b| want[a].total_cmp(&want[b]));
    second.map_or(0.0, |s| f64::from(got[top] - got[s]) - f64::from(want[top] - want[s]))
}

/// Opens `bytes` as a blob and runs the engine over `sequences`: logits or embeddings.
pub fn run_blob(bytes: &[u8], sequences: &[Sequence], task: Task) -> Result<Vec<Vec<f32>>> {
    let blob = Blob::from_bytes(bytes).context("a candidate blob does not open")?;
    let model = Model::from_blob(blob).context("a candidate blob does not load")?;
    let mut session = model.session();
    let mut out = Vec::with_capacity(sequences.len());
    for chunk in sequences.chunks(BATCH) {
        match task {
            Task::Classify => out.extend(session.classify_sequences(chunk)?.into_iter().map(|c| c.logits)),
            Task::Embed => out.extend(session.embed_sequences(chunk)?),
        }
    }
    Ok(out)
}
