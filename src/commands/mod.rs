//! One module per subcommand: its clap arguments and its `run`.

pub mod classify;
pub mod convert;
pub mod embed;
pub mod inspect;
