use anyhow::{bail, Context, Result};
use clap::Args;
use edgebert_engine::Model;
use edgebert_models::{Head, Sequence};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Measure latency and throughput of a blob: p50/p90/p99, tokens/s, peak RSS, open time.
#[derive(Args, Debug)]
#[command(
    after_help = "Token ids are synthetic and deterministic: [CLS], then id 1000 + (i·7919) mod (vocab − 1000), \
then [SEP] (benches/peers uses the same ids for ONNX Runtime).\n\nExamples (the blob the quickstart wrote):\n  edgebert bench .cache/all-minilm-l6-v2.int8.ebq\n  \
edgebert bench .cache/all-minilm-l6-v2.int8.ebq --seq 128 --batch 1 --threads 1,2 --json"
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

#[derive(Serialize)]
struct Row {
    seq: usize,
    batch: usize,
    threads: usize,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    mean_ms: f64,
    tokens_per_s: f64,
    iters: usize,
    backend: String,
    /// Blob::open: map + validate header, index and checksum.
    open_ms: f64,
    file_bytes: u64,
    peak_rss_bytes: Option<u64>,
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

pub fn run(args: BenchArgs) -> Result<()> {
    if args.seq.iter().any(|&s| s < 2) || args.batch.contains(&0) || args.threads.contains(&0) {
        usage_bail!("--seq must be at least 2, --batch and --threads at least 1");
    }
    let started = Instant::now();
    let blob = crate::model_source::open_blob(&args.model)?;
    let open_ms = ms(started.elapsed());
    let file_bytes = blob.bytes().len() as u64;
    let model = Model::from_blob(blob).with_context(|| format!("{}", args.model.display()))?;
    let ready_ms = ms(started.elapsed());
    let config = &model.info().config;
    if let Some(&s) = args.seq.iter().find(|&&s| s > config.max_tokens()) {
        bail!("--seq {s} is longer than the model's {} positions", config.max_tokens());
    }
    let backend = model.kernels().backend().to_string();
    if !args.json {
        outln!("{}", edgebert_kernels::describe());
        outln!(
            "model {} ({:.1} MB, weights {}, embeddings {}): blob opened and validated in {open_ms:.3} ms, \
             ready to run (tokenizer built) in {ready_ms:.1} ms",
            args.model.display(),
            file_bytes as f64 / 1e6,
            model.info().quant_weights,
            model.info().quant_embeddings
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
    let bar = crate::progress::steps((args.threads.len() * args.batch.len() * args.seq.len()) as u64);
    for &threads in &args.threads {
        let pool =
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("cannot start threads")?;
        for &batch in &args.batch {
            for &seq in &args.seq {
                let input: Vec<Sequence> =
                    (0..batch).map(|_| Sequence::new(bench_ids(seq, config.vocab_size))).collect();
                bar.set_message(format!("measuring seq {seq}, batch {batch}, {threads} thread(s)"));
                let times = pool.install(|| measure(&model, &input, args.warmup, args.seconds))?;
                bar.inc(1);
                let row = summarize(times, seq, batch, threads, &backend, open_ms, file_bytes);
                if args.json {
                    let line = serde_json::to_string(&row)?;
                    bar.suspend(|| -> Result<()> {
                        outln!("{line}");
                        Ok(())
                    })?;
                } else {
                    bar.suspend(|| -> Result<()> {
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
                        Ok(())
                    })?;
                }
            }
        }
    }
    bar.finish_and_clear();
    if !args.json {
        match peak_rss_bytes() {
            Some(b) => outln!("peak RSS {:.1} MB", b as f64 / 1e6),
            None => outln!("peak RSS unknown (no /proc/self/status)"),
        }
    }
    Ok(())
}

/// Runs the model with its head (sequence classification, per-token logits, the masked-LM
/// vocabulary row of the middle token, or embedding pooling) until `seconds` have passed and at
/// least 10 runs are timed.
pub(crate) fn measure(
    model: &Model,
    input: &[Sequence],
    warmup: usize,
    seconds: f64,
) -> Result<Vec<Duration>> {
    let mut session = model.session();
    let masks: Vec<Vec<usize>> = input.iter().map(|s| vec![s.ids.len() / 2]).collect();
    let once = |session: &mut edgebert_engine::Session| -> Result<()> {
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
    open_ms: f64,
    file_bytes: u64,
) -> Row {
    times.sort();
    let pct = |p: f64| ms(times[((times.len() - 1) as f64 * p).round() as usize]);
    let mean_ms = times.iter().map(|t| ms(*t)).sum::<f64>() / times.len() as f64;
    Row {
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
        open_ms,
        file_bytes,
        peak_rss_bytes: peak_rss_bytes(),
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `VmHWM` of /proc/self/status: the process's peak resident memory (Linux only).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
