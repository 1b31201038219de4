//! Shared helpers for the end-to-end tests: where the assets are, and what to do when they are not.
//!
//! Assets live in `../shared/assets` beside the checkout unless `EDGEBERT_ASSETS` points
//! elsewhere. When that folder is missing, build.rs sets `--cfg edgebert_no_assets` and every test
//! that needs it carries `#[cfg_attr(edgebert_no_assets, ignore = "needs ...")]`, so cargo counts
//! it as ignored. With `EDGEBERT_REQUIRE_ASSETS=1` (set by `.ci/run`) the cfg is never set and a
//! missing asset fails the test. A folder that exists but lacks one file still skips at run time,
//! saying so on standard error.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn assets_root() -> PathBuf {
    match std::env::var_os("EDGEBERT_ASSETS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/assets"),
    }
}

/// The asset at `relative` under the assets root, or `None` (after saying so) when it is missing
/// and missing assets are allowed.
pub fn asset(relative: &str) -> Option<PathBuf> {
    let path = assets_root().join(relative);
    if path.exists() {
        return Some(path);
    }
    let required = std::env::var("EDGEBERT_REQUIRE_ASSETS").is_ok_and(|v| v == "1");
    assert!(!required, "asset {} is missing and EDGEBERT_REQUIRE_ASSETS=1", path.display());
    eprintln!("skipped: asset {} is missing (set EDGEBERT_ASSETS)", path.display());
    None
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The tiny family/head checkpoints of `models/` (described in models/TINY.md) with transformers'
/// outputs in `golden/families.json`.
pub const TINY_MODELS: [&str; 7] = [
    "tiny-bert-token-cls",
    "tiny-bert-qa",
    "tiny-bert-mlm",
    "tiny-bert-pair-cls",
    "tiny-distilbert",
    "tiny-roberta",
    "tiny-albert",
];

/// Every kernel backend this CPU runs (generic first), each once: model-level tests run on all
/// of them so that a regression in any backend's kernels fails here, not only in the best one.
/// Backends the CPU lacks are named on stderr as skipped.
pub fn runnable_kernels() -> Vec<edgebert_kernels::Kernels> {
    use edgebert_kernels::{Backend, Kernels};
    Backend::ALL
        .into_iter()
        .filter_map(|b| match Kernels::new(b) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("skipped {b}: {e}");
                None
            }
        })
        .collect()
}
