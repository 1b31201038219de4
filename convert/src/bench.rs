//! The benchmark behind `edgebert bench` and the Python package's `edgebert.bench`: latency
//! percentiles and throughput of a blob over a grid of sequence lengths, batch sizes and thread
//! counts, with synthetic token ids that benches/peers feeds ONNX Runtime too. It lives in a
//! library so every front end measures the same thing with the same defaults.

use anyhow::{bail, Context, Result};
use edgebert_engine::blob::Blob;
use edgebert_engine::{Model, Session};
use edgebert_models::{Head, Sequence};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// The grid and the measuring budget; [`BenchConfig::default`] holds the CLI's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchConfig {
    /// Sequence lengths in tokens, [CLS] and [SEP] included.
    pub seq: Vec<usize>,
    /// Sequences per call.
    pub batch: Vec<usize>,
    /// Threads per call (one rayon pool each).
    pub threads: Vec<usize>,
    /// Measuring time per configuration in seconds (at least 10 runs each).
    pub seconds: f64,
    /// Untimed runs before measuring.
    pub warmup: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            seq: vec![8, 32, 128, 512],
            batch: vec![1, 8],
            threads: vec![1],
            seconds: 2.0,
            warmup: 3,
        }
    }
}

/// One configuration's measurements (`edgebert bench --json` prints one per line).
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub seq: usize,
    pub batch: usize,
    pub threads: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub tokens_per_s: f64,
    pub iters: usize,
    pub backend: String,
    /// Blob::open: map + validate header, index and checksum.
    pub open_ms: f64,
    pub file_bytes: u64,
    pub peak_rss_bytes: Option<u64>,
}

/// A blob opened for benchmarking, with how long opening took.
pub struct BenchModel {
    pub model: Model,
    pub file_bytes: u64,
    /// Blob::open alone (map, validate).
    pub open_ms: f64,
    /// Blob::open plus Model::from_blob (weights resolved, tokenizer built).
    pub ready_ms: f64,
}

impl BenchModel {
    pub fn open(path: &Path) -> Result<BenchModel> {
        let file_bytes = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?.len();
        let started = Instant::now();
        let blob = Blob::open(path).with_context(|| format!("{}", path.display()))?;
        let open_ms = ms(started.elapsed());
        let model = Model::from_blob(blob).with_context(|| format!("{}", path.display()))?;
        Ok(BenchModel { model, file_bytes, open_ms, ready_ms: ms(started.elapsed()) })
    }
}

/// Checks `config` against the model before anything runs: every length fits its positions.
pub fn check_config(config: &BenchConfig, model: &Model) -> Result<()> {
    if config.seq.iter().any(|&s| s < 2) || config.batch.contains(&0) || config.threads.contains(&0) {
        bail!("sequence lengths (seq) must be at least 2 tokens, batch sizes and thread counts at least 1");
    }
    if config.seq.is_empty() || config.batch.is_empty() || config.threads.is_empty() {
        bail!("seq, batch and threads each need at least one value");
    }
    if !config.seconds.is_finite() || config.seconds < 0.0 {
        bail!("seconds must be a finite number, at least 0");
    }
    let max = model.info().config.max_tokens();
    if let Some(&s) = config.seq.iter().find(|&&s| s > max) {
        bail!("sequence length (seq) {s} is longer than the model's {max} positions");
    }
    Ok(())
}

/// Runs every configuration of the grid (threads, then batch, then seq), handing each row to
/// `on_row` as soon as it is measured.
pub fn run(
    bench: &BenchModel,
    config: &BenchConfig,
    on_row: &mut dyn FnMut(BenchRow) -> Result<()>,
) -> Result<()> {
    let model = &bench.model;
    check_config(config, model)?;
    let vocab = model.info().config.vocab_size;
    let backend = model.kernels().backend().to_string();
    for &threads in &config.threads {
        let pool =
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("cannot start threads")?;
        for &batch in &config.batch {
            for &seq in &config.seq {
                let input: Vec<Sequence> = (0..batch).map(|_| Sequence::new(bench_ids(seq, vocab))).collect();
                let times = pool.install(|| measure(model, &input, config.warmup, config.seconds))?;
                on_row(summarize(times, seq, batch, threads, &backend, bench))?;
            }
        }
    }
    Ok(())
}

/// The ids `edgebert bench` and benches/peers feed for a sequence of `len` tokens.
pub fn bench_ids(len: usize, vocab: usize) -> Vec<u32> {
    let span = vocab.saturating_sub(1000).max(1);
    (0..len)
        .map(|i| match i {
            0 => 101,
            i if i == len - 1 => 102,
            i => (1000 + (i * 7919) % span) as u32,
        })
        .collect()
}

/// Runs the model with its head (sequence classification, per-token logits, the masked-LM
/// vocabulary row of the middle token, or embedding pooling) until `seconds` have passed and at
/// least 10 runs are timed.
pub fn measure(model: &Model, input: &[Sequence], warmup: usize, seconds: f64) -> Result<Vec<Duration>> {
    let mut session = model.session();
    let masks: Vec<Vec<usize>> = input.iter().map(|s| vec![s.ids.len() / 2]).collect();
    let once = |session: &mut Session| -> Result<()> {
        match model.info().head {
            Head::SequenceClassification => drop(std::hint::black_box(session.classify_sequences(input)?)),
            Head::TokenClassification | Head::QuestionAnswering => {
                drop(std::hint::black_box(session.token_logits(input)?))
            }
            Head::MaskedLm => drop(std::hint::black_box(session.mask_logits(input, &masks)?)),
            Head::None => drop(std::hint::black_box(session.embed_sequences(input)?)),
        }
        Ok(())
    };
    for _ in 0..warmup {
        once(&mut session)?;
    }
    let budget = Duration::from_secs_f64(seconds.max(0.0));
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 10 || start.elapsed() < budget {
        let t = Instant::now();
        once(&mut session)?;
        times.push(t.elapsed());
    }
    Ok(times)
}

fn summarize(
    mut times: Vec<Duration>,
    seq: usize,
    batch: usize,
    threads: usize,
    backend: &str,
    bench: &BenchModel,
) -> BenchRow {
    times.sort();
    let pct = |p: f64| ms(times[((times.len() - 1) as f64 * p).round() as usize]);
    let mean_ms = times.iter().map(|t| ms(*t)).sum::<f64>() / times.len() as f64;
    BenchRow {
        seq,
        batch,
        threads,
        p50_ms: pct(0.5),
        p90_ms: pct(0.9),
        p99_ms: pct(0.99),
        mean_ms,
        tokens_per_s: (seq * batch) as f64 / (pct(0.5) / 1e3),
        iters: times.len(),
        backend: backend.to_string(),
        open_ms: bench.open_ms,
        file_bytes: bench.file_bytes,
        peak_rss_bytes: peak_rss_bytes(),
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `VmHWM` of /proc/self/status: the process's peak resident memory (Linux only).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
