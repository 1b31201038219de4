//! `edgebert init`: a randomly initialised Hugging Face checkpoint of any supported
//! `config.json`, so sizes and latencies can be measured for shapes without trained weights.
//!
//! Initialisation follows transformers' `_init_weights`: linear weights and embedding tables from
//! N(0, `initializer_range`), biases 0, LayerNorm weights 1, the padding row of the word table 0.
//! Tensor names and shapes are the family's own ([`schema::hf_schema`]), so the directory loads
//! in transformers and in edgebert alike.

use crate::train::checkpoint::{copy_tokenizer_files, write_safetensors, F32Tensor};
use anyhow::{bail, Context, Result};
use edgebert_models::schema::{self, Part};
use edgebert_models::train::Rng;
use edgebert_models::{Config, Head};
use std::fs;
use std::path::Path;

/// What [`init_checkpoint`] wrote.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub architecture: String,
    pub tensors: usize,
    pub parameters: usize,
    pub safetensors_bytes: u64,
    /// Tokenizer files copied from `--tokenizer`.
    pub tokenizer_files: usize,
}

/// Labels a classifier gets when the config names none (transformers' default `num_labels`).
const DEFAULT_LABELS: usize = 2;

/// Writes `config.json` (the given file, unchanged), `model.safetensors` and, from
/// `tokenizer_dir`, the tokenizer files into `out_dir`. Refuses a non-empty `out_dir` unless
/// `force`.
pub fn init_checkpoint(
    config_path: &Path,
    out_dir: &Path,
    seed: u64,
    tokenizer_dir: Option<&Path>,
    force: bool,
) -> Result<InitReport> {
    let text =
        fs::read_to_string(config_path).with_context(|| format!("cannot read {}", config_path.display()))?;
    let config = Config::from_hf_json(&text).with_context(|| format!("{}", config_path.display()))?;
    let raw: serde_json::Value = serde_json::from_str(&text)?;
    let range = raw.get("initializer_range").and_then(|v| v.as_f64()).unwrap_or(0.02) as f32;
    if !(range.is_finite() && range > 0.0) {
        bail!("{}: initializer_range {range} must be a positive number", config_path.display());
    }
    if out_dir.exists() && fs::read_dir(out_dir)?.next().is_some() && !force {
        bail!("{}: the directory is not empty (pass --force to write into it)", out_dir.display());
    }
    fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;

    // `*Model` checkpoints keep encoder names bare; heads put the encoder under the family prefix.
    let prefix = if config.head == Head::None { "" } else { schema::family_prefix(config.family) };
    let labels = if config.id2label.is_empty() { DEFAULT_LABELS } else { config.id2label.len() };
    let canonical = schema::canonical_schema(&config, true, labels);
    let mut rng = Rng::new(seed);
    let mut tensors = Vec::with_capacity(canonical.len());
    let mut parameters = 0;
    for spec in &canonical {
        let values = initial_values(&spec.name, &spec.shape, &config, range, &mut rng);
        parameters += values.len();
        let bytes = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        let name = schema::hf_name(&config, &spec.name, prefix);
        tensors.push((name, F32Tensor { shape: spec.shape.clone(), bytes }));
    }
    let weights_path = out_dir.join("model.safetensors");
    write_safetensors(&weights_path, &tensors)?;
    fs::write(out_dir.join("config.json"), &text)
        .with_context(|| format!("cannot write {}", out_dir.join("config.json").display()))?;
    let tokenizer_files = match tokenizer_dir {
        Some(dir) => {
            let n = copy_tokenizer_files(dir, out_dir)?;
            if n == 0 {
                bail!("{}: no tokenizer files (tokenizer.json, vocab.txt, ...) to copy", dir.display());
            }
            n
        }
        None => 0,
    };
    Ok(InitReport {
        architecture: config.architecture.clone(),
        tensors: tensors.len(),
        parameters,
        safetensors_bytes: fs::metadata(&weights_path)?.len(),
        tokenizer_files,
    })
}

/// transformers' initial values for the canonical tensor `name`.
fn initial_values(name: &str, shape: &[usize], config: &Config, range: f32, rng: &mut Rng) -> Vec<f32> {
    let count: usize = shape.iter().product();
    let is_norm = name.contains("LayerNorm");
    if name.ends_with(".bias") || name == Part::MLM_BIAS {
        return vec![0.0; count];
    }
    if is_norm {
        return vec![1.0; count];
    }
    let mut v: Vec<f32> = (0..count).map(|_| range * rng.normal()).collect();
    if name == Part::WORD {
        let width = config.embedding_size;
        let pad = config.pad_token_id as usize;
        if let Some(row) = v.get_mut(pad * width..(pad + 1) * width) {
            row.fill(0.0);
        }
    }
    v
}
