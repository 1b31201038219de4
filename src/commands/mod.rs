//! One module per subcommand: its clap arguments and its `run`.

pub mod answer;
pub mod bench;
pub mod classify;
pub mod compare;
pub mod completions;
pub mod convert;
pub mod distill;
pub mod embed;
mod embed_output;
pub mod eval;
pub mod fill;
pub mod finetune;
pub mod init;
pub mod inspect;
mod prompt_args;
pub mod rerank;
pub mod search;
pub mod tag;
pub mod version;
