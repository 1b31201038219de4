//! `edgebert inspect`: what a blob holds, and with `--verify` whether its weights are intact.

use anyhow::{Context, Result};
use clap::Args;
use edgebert_engine::blob::{Blob, Encoding, MetaValue, TensorInfo};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

/// Print a blob's model, metadata, tensors and bytes per encoding.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples (the blob the quickstart wrote):\n  edgebert inspect .cache/all-minilm-l6-v2.int8.ebq\n  \
edgebert inspect .cache/all-minilm-l6-v2.int8.ebq --verify --json"
)]
pub struct InspectArgs {
    /// A blob written by `edgebert convert`.
    pub blob: PathBuf,
    /// Also check every tensor's data checksum (reads the whole file).
    #[arg(long)]
    pub verify: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InspectArgs) -> Result<()> {
    let started = Instant::now();
    let blob = crate::model_source::open_blob(&args.blob)?;
    let open_us = started.elapsed().as_secs_f64() * 1e6;
    let verified = if args.verify {
        let t = Instant::now();
        blob.verify().with_context(|| format!("{}: verification failed", args.blob.display()))?;
        Some(t.elapsed().as_secs_f64() * 1e3)
    } else {
        None
    };
    let by_encoding = bytes_per_encoding(blob.tensors());
    if args.json {
        let text = serde_json::to_string_pretty(&to_json(&blob, &by_encoding, verified))?;
        return emit(&(text + "\n"));
    }
    let mut out = String::new();
    let index = blob.index();
    writeln!(
        out,
        "{}: edgebert blob v{}, {} bytes ({}), {} tensors, opened and validated in {open_us:.0} µs",
        args.blob.display(),
        index.version,
        index.file_len,
        human(index.file_len as u64),
        blob.tensors().len()
    )?;
    // `vocab.original_size` (optional): the blob was converted with `--vocab-from`.
    let original_vocab = blob.metadata().opt_u64("vocab.original_size").ok().flatten();
    match blob.model_info() {
        Ok(m) => {
            let c = &m.config;
            let vocab = match original_vocab {
                Some(o) => format!("{} (pruned from {o} by --vocab-from)", c.vocab_size),
                None => c.vocab_size.to_string(),
            };
            writeln!(
                out,
                "model: {} ({}), {} layers{}, hidden {}, {} heads, ffn {}, vocab {}, {} positions, head {}",
                c.architecture,
                c.family.name(),
                c.num_hidden_layers,
                match (c.shared_layers, c.embedding_size != c.hidden_size) {
                    (true, true) => format!(" sharing one set of weights, embeddings {}", c.embedding_size),
                    (true, false) => " sharing one set of weights".to_string(),
                    (false, true) => format!(", embeddings {}", c.embedding_size),
                    (false, false) => String::new(),
                },
                c.hidden_size,
                c.num_attention_heads,
                c.intermediate_size,
                vocab,
                c.max_position_embeddings,
                m.head.name()
            )?;
            if !c.id2label.is_empty() {
                writeln!(out, "labels: {}", c.id2label.join(", "))?;
            }
            let pooling = m.pooling.map_or("none".to_string(), |p| {
                format!("{:?}{}", p.mode, if p.normalize { " + L2 normalise" } else { "" }).to_lowercase()
            });
            writeln!(out, "pooling: {pooling}; max sequence length {}", m.max_seq_len)?;
            if !m.prompts.is_empty() {
                let list: Vec<String> =
                    m.prompts.entries.iter().map(|(n, t)| format!("{n} = {t:?}")).collect();
                let default =
                    m.prompts.default.as_deref().map_or(String::new(), |d| format!(" (default {d})"));
                writeln!(out, "prompts: {}{default}", list.join(", "))?;
            }
            writeln!(
                out,
                "quantization: weights {}, embeddings {}; format version {}",
                m.quant_weights,
                m.quant_embeddings,
                blob.index().version
            )?;
            // `quant.calib` and `quant.recipe` (optional): written by `convert --calib`.
            if let Ok(Some(calib)) = blob.metadata().opt_str("quant.calib") {
                writeln!(out, "calibration: {calib}")?;
            }
            if let Ok(Some(recipe)) = blob.metadata().opt_str_list("quant.recipe") {
                let mut counts = BTreeMap::new();
                for line in &recipe {
                    *counts.entry(line.rsplit('=').next().unwrap_or("?")).or_insert(0usize) += 1;
                }
                let counts: Vec<String> = counts.iter().map(|(p, n)| format!("{n} {p}")).collect();
                writeln!(out, "recipe ({}):", counts.join(", "))?;
                for line in &recipe {
                    writeln!(out, "  {line}")?;
                }
            }
            writeln!(out, "source sha256 {}; converter {}", m.source_sha256, m.converter_version)?;
        }
        Err(e) => writeln!(out, "model metadata: {e}")?,
    }
    writeln!(out, "\nbytes per encoding:")?;
    for (enc, (count, bytes)) in &by_encoding {
        let share = 100.0 * *bytes as f64 / index.file_len.max(1) as f64;
        writeln!(out, "  {enc:<12} {count:>4} tensors {:>10} {share:5.1}%", human(*bytes))?;
    }
    writeln!(out, "\n{:<52} {:<12} {:<10} {:<14} {:>10}", "tensor", "encoding", "layout", "shape", "bytes")?;
    for t in blob.tensors() {
        writeln!(
            out,
            "{:<52} {:<12} {:<10} {:<14} {:>10}",
            t.name,
            t.encoding.name(),
            t.layout.name(),
            format!("{:?}", t.shape),
            t.byte_len
        )?;
    }
    if let Some(ms) = verified {
        writeln!(out, "\nverified: all {} tensor checksums match ({ms:.1} ms)", blob.tensors().len())?;
    }
    emit(&out)
}

