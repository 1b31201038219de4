//! `edgebert`: the command-line tool. Converts Hugging Face checkpoints, classifies and embeds
//! text, inspects and benchmarks models. Argument parsing and printing live here; the work is
//! done by the library crates.

#![forbid(unsafe_code)]

mod commands;
mod input;
mod model_source;
mod progress;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Run BERT-family encoders fast and small: classify, tag, answer, fill and embed text on laptops,
/// phones and boards.
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
    edgebert <command> --help     (every command has examples)"
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
    exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => commands::bench::run(args),
        Command::Classify(args) => commands::classify::run(args),
        Command::Tag(args) => commands::tag::run(args),
        Command::Answer(args) => commands::answer::run(args),
        Command::Fill(args) => commands::fill::run(args),
        Command::Embed(args) => commands::embed::run(args),
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
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `edgebert ... | head` closes stdout early; `println!` then panics with "Broken pipe". That is
/// not an error of ours: stop quietly, as other command-line tools do.
fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// `text` cut to `max` characters with an ellipsis, tabs and newlines shown as spaces, for tables.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    if flat.chars().count() <= max {
        return flat;
    }
    flat.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
}
