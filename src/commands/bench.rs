//! `edgebert bench`: argument parsing and the table; the measuring is `edgebert_convert::bench`,
//! shared with the Python package.

use anyhow::Result;
use clap::Args;
use edgebert_convert::bench::{self, BenchConfig, BenchModel};
use std::path::PathBuf;

/// Measure latency and throughput of a blob: p50/p90/p99, tokens/s, peak RSS, open time.
#[derive(Args, Debug)]
#[command(
    after_help = "Token ids are synthetic and deterministic: [CLS], then id 1000 + (i·7919) mod (vocab − 1000), \
then [SEP] (benches/peers uses the same ids for ONNX Runtime).\n\nExamples:\n  edgebert bench model.ebq\n  \
edgebert bench model.ebq --seq 128 --batch 1 --threads 1,2 --json"
)]
pub struct BenchArgs {
    /// A blob written by `edgebert convert`.
    pub model: PathBuf,
    /// Sequence lengths in tokens (with [CLS] and [SEP]), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8,32,128,512")]
    pub seq: Vec<usize>,
    /// Sequences per call, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    pub batch: Vec<usize>,
    /// Thread counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub threads: Vec<usize>,
    /// Measuring time per configuration, in seconds (at least 10 runs each).
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Untimed runs before measuring.
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// One JSON object per configuration instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let config = BenchConfig {
        seq: args.seq,
        batch: args.batch,
        threads: args.threads,
        seconds: args.seconds,
        warmup: args.warmup,
    };
    if config.seq.iter().any(|&s| s < 2) || config.batch.contains(&0) || config.threads.contains(&0) {
        usage_bail!("--seq must be at least 2, --batch and --threads at least 1");
    }
    // Opened once for its error message alone: a folder, a missing path or a safetensors file
    // says what to pass instead.
    crate::model_source::open_blob(&args.model)?;
    let opened = BenchModel::open(&args.model)?;
    let model = &opened.model;
    bench::check_config(&config, model)?;
    if !args.json {
        outln!("{}", edgebert_kernels::describe());
        outln!(
            "model {} ({:.1} MB, weights {}, embeddings {}): blob opened and validated in {:.3} ms, \
             ready to run (tokenizer built) in {:.1} ms",
            args.model.display(),
            opened.file_bytes as f64 / 1e6,
            model.info().quant_weights,
            model.info().quant_embeddings,
            opened.open_ms,
            opened.ready_ms
        );
        outln!(
            "{:>5} {:>5} {:>7} {:>9} {:>9} {:>9} {:>11} {:>6}",
            "seq",
            "batch",
            "threads",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "tokens/s",
            "runs"
        );
    }
    let bar = crate::progress::steps((config.threads.len() * config.batch.len() * config.seq.len()) as u64);
    bench::run(&opened, &config, &mut |row| {
        bar.inc(1);
        if args.json {
            let line = serde_json::to_string(&row)?;
            bar.suspend(|| -> Result<()> {
                outln!("{line}");
                Ok(())
            })?;
        } else {
            outln!(
                "{:>5} {:>5} {:>7} {:>9.3} {:>9.3} {:>9.3} {:>11.0} {:>6}",
                row.seq,
                row.batch,
                row.threads,
                row.p50_ms,
                row.p90_ms,
                row.p99_ms,
                row.tokens_per_s,
                row.iters
            );
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    if !args.json {
        match bench::peak_rss_bytes() {
            Some(b) => outln!("peak RSS {:.1} MB", b as f64 / 1e6),
            None => outln!("peak RSS unknown (no /proc/self/status)"),
        }
    }
    Ok(())
}
