//! MODEL arguments: a Hugging Face checkpoint directory (run by the float reference path) or a
//! converted blob file (run by the quantized engine). Both give the same outputs.

use anyhow::{bail, Context, Result};
use edgebert_convert::reference::ReferencePipeline;
use edgebert_engine::Model;
use edgebert_models::Classification;
use std::path::Path;

pub enum Runner {
    Reference(Box<ReferencePipeline>),
    Engine(Box<Model>),
}

pub fn open(model: &Path) -> Result<Runner> {
    if model.is_dir() {
        return Ok(Runner::Reference(Box::new(ReferencePipeline::open(model)?)));
    }
    if model.is_file() {
        let m = Model::open(model).with_context(|| format!("{}", model.display()))?;
        return Ok(Runner::Engine(Box::new(m)));
    }
    bail!("{}: no such file or directory", model.display())
}

impl Runner {
    pub fn classify(&self, texts: &[&str]) -> Result<Vec<Classification>> {
        match self {
            Runner::Reference(p) => p.classify(texts),
            Runner::Engine(m) => {
                if !m.has_classifier() {
                    bail!(
                        "this model has no classification head (pooler + classifier); use `edgebert embed`"
                    );
                }
                let mut session = m.session();
                Ok(texts.chunks(BATCH).map(|c| session.classify(c)).collect::<Result<Vec<_>, _>>()?.concat())
            }
        }
    }

    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        match self {
            Runner::Reference(p) => p.embed(texts),
            Runner::Engine(m) => {
                let mut session = m.session();
                Ok(texts.chunks(BATCH).map(|c| session.embed(c)).collect::<Result<Vec<_>, _>>()?.concat())
            }
        }
    }
}

/// Texts per engine call: bounds scratch memory for long input files.
const BATCH: usize = 32;
