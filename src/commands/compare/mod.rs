//! `edgebert compare`: several blobs of one model side by side (size, open time, latency per
//! sequence length and thread count, accuracy against the float reference), as a terminal table,
//! JSON, or one self-contained HTML page with SVG charts.

mod html;
mod svg;

use anyhow::{bail, Context, Result};
use clap::Args;
use edgebert_convert::bench::{bench_ids, measure, ms};
use edgebert_convert::eval::{evaluate, read_examples, EvalReport};
use edgebert_convert::reference::ReferencePipeline;
use edgebert_engine::Model;
use edgebert_models::Sequence;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Compare blobs side by side: size, open time, latency and accuracy (f32 vs f16 vs int8 ...).
#[derive(Args, Debug)]
#[command(after_help = "Examples (the checkpoint folder and blob the quickstart made):\n  \
    edgebert convert .cache/models/all-minilm-l6-v2 -o .cache/minilm-f16.ebq --weights f16 --embeddings f16\n  \
    edgebert convert .cache/models/all-minilm-l6-v2 -o .cache/minilm-f32.ebq --weights f32 --embeddings f32\n  \
    edgebert compare .cache/all-minilm-l6-v2.int8.ebq .cache/minilm-f16.ebq .cache/minilm-f32.ebq \\\n    \
    --reference .cache/models/all-minilm-l6-v2 --data .cache/sentences.txt --html report.html\n\n\
