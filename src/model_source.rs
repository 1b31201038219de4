//! MODEL arguments: a Hugging Face checkpoint directory (run by the float reference path) or a
//! converted blob file.

use anyhow::{bail, Result};
use edgebert_convert::reference::ReferencePipeline;
use std::path::Path;

pub fn open(model: &Path) -> Result<ReferencePipeline> {
    if model.is_dir() {
        return ReferencePipeline::open(model);
    }
    if model.is_file() {
        bail!(
            "{}: running blobs needs the quantized engine, which this version does not have yet; \
             pass a Hugging Face checkpoint directory",
            model.display()
        );
    }
    bail!("{}: no such file or directory", model.display())
}