/// Prints `text` (a closed pipe, `inspect ... | head`, ends quietly: see `main`).
fn emit(text: &str) -> Result<()> {
    Ok(crate::output::write_stdout(text)?)
}

fn bytes_per_encoding(tensors: &[TensorInfo]) -> BTreeMap<&'static str, (usize, u64)> {
    let mut out = BTreeMap::new();
    for enc in Encoding::ALL {
        let matching = tensors.iter().filter(|t| t.encoding == enc);
        let (count, bytes) = matching.fold((0, 0u64), |(c, b), t| (c + 1, b + t.byte_len as u64));
        if count > 0 {
            out.insert(enc.name(), (count, bytes));
        }
    }
    out
}

fn to_json(
    blob: &Blob,
    by_encoding: &BTreeMap<&'static str, (usize, u64)>,
    verified_ms: Option<f64>,
) -> Value {
    let metadata: serde_json::Map<String, Value> = blob
        .metadata()
        .entries()
        .iter()
        .map(|(k, v)| {
            let v = match v {
                MetaValue::U64(x) => json!(x),
                MetaValue::F64(x) => json!(x),
                MetaValue::Bool(x) => json!(x),
                MetaValue::Str(x) => json!(x),
                MetaValue::StrList(x) => json!(x),
            };
            (k.clone(), v)
        })
        .collect();
    let tensors: Vec<Value> = blob
        .tensors()
        .iter()
        .map(|t| {
            json!({"name": t.name, "encoding": t.encoding.name(), "layout": t.layout.name(),
                   "shape": t.shape, "offset": t.offset, "bytes": t.byte_len})
        })
        .collect();
    let encodings: serde_json::Map<String, Value> = by_encoding
        .iter()
        .map(|(e, (count, bytes))| (e.to_string(), json!({"tensors": count, "bytes": bytes})))
        .collect();
    json!({
        "version": blob.index().version,
        "file_bytes": blob.index().file_len,
        "metadata": metadata,
        "bytes_per_encoding": encodings,
        "tensors": tensors,
        "verified": verified_ms.is_some(),
    })
}

/// Bytes as kB/MB (powers of 1000, as file managers show them).
fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}
