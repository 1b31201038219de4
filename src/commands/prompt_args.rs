//! `--prompt NAME`, `--prompt-text TEXT`, `--no-prompt`: shared by the commands that embed text.

use anyhow::Result;
use clap::Args;
use edgebert_engine::prompts::{PromptChoice, Prompts};

#[derive(Args, Debug, Clone, Default)]
pub struct PromptArgs {
    /// Put the model's prompt NAME before each text (from config_sentence_transformers.json,
    /// stored in the blob; see `edgebert inspect`). Without it the model's default prompt is used,
    /// if it names one.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["prompt_text", "no_prompt"])]
    pub prompt: Option<String>,
    /// Put this text before each text, e.g. "query: " for e5 models.
    #[arg(long, value_name = "TEXT", conflicts_with = "no_prompt")]
    pub prompt_text: Option<String>,
    /// No prompt, not even the model's default one.
    #[arg(long)]
    pub no_prompt: bool,
}

impl PromptArgs {
    /// The text to put before each input ("" for none).
    pub fn resolve<'a>(&'a self, prompts: &'a Prompts) -> Result<&'a str> {
        let choice = match (&self.prompt, &self.prompt_text, self.no_prompt) {
            (Some(name), _, _) => PromptChoice::Named(name),
            (_, Some(text), _) => PromptChoice::Text(text),
            (_, _, true) => PromptChoice::None,
            _ => PromptChoice::Default,
        };
        Ok(prompts.resolve(choice)?)
    }
}
