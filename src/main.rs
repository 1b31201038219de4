//! `edgebert`: the command-line tool. Converts Hugging Face checkpoints, classifies and embeds
//! text, inspects and benchmarks models. Argument parsing and printing live here; the work is
//! done by the library crates.

#![forbid(unsafe_code)]

#[macro_use]
mod output;
mod commands;
mod input;
mod model_source;
mod progress;

use clap::{CommandFactory, Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Run BERT-family encoders fast and small: classify, tag, answer, fill, embed, rerank and search
/// text on laptops, phones and boards.
#[derive(Parser, Debug)]
#[command(
    name = "edgebert",
    version = commands::version::SHORT,
    long_version = commands::version::long(),
    about,
    long_about = None,
    after_help = "Start here (paths the quickstart, scripts/quickstart.sh, creates):\n  \
    edgebert embed .cache/all-minilm-l6-v2.int8.ebq \"A cat sat.\" \"A kitten rested.\" --nearest\n  \
    edgebert bench .cache/all-minilm-l6-v2.int8.ebq --seq 128\n  \
    edgebert <command> --help     (every command has examples)\n\n\
    Exit codes: 0 success (also when a reader such as `| head -1` closes the output \
    early), 1 runtime error (a model or file that cannot be read, a full disk, ...), 2 usage error \
    (wrong or inconsistent arguments). Errors are one line on stderr starting with \"error:\"."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Bench(commands::bench::BenchArgs),
    Classify(commands::classify::ClassifyArgs),
    Tag(commands::tag::TagArgs),
    Answer(commands::answer::AnswerArgs),
    Fill(commands::fill::FillArgs),
    Embed(commands::embed::EmbedArgs),
    Rerank(commands::rerank::RerankArgs),
    Search(commands::search::SearchArgs),
    Eval(commands::eval::EvalArgs),
    Convert(commands::convert::ConvertArgs),
    Distill(commands::distill::DistillArgs),
    Finetune(commands::finetune::FinetuneArgs),
    Init(commands::init::InitArgs),
    Inspect(commands::inspect::InspectArgs),
    Compare(commands::compare::CompareArgs),
    Completions(commands::completions::CompletionsArgs),
    Man(commands::completions::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => commands::bench::run(args),
        Command::Classify(args) => commands::classify::run(args),
        Command::Tag(args) => commands::tag::run(args),
        Command::Answer(args) => commands::answer::run(args),
        Command::Fill(args) => commands::fill::run(args),
        Command::Embed(args) => commands::embed::run(args),
        Command::Rerank(args) => commands::rerank::run(args),
        Command::Search(args) => commands::search::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Convert(args) => commands::convert::run(args),
        Command::Distill(args) => commands::distill::run(args),
        Command::Finetune(args) => commands::finetune::run(args),
        Command::Init(args) => commands::init::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Compare(args) => commands::compare::run(args),
        Command::Completions(args) => commands::completions::completions(args, Cli::command()),
        Command::Man(args) => commands::completions::man(args, Cli::command()),
    };
    match result.and_then(|()| Ok(output::flush()?)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => exit_for(&err),
    }
}

/// The documented exit code of a failed command (see `--help`), after its one line on stderr.
fn exit_for(err: &anyhow::Error) -> ExitCode {
    if err.downcast_ref::<output::StdoutError>().is_some_and(output::StdoutError::is_closed_pipe) {
        return ExitCode::SUCCESS;
    }
    // Nothing more can be reported when stderr itself fails: the exit code still says it.
    let _ = writeln!(std::io::stderr(), "error: {err:#}");
    if err.downcast_ref::<output::UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// `text` cut to `max` characters with an ellipsis, tabs and newlines shown as spaces, for tables.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        return flat;
    }
    flat.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
}
