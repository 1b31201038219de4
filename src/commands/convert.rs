//! `edgebert convert`: a Hugging Face checkpoint directory to one blob.

use anyhow::Result;
use clap::{Args, ValueEnum};
use edgebert_convert::blob::progress::ConvertBar;
use edgebert_convert::blob::{convert_dir_opts, ConvertOptions, Precision, Recipe, WriteOutcome};
use edgebert_convert::calib::{BiasCorrection, CalibOptions, GptqInputs};
use std::path::PathBuf;

/// Quantize and pack a Hugging Face checkpoint into a memory-mappable blob (docs/FORMAT.md).
#[derive(Args, Debug)]
#[command(after_help = "Examples (the checkpoint folder the quickstart fetched):\n  \
    edgebert convert .cache/models/all-minilm-l6-v2 -o minilm.ebq\n  \
    edgebert convert .cache/models/all-minilm-l6-v2 -o minilm-f16.ebq --weights f16 --embeddings f16 --force\n  \
    edgebert convert models/minilm-l6-rt-sentiment -o small.ebq --vocab-from data/rt_polarity/train.tsv")]
pub struct ConvertArgs {
    /// Checkpoint directory: config.json, model.safetensors, tokenizer.json or vocab.txt.
    pub model: PathBuf,
    /// Where to write the blob (written to a temporary file first, then renamed).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Precision of linear layers (attention, feed-forward, pooler, classifier). int4: symmetric
    /// 4-bit in groups of 32 inputs with f16 scales (about 0.56 bytes per weight).
    #[arg(long, value_enum, default_value_t = Choice::Int8)]
    pub weights: Choice,
    /// Precision of the word and position embedding tables (int8: one scale per row; int4: one f16
    /// scale per 32 values of a row, about 0.56 bytes per value; the token-type table stays f32).
    /// With a masked-LM head the decoder is the word table, so it shares this precision.
    #[arg(long, value_enum, default_value_t = Choice::Int8)]
    pub embeddings: Choice,
    /// With int8 or int4 weights, keep the linear layers whose name contains one of these (comma-separated,
    /// e.g. `output.dense` for every feed-forward output projection) in f16: mixed precision for the
    /// layers int8 hurts most (`edgebert eval` shows the per-layer error).
    #[arg(long, value_delimiter = ',')]
    pub keep_f16: Vec<String>,
    /// Prune the vocabulary to what this corpus needs (one text per line, or `label<TAB>text`
    /// rows as `edgebert eval --data` reads; repeatable): the tokens its tokenization uses, every
    /// single-character (and `##`/`▁` + character) token and the special tokens, so any text still
    /// tokenizes, to smaller pieces where a word's token was dropped. Ids are renumbered in the
    /// word table, the masked-LM head and the stored tokenizer (WordPiece, Unigram, BPE).
    #[arg(long, value_name = "CORPUS.txt")]
    pub vocab_from: Vec<PathBuf>,
    /// Calibrate on these texts (one per line, or the text column of `label<TAB>text` rows as
    /// `edgebert eval --data` reads them): the float reference runs on them and every linear
    /// layer's bias absorbs the mean shift its quantized weight causes (see --bias-correction).
    /// Records `quant.recipe` and `quant.calib` in the blob. Progress goes to stderr.
    #[arg(long, value_name = "TEXTS.txt")]
    pub calib: Option<PathBuf>,
    /// Calibration texts used at most, evenly spaced through the file (rows i·N/limit).
    #[arg(long, value_name = "N", default_value_t = edgebert_convert::calib::DEFAULT_LIMIT, requires = "calib")]
    pub calib_limit: usize,
    /// With --calib: choose per linear weight the smallest encoding, from f16 down to --weights,
    /// that keeps the blob within P percentage points of the float reference on the calibration
    /// texts: of argmax agreement for classifiers (100 − agreement% <= P), of the mean embedding
    /// cosine for encoders (100·(1 − mean cosine) <= P).
    #[arg(long, value_name = "P", requires = "calib")]
    pub max_drop: Option<f64>,
    /// With --calib: bias correction `auto` (kept when it lowers the log-odds / cosine error on
    /// the calibration texts), `on` (always), `off` (biases as the checkpoint has them).
    #[arg(long, value_enum, default_value_t = BiasChoice::Auto, requires = "calib")]
    pub bias_correction: BiasChoice,
    /// With --calib and --weights int4: round every int4 weight to its nearest level instead of
    /// GPTQ (which quantizes each weight's inputs in order and pushes every rounding error onto
    /// the inputs not yet quantized, through the inverse Hessian of the calibration activations).
    #[arg(long, requires = "calib")]
    pub no_gptq: bool,
    /// With --calib and --weights int4: GPTQ's dampening, this times the mean of the Hessian's
    /// diagonal added to the diagonal.
    #[arg(long, value_name = "D", default_value_t = edgebert_convert::calib::gptq::DAMP, requires = "calib")]
    pub gptq_damp: f64,
    /// With --calib and --weights int4: what GPTQ's Hessians are measured on: `float` (the float
    /// reference's input to each linear), `int8` (those rows rounded as the engine's int8
    /// activations round them), `sequential` (layer by layer, the int8-rounded inputs of the
    /// model whose earlier layers are already quantized).
    #[arg(long, value_enum, default_value_t = GptqInputsChoice::Float, requires = "calib")]
    pub gptq_inputs: GptqInputsChoice,
    /// With --calib and --weights int4: after GPTQ, re-fit each output row's group scales to its
    /// integers by least squares under the Hessian (the output error on the calibration inputs).
    #[arg(long, requires = "calib")]
    pub gptq_refit: bool,
    /// Replace an existing, different file at the output path.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BiasChoice {
    Auto,
    On,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GptqInputsChoice {
    Float,
    Int8,
    Sequential,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Choice {
    Int4,
    Int8,
    F16,
    F32,
}

impl From<Choice> for Precision {
    fn from(c: Choice) -> Precision {
        match c {
            Choice::Int4 => Precision::Int4,
            Choice::Int8 => Precision::Int8,
            Choice::F16 => Precision::F16,
            Choice::F32 => Precision::F32,
        }
    }
}

pub fn run(args: ConvertArgs) -> Result<()> {
    let recipe = Recipe { weights: args.weights.into(), embeddings: args.embeddings.into() };
    if let Some(p) = args.max_drop {
        if !(p.is_finite() && p >= 0.0) {
            anyhow::bail!("--max-drop {p}: expected a number of percentage points >= 0");
        }
    }
    if !(args.gptq_damp.is_finite() && args.gptq_damp > 0.0) {
        anyhow::bail!("--gptq-damp {}: expected a number > 0", args.gptq_damp);
    }
    let calib = args.calib.map(|texts| CalibOptions {
        texts,
        gptq: !args.no_gptq,
        gptq_damp: args.gptq_damp,
        gptq_refit: args.gptq_refit,
        gptq_inputs: match args.gptq_inputs {
            GptqInputsChoice::Float => GptqInputs::Float,
            GptqInputsChoice::Int8 => GptqInputs::Int8,
            GptqInputsChoice::Sequential => GptqInputs::Sequential,
        },
        limit: args.calib_limit,
        max_drop: args.max_drop,
        bias_correction: match args.bias_correction {
            BiasChoice::Auto => BiasCorrection::Auto,
            BiasChoice::On => BiasCorrection::On,
            BiasChoice::Off => BiasCorrection::Off,
        },
    });
    let options = ConvertOptions {
        recipe,
        keep_f16: args.keep_f16,
        vocab_from: args.vocab_from,
        force: args.force,
        calib,
    };
    let mut bar = ConvertBar::new();
    let result = convert_dir_opts(&args.model, &args.output, &options, &mut |stage| bar.update(stage));
    bar.finish();
    let report = result?;
    if let Some(v) = &report.vocab {
        let p = &v.prune;
        outln!(
            "vocabulary: kept {} of {} tokens ({:.1}%; {} used by the {} corpus texts, the rest single characters \
             and special tokens), {}; word table {} -> {} bytes, blob {} -> {} bytes",
            p.kept,
            p.original,
            100.0 * p.kept as f64 / p.original.max(1) as f64,
            p.used_by_corpus,
            p.corpus_texts,
            p.family,
            v.word_table_bytes.0,
            v.word_table_bytes.1,
            v.unpruned_blob_bytes,
            report.blob_bytes
        );
    }
    if let Some(c) = &report.calib {
        outln!(
            "calibration on {} of {} texts{}:",
            c.texts,
            c.available,
            if c.tabular { " (text column of the tsv)" } else { "" }
        );
        outln!("  without calibration   {}", c.before);
        if let Some(g) = &c.gptq {
            outln!("  int4 weights          {g}");
        }
        if c.max_drop.is_some() || c.gptq.is_some() {
            outln!("  chosen encodings      {}", c.chosen);
        }
        outln!(
            "  final blob            {} (bias correction {})",
            c.after,
            if c.bias_corrected { "on" } else { "off" }
        );
        if let Some(p) = c.max_drop {
            outln!("recipe (budget {p} points, {} on the calibration texts):", c.after.drop_points());
            for line in &c.recipe {
                outln!("  {line}");
            }
        }
    }
    let verb = match report.outcome {
        WriteOutcome::Created => "wrote",
        WriteOutcome::Replaced => "replaced",
        WriteOutcome::Unchanged => "unchanged (identical file already there):",
    };
    outln!(
        "{verb} {} — {} bytes, {} tensors, {:.1}% of model.safetensors ({} bytes); weights {}, embeddings {}",
        report.output.display(),
        report.blob_bytes,
        report.tensors,
        100.0 * report.blob_bytes as f64 / report.source_bytes.max(1) as f64,
        report.source_bytes,
        recipe.weights,
        recipe.embeddings
    );
    Ok(())
}
