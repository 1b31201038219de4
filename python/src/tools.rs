//! `edgebert.convert` and `edgebert.bench`: the converter and the benchmark the CLI runs, with
//! the CLI's defaults, the GIL released while they work.

use crate::errors::{self, ConvertError};
use edgebert_convert::bench::{self as benchmark, BenchConfig, BenchModel};
use edgebert_convert::blob::progress::ConvertBar;
use edgebert_convert::blob::{convert_dir_opts, ConvertOptions, Precision, Recipe, WriteOutcome};
use edgebert_convert::calib::{CalibOptions, DEFAULT_LIMIT};
use pyo3::exceptions::{PyFileNotFoundError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

fn precision(name: &str, arg: &str) -> PyResult<Precision> {
    match name {
        "int8" => Ok(Precision::Int8),
        "f16" => Ok(Precision::F16),
        "f32" => Ok(Precision::F32),
        _ => Err(PyValueError::new_err(format!("{arg} must be \"int8\", \"f16\" or \"f32\", not {name:?}"))),
    }
}

// The literal default of `convert`'s `calib_limit` (see there) is the converter's.
const _: () = assert!(DEFAULT_LIMIT == 256);

/// Converts a Hugging Face checkpoint directory into a blob at `out` (as `edgebert convert`):
/// `vocab_from` is `--vocab-from` (a list of corpus files), `calib` / `calib_limit` /
/// `max_drop` are `--calib` / `--calib-limit` / `--max-drop`.
#[pyfunction]
#[pyo3(signature = (hf_dir, out, weights="int8", embeddings="int8", keep_f16=None, force=false, progress=true,
    vocab_from=None, calib=None, calib_limit=256, max_drop=None))]
// `calib_limit=256` is a literal, not `DEFAULT_LIMIT`: pyo3 shows a constant as `...` in the
// signature Python sees (and mypy stubtest then fails against the stub's 256); the assert keeps
// the literal equal to the converter's default.
#[allow(clippy::too_many_arguments)]
pub fn convert<'py>(
    py: Python<'py>,
    hf_dir: PathBuf,
    out: PathBuf,
    weights: &str,
    embeddings: &str,
    keep_f16: Option<Vec<String>>,
    force: bool,
    progress: bool,
    vocab_from: Option<Vec<PathBuf>>,
    calib: Option<PathBuf>,
    calib_limit: usize,
    max_drop: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let recipe =
        Recipe { weights: precision(weights, "weights")?, embeddings: precision(embeddings, "embeddings")? };
    if max_drop.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
        return Err(PyValueError::new_err("max_drop must be a number of percentage points >= 0"));
    }
    if calib.is_none() && max_drop.is_some() {
        return Err(PyValueError::new_err("max_drop needs calib (the calibration texts)"));
    }
    let calib = calib.map(|texts| CalibOptions { limit: calib_limit, max_drop, ..CalibOptions::new(texts) });
    let options = ConvertOptions {
        recipe,
        keep_f16: keep_f16.unwrap_or_default(),
        vocab_from: vocab_from.unwrap_or_default(),
        force,
        calib,
    };
    if !hf_dir.exists() {
        return Err(PyFileNotFoundError::new_err(format!(
            "{}: no such directory (expected a Hugging Face checkpoint folder)",
            hf_dir.display()
        )));
    }
    let report = py.detach(|| {
        // The CLI's bar: drawn on stderr when it is a terminal, hidden otherwise.
        let mut bar = progress.then(ConvertBar::new);
        let result = convert_dir_opts(&hf_dir, &out, &options, &mut |stage| {
            if let Some(bar) = bar.as_mut() {
                bar.update(stage)
            }
        });
        if let Some(bar) = bar {
            bar.finish();
        }
        result
    });
    let report = report.map_err(|e| errors::tool(e, ConvertError::new_err))?;
    let outcome = match report.outcome {
        WriteOutcome::Created => "created",
        WriteOutcome::Replaced => "replaced",
        WriteOutcome::Unchanged => "unchanged",
    };
    Ok(py_dict!(py,
        "output" => report.output.to_string_lossy(),
        "outcome" => outcome,
        "blob_bytes" => report.blob_bytes,
        "source_bytes" => report.source_bytes,
        "tensors" => report.tensors,
        "weights" => weights,
        "embeddings" => embeddings,
        "recipe" => report.calib.as_ref().map(|c| c.recipe.clone()),
    ))
}

/// Latency and throughput of a blob over a grid (as `edgebert bench --json`): one dict per
/// (threads, batch, seq) configuration.
#[pyfunction]
#[pyo3(signature = (model, seq=None, batch=None, threads=None, seconds=None, warmup=None))]
pub fn bench<'py>(
    py: Python<'py>,
    model: PathBuf,
    seq: Option<Vec<usize>>,
    batch: Option<Vec<usize>>,
    threads: Option<Vec<usize>>,
    seconds: Option<f64>,
    warmup: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let defaults = BenchConfig::default();
    let config = BenchConfig {
        seq: seq.unwrap_or(defaults.seq),
        batch: batch.unwrap_or(defaults.batch),
        threads: threads.unwrap_or(defaults.threads),
        seconds: seconds.unwrap_or(defaults.seconds),
        warmup: warmup.unwrap_or(defaults.warmup),
    };
    let rows = py.detach(|| {
        let opened = BenchModel::open(&model).map_err(|e| errors::tool(e, PyRuntimeError::new_err))?;
        benchmark::check_config(&config, &opened.model)
            .map_err(|e| PyValueError::new_err(format!("{e:#}")))?;
        let mut rows = Vec::new();
        benchmark::run(&opened, &config, &mut |row| {
            rows.push(row);
            Ok(())
        })
        .map_err(|e| errors::tool(e, PyRuntimeError::new_err))?;
        Ok::<_, PyErr>(rows)
    })?;
    rows.iter()
        .map(|r| {
            Ok(py_dict!(py,
                "seq" => r.seq,
                "batch" => r.batch,
                "threads" => r.threads,
                "p50_ms" => r.p50_ms,
                "p90_ms" => r.p90_ms,
                "p99_ms" => r.p99_ms,
                "mean_ms" => r.mean_ms,
                "tokens_per_s" => r.tokens_per_s,
                "iters" => r.iters,
                "backend" => &r.backend,
                "open_ms" => r.open_ms,
                "file_bytes" => r.file_bytes,
                "peak_rss_bytes" => r.peak_rss_bytes,
            ))
        })
        .collect()
}

/// The kernels this process runs (`EDGEBERT_KERNELS` forces one) and the CPU features seen.
#[pyfunction]
pub fn backend() -> String {
    edgebert_kernels::describe()
}
