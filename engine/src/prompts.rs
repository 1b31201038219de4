//! Prompts: the text a sentence-transformers model expects before its input (`"query: "`,
//! `"Represent this sentence for searching relevant passages: "` …), as e5, bge, gte and
//! nomic models are trained. They come from the checkpoint's `config_sentence_transformers.json`
//! (`prompts` and `default_prompt_name`) and travel in the blob's metadata (FORMAT.md §3.1:
//! `prompts.names`, `prompts.texts`, `prompts.default`). The default prompt, when a model names
//! one, is used whenever the caller picks none, as `SentenceTransformer.encode` does.

use crate::blob::{BlobError, MetaValue, Metadata};

/// A model's named prompts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompts {
    /// `(name, text)` pairs, in name order.
    pub entries: Vec<(String, String)>,
    /// The prompt used when none is asked for.
    pub default: Option<String>,
}

/// Which prompt to put before each text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptChoice<'a> {
    /// The model's default prompt, if it has one.
    Default,
    /// A prompt of the model, by name.
    Named(&'a str),
    /// This text, whatever the model says.
    Text(&'a str),
    /// Nothing, not even the default.
    None,
}

/// A prompt name the model does not have.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("the model has no prompt named `{name}`; its prompts: {known}")]
pub struct UnknownPrompt {
    pub name: String,
    /// The names it has, comma-separated, or "none".
    pub known: String,
}

pub const NAMES_KEY: &str = "prompts.names";
pub const TEXTS_KEY: &str = "prompts.texts";
pub const DEFAULT_KEY: &str = "prompts.default";

impl Prompts {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The text of the prompt `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str())
    }

    /// The text `choice` puts before each input ("" for none).
    pub fn resolve<'a>(&'a self, choice: PromptChoice<'a>) -> Result<&'a str, UnknownPrompt> {
        let named = |name: &str| {
            self.get(name).ok_or_else(|| UnknownPrompt {
                name: name.to_string(),
                known: if self.is_empty() {
                    "none".into()
                } else {
                    self.entries.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                },
            })
        };
        match choice {
            PromptChoice::Default => self.default.as_deref().map_or(Ok(""), named),
            PromptChoice::Named(name) => named(name),
            PromptChoice::Text(text) => Ok(text),
            PromptChoice::None => Ok(""),
        }
    }

    /// The metadata entries that store these prompts (none when there are none).
    pub fn to_metadata(&self) -> Vec<(String, MetaValue)> {
        if self.is_empty() {
            return Vec::new();
        }
        let names = self.entries.iter().map(|(n, _)| n.clone()).collect();
        let texts = self.entries.iter().map(|(_, t)| t.clone()).collect();
        let mut m = vec![
            (NAMES_KEY.into(), MetaValue::StrList(names)),
            (TEXTS_KEY.into(), MetaValue::StrList(texts)),
        ];
        if let Some(d) = &self.default {
            m.push((DEFAULT_KEY.into(), MetaValue::Str(d.clone())));
        }
        m
    }

    /// The prompts a blob's metadata stores; none when the keys are absent.
    pub fn from_metadata(m: &Metadata<'_>) -> Result<Prompts, BlobError> {
        let names = m.opt_str_list(NAMES_KEY)?.unwrap_or_default();
        let texts = m.opt_str_list(TEXTS_KEY)?.unwrap_or_default();
        if names.len() != texts.len() {
            return Err(BlobError::InvalidMetadata {
                key: TEXTS_KEY,
                problem: "must hold one text per name of `prompts.names`",
            });
        }
        let prompts =
            Prompts { entries: names.into_iter().zip(texts).collect(), default: m.opt_str(DEFAULT_KEY)? };
        if prompts.default.as_deref().is_some_and(|d| prompts.get(d).is_none()) {
            return Err(BlobError::InvalidMetadata {
                key: DEFAULT_KEY,
                problem: "must be one of `prompts.names`",
            });
        }
        Ok(prompts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_resolve_as_sentence_transformers_does() {
        let p = Prompts {
            entries: vec![("passage".into(), "passage: ".into()), ("query".into(), "query: ".into())],
            default: Some("query".into()),
        };
        assert_eq!(p.resolve(PromptChoice::Default), Ok("query: "));
        assert_eq!(p.resolve(PromptChoice::Named("passage")), Ok("passage: "));
        assert_eq!(p.resolve(PromptChoice::Text("x: ")), Ok("x: "));
        assert_eq!(p.resolve(PromptChoice::None), Ok(""));
        let err = p.resolve(PromptChoice::Named("doc")).unwrap_err().to_string();
        assert!(err.contains("`doc`") && err.contains("passage, query"), "{err}");
        assert_eq!(Prompts::default().resolve(PromptChoice::Default), Ok(""));
        assert!(Prompts::default()
            .resolve(PromptChoice::Named("q"))
            .unwrap_err()
            .to_string()
            .contains("none"));
    }
}
