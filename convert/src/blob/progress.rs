//! The converter's progress bar (indicatif), shared by `edgebert convert` and anything else that
//! converts: hidden automatically when stderr is not a terminal.

use super::Stage;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar that follows [`Stage`]s: a spinner while loading, a bar over tensors, a spinner while
/// writing and verifying.
pub struct ConvertBar {
    bar: ProgressBar,
}

impl Default for ConvertBar {
    fn default() -> Self {
        Self::new()
    }
}

impl ConvertBar {
    pub fn new() -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_message("loading checkpoint");
        ConvertBar { bar }
    }

    pub fn update(&mut self, stage: Stage<'_>) {
        match stage {
            Stage::Loading => self.bar.set_message("loading checkpoint"),
            Stage::Pruning { texts } => {
                self.bar.set_message(format!("pruning the vocabulary to what {texts} corpus texts use"))
            }
            // Calibration is long: its lines stay on stderr, bar or no bar.
            Stage::Calibrating { message } => {
                if self.bar.is_hidden() {
                    eprintln!("{message}");
                } else {
                    self.bar.println(message);
                }
            }
            Stage::Encoding { done, total, name } => {
                if self.bar.length() != Some(total as u64) {
                    self.bar.set_length(total as u64);
                    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} tensors  {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar());
                    self.bar.set_style(style);
                }
                self.bar.set_position(done as u64);
                self.bar.set_message(name.to_string());
            }
            Stage::Writing => {
                self.bar.set_style(ProgressStyle::default_spinner());
                self.bar.set_message("writing and verifying");
                self.bar.tick();
            }
        }
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