Latency is the p50 of runs on synthetic ids (as `edgebert bench`), batch 1 unless --batch. Accuracy \
needs --reference (the float checkpoint the blobs came from) and --data (`label<TAB>text` lines; plain \
text lines give embedding cosines only).")]
pub struct CompareArgs {
    /// Blobs written by `edgebert convert` (two or more to compare; one works too).
    #[arg(required = true)]
    pub blobs: Vec<PathBuf>,
    /// The Hugging Face checkpoint the blobs were converted from: the float reference.
    #[arg(long, requires = "data")]
    pub reference: Option<PathBuf>,
    /// Examples to measure accuracy on: TSV `label<TAB>text`, or plain text lines.
    #[arg(long, requires = "reference")]
    pub data: Option<PathBuf>,
    /// Use only the first N examples of --data.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Sequence lengths in tokens (with [CLS] and [SEP]), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "8,32,128,512")]
    pub seq: Vec<usize>,
    /// Thread counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub threads: Vec<usize>,
    /// Sequences per call.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Measuring time per blob and configuration, in seconds (at least 10 runs each).
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    /// Also write the comparison as one self-contained HTML page with charts.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
pub struct Comparison {
    pub kernels: String,
    pub batch: usize,
    pub seq: Vec<usize>,
    pub threads: Vec<usize>,
    pub data: Option<String>,
    pub blobs: Vec<BlobResult>,
}

#[derive(Serialize)]
pub struct BlobResult {
    pub name: String,
    pub path: String,
    pub weights: String,
    pub embeddings: String,
    pub file_bytes: u64,
    /// Median of five `Model::open` calls (map, validate, build the tokenizer).
    pub open_ms: f64,
    pub latency: Vec<Latency>,
    pub quality: Option<EvalReport>,
}

#[derive(Serialize)]
pub struct Latency {
    pub seq: usize,
    pub threads: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
}

impl BlobResult {
    pub fn p50(&self, seq: usize, threads: usize) -> Option<f64> {
        self.latency.iter().find(|l| l.seq == seq && l.threads == threads).map(|l| l.p50_ms)
    }
}

const OPENS: usize = 5;
const WARMUP: usize = 3;

pub fn run(args: CompareArgs) -> Result<()> {
    if args.seq.iter().any(|&s| s < 2) || args.batch == 0 || args.threads.contains(&0) {
        bail!("--seq must be at least 2, --batch and --threads at least 1");
    }
    let examples = match &args.data {
        Some(path) => {
            let mut e = read_examples(path)?;
            e.truncate(args.limit.unwrap_or(usize::MAX));
            e
        }
        None => Vec::new(),
    };
    let reference = args.reference.as_deref().map(ReferencePipeline::open).transpose()?;
    let models: Vec<Model> =
        args.blobs.iter().map(|p| crate::model_source::open_model(p)).collect::<Result<_>>()?;
    for (model, path) in models.iter().zip(&args.blobs) {
        let max = model.info().config.max_tokens();
        if let Some(&s) = args.seq.iter().find(|&&s| s > max) {
            bail!("--seq {s} is longer than the {max} positions of {}", path.display());
        }
    }
    let pools: Vec<rayon::ThreadPool> = args
        .threads
        .iter()
        .map(|&t| rayon::ThreadPoolBuilder::new().num_threads(t).build().context("cannot start threads"))
        .collect::<Result<_>>()?;
    let timings = models.len() * args.seq.len() * args.threads.len();
    let evals = if reference.is_some() { models.len() * examples.len() } else { 0 };
    let bar = crate::progress::steps((models.len() * OPENS + timings + evals) as u64);

    let mut blobs = Vec::new();
    for (model, path) in models.iter().zip(&args.blobs) {
        let name = display_name(path);
        bar.set_message(format!("{name}: opening"));
        let open_ms = median_open_ms(path, &|| bar.inc(1))?;
        let mut latency = Vec::new();
        for (pool, &threads) in pools.iter().zip(&args.threads) {
            for &seq in &args.seq {
                bar.set_message(format!("{name}: seq {seq}, {threads} thread(s)"));
                let vocab = model.info().config.vocab_size;
                let input: Vec<Sequence> =
                    (0..args.batch).map(|_| Sequence::new(bench_ids(seq, vocab))).collect();
                let mut times = pool.install(|| measure(model, &input, WARMUP, args.seconds))?;
                times.sort();
                let pct = |p: f64| ms(times[((times.len() - 1) as f64 * p).round() as usize]);
                latency.push(Latency { seq, threads, p50_ms: pct(0.5), p90_ms: pct(0.9) });
                bar.inc(1);
            }
        }
        let quality = match &reference {
            Some(r) => {
                bar.set_message(format!("{name}: accuracy on {} examples", examples.len()));
                Some(evaluate(model, r, &examples, &mut |n| bar.inc(n as u64))?)
            }
            None => None,
        };
        let info = model.info();
        blobs.push(BlobResult {
            name,
            path: path.display().to_string(),
            weights: info.quant_weights.to_string(),
            embeddings: info.quant_embeddings.to_string(),
            file_bytes: model.blob().bytes().len() as u64,
            open_ms,
            latency,
            quality,
        });
    }
    bar.finish_and_clear();
    let comparison = Comparison {
        kernels: edgebert_kernels::describe(),
        batch: args.batch,
        seq: args.seq.clone(),
        threads: args.threads.clone(),
        data: args.data.as_ref().map(|d| format!("{} ({} examples)", d.display(), examples.len())),
        blobs,
    };
    if let Some(path) = &args.html {
        let page = html::page(&comparison);
        std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&comparison)?);
    } else {
        print!("{}", table(&comparison));
        if let Some(path) = &args.html {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// The file name without `.ebq`: what tables and charts call a blob.
fn display_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.strip_suffix(".ebq").map(str::to_string).unwrap_or(name)
}

fn median_open_ms(path: &Path, tick: &dyn Fn()) -> Result<f64> {
    let mut times = Vec::with_capacity(OPENS);
    for _ in 0..OPENS {
        let t = Instant::now();
        drop(crate::model_source::open_model(path)?);
        times.push(ms(t.elapsed()));
        tick();
    }
    times.sort_by(f64::total_cmp);
    Ok(times[OPENS / 2])
}

/// The headline quality figure of a blob and what it is, for tables and the size chart:
/// accuracy on labelled data, else agreement with the reference, else mean output cosine.
pub fn quality(q: &EvalReport) -> (f64, &'static str) {
    match (q.accuracy, q.argmax_agreement) {
        (Some(a), _) => (a, "accuracy"),
        (None, Some(a)) => (a, "agreement"),
        _ => (q.cosine_mean, "cosine"),
    }
}

/// The terminal table: one row per blob.
pub fn table(c: &Comparison) -> String {
    let mut head = format!("{:<28} {:>9} {:>9} {:>8}", "blob", "weights", "size MB", "open ms");
    for &t in &c.threads {
        for &s in &c.seq {
            head += &format!(" {:>9}", format!("s{s}/t{t}"));
        }
    }
    head += &format!(" {:>8} {:>9} {:>9}", "accuracy", "agreement", "cosine");
    let mut out = format!(
        "{}\np50 latency in ms per sequence length (s) and thread count (t), batch {}\n",
        c.kernels, c.batch
    );
    out += &head;
    out.push('\n');
    for b in &c.blobs {
        let mut row = format!(
            "{:<28} {:>9} {:>9.2} {:>8.3}",
            crate::shorten(&b.name, 28),
            format!("{}/{}", short(&b.weights), short(&b.embeddings)),
            b.file_bytes as f64 / 1e6,
            b.open_ms
        );
        for &t in &c.threads {
            for &s in &c.seq {
                row += &format!(" {:>9.3}", b.p50(s, t).unwrap_or(f64::NAN));
            }
        }
        let fmt = |v: Option<f64>, pct: bool| match v {
            Some(x) if pct => format!("{:.2}%", x * 100.0),
            Some(x) => format!("{x:.4}"),
            None => "-".into(),
        };
        let q = b.quality.as_ref();
        row += &format!(
            " {:>8} {:>9} {:>9}",
            fmt(q.and_then(|q| q.accuracy), false),
            fmt(q.and_then(|q| q.argmax_agreement), true),
            fmt(q.map(|q| q.cosine_mean), false)
        );
        out += &row;
        out.push('\n');
    }
    if c.blobs.iter().all(|b| b.quality.is_none()) {
        out += "(accuracy: pass --reference HF_DIR --data FILE)\n";
    }
    out
}

/// "int8" stays, "f16" stays; anything long is cut for the narrow column.
fn short(s: &str) -> String {
    s.chars().take(4).collect()
}
