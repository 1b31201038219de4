//! Progress on long work (bench grids, compare): a counter with a spinner on standard error,
//! drawn only when standard error is a terminal, so pipes, files and CI logs get none of it.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// A bar over `len` steps; `{msg}` names the step in progress.
pub fn steps(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Redrawn four times a second even while one step runs for seconds; the drawing thread
    // sleeps in between, so a benchmark on the other core is barely disturbed.
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
