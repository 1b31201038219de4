//! Every write to standard output goes through [`outln!`], so that a full disk (`> /dev/full`)
//! or a closed pipe ends the command with a clear error, never a panic ("failed printing to
//! stdout"). `main` turns the error into the documented exit: a closed pipe (`| head -1`) ends
//! quietly with 0, any other write failure prints one line and exits 1.

use std::fmt;
use std::io::{self, Write};

/// Standard output could not be written.
#[derive(Debug)]
pub struct StdoutError(pub io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

impl StdoutError {
    /// The reader went away (`| head`): not a failure of ours.
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

/// Writes `text` to standard output; the error names standard output.
pub fn write_stdout(text: &str) -> Result<(), StdoutError> {
    io::stdout().lock().write_all(text.as_bytes()).map_err(StdoutError)
}

/// Writes one formatted line (see [`outln!`]).
pub fn line(args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
    let mut out = io::stdout().lock();
    out.write_fmt(args).and_then(|()| out.write_all(b"\n")).map_err(StdoutError)
}

/// Flushes what is still buffered (the last line of a `--json` run when stdout is a file).
pub fn flush() -> Result<(), StdoutError> {
    io::stdout().lock().flush().map_err(StdoutError)
}

/// `println!` that returns the write error (`?` it) instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::line(format_args!(""))?
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))?
    };
}

/// A wrong or inconsistent invocation (exit code 2, as for clap's own argument errors), as
/// opposed to a failure while running (exit code 1).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns early with a [`UsageError`] (exit code 2).
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err($crate::output::UsageError(format!($($arg)*)).into())
    };
}
