use anyhow::Result;
use clap::Args;
use edgebert_convert::eval::{evaluate, read_examples};
use edgebert_convert::reference::ReferencePipeline;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// Compare a blob with the float reference of its source checkpoint on a data file.
#[derive(Args, Debug)]
#[command(
    after_help = "DATA is `label<TAB>text` per line (a `label\\ttext` header is skipped), or one text per line.\n\n\
Examples (paths the quickstart creates):\n  edgebert eval .cache/all-minilm-l6-v2.int8.ebq --reference .cache/models/all-minilm-l6-v2 \
--data .cache/sentences.txt"
)]
pub struct EvalArgs {
    /// A blob written by `edgebert convert`.
    pub model: PathBuf,
    /// The Hugging Face checkpoint directory the blob was converted from.
    #[arg(long)]
    pub reference: PathBuf,
    /// Examples: TSV `label<TAB>text`, or plain text lines.
    #[arg(long)]
    pub data: PathBuf,
    /// Use only the first N examples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let mut examples = read_examples(&args.data)?;
    if let Some(n) = args.limit {
        examples.truncate(n);
    }
    let model = crate::model_source::open_model(&args.model)?;
    let reference = ReferencePipeline::open(&args.reference)?;
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new(examples.len() as u64) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} examples, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = evaluate(&model, &reference, &examples, &mut |n| bar.inc(n as u64))?;
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    outln!(
        "{} examples ({}), engine {} vs reference {}",
        report.examples,
        report.task,
        args.model.display(),
        args.reference.display()
    );
    if let (Some(a), Some(r)) = (report.accuracy, report.reference_accuracy) {
        outln!("accuracy           {:.4} (reference {:.4}, {:+.2} points)", a, r, (a - r) * 100.0);
    }
    if let Some(agree) = report.argmax_agreement {
        outln!("argmax agreement   {:.2}%", agree * 100.0);
    }
    if let Some(e) = report.max_abs_logit_error {
        outln!("max |logit error|  {e:.4}");
    }
    if let Some(e) = report.log_odds_error {
        outln!("log-odds error     mean {:+.4}, sd {:.4}, max |err| {:.4}", e.mean, e.sd, e.max_abs);
    }
    if let (Some(agree), true) = (report.argmax_agreement, report.task == "classification") {
        let flips = report.examples - (agree * report.examples as f64).round() as usize;
        outln!("flips              {flips} of {} (label differs from the reference's)", report.examples);
    }
    outln!("output cosine      mean {:.6}, min {:.6}", report.cosine_mean, report.cosine_min);
    if report.tokenization_changed > 0 {
        outln!(
            "tokenization       {} of {} texts ({:.2}%) split into other tokens than the reference's \
             (pruned vocabulary); the layer errors below leave them out",
            report.tokenization_changed,
            report.examples,
            100.0 * report.tokenization_changed as f64 / report.examples.max(1) as f64
        );
    }
    outln!("hidden-state error per layer (0 = embeddings):");
    outln!("  layer    max |err|         nmse");
    for l in &report.layers {
        outln!("  {:>5} {:>12.5} {:>12.3e}", l.layer, l.max_abs, l.nmse);
    }
    Ok(())
}
