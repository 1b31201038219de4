//! [`Model`]: an open blob ready to run, shared by every thread (`Send + Sync`, read-only over
//! the mapping). Work happens in [`Session`](crate::Session)s, made by `Model::session` (in
//! `session.rs`, so that this module does not depend on the session's).

use crate::blob::{Blob, ModelInfo, TensorData};
use crate::plan::Plan;
use crate::EngineError;
use edgebert_kernels::Kernels;
use edgebert_models::Sequence;
use std::path::Path;

pub struct Model {
    blob: Blob,
    info: ModelInfo,
    plan: Plan,
    kernels: Kernels,
    #[cfg(feature = "tokenizer")]
    tokenizer: crate::tokenizer::TextTokenizer,
}

impl Model {
    /// Maps and validates the blob at `path`, resolves every weight, builds the tokenizer.
    pub fn open(path: impl AsRef<Path>) -> Result<Model, EngineError> {
        Model::from_blob(Blob::open(path)?)
    }

    /// A blob in memory that outlives the model, used in place (see [`Blob::from_static`]).
    pub fn from_static(bytes: &'static [u8]) -> Result<Model, EngineError> {
        Model::from_blob(Blob::from_static(bytes)?)
    }

    /// A blob stored at `[offset, offset + len)` of the open file `fd`, mapped (see
    /// [`Blob::open_fd_region`]): an uncompressed asset inside an APK.
    #[cfg(unix)]
    pub fn open_fd_region(
        fd: std::os::fd::BorrowedFd<'_>,
        offset: u64,
        len: u64,
    ) -> Result<Model, EngineError> {
        Model::from_blob(Blob::open_fd_region(fd, offset, len)?)
    }

    pub fn from_blob(blob: Blob) -> Result<Model, EngineError> {
        let info = blob.model_info()?;
        let plan = Plan::resolve(&blob, &info.config)?;
        #[cfg(feature = "tokenizer")]
        let tokenizer = crate::tokenizer::TextTokenizer::new(&blob.tokenizer_spec()?, info.max_seq_len)?;
        Ok(Model {
            blob,
            info,
            plan,
            kernels: Kernels::selected(),
            #[cfg(feature = "tokenizer")]
            tokenizer,
        })
    }

    /// Runs with `kernels` instead of the process-wide backend (tests compare backends).
    pub fn with_kernels(mut self, kernels: Kernels) -> Model {
        self.kernels = kernels;
        self
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn blob(&self) -> &Blob {
        &self.blob
    }

    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// Whether the model ends with a sequence-classification head (dense layer and classifier).
    pub fn has_classifier(&self) -> bool {
        self.plan.pooler.is_some() && self.plan.classifier.is_some()
    }

    /// The classification head's label count (the length of each probability vector; label
    /// names beyond the blob's `id2label` are `LABEL_<id>`), or 0 without such a head.
    pub fn label_count(&self) -> usize {
        match (self.plan.pooler, self.plan.classifier) {
            (Some(_), Some(c)) => c.n,
            _ => 0,
        }
    }

    #[cfg(feature = "tokenizer")]
    pub fn tokenizer(&self) -> &crate::tokenizer::TextTokenizer {
        &self.tokenizer
    }

    /// `[CLS] text [SEP]` ids, truncated to the model's maximum length.
    #[cfg(feature = "tokenizer")]
    pub fn tokenize(&self, text: &str) -> Result<Sequence, EngineError> {
        let e = self.tokenizer.encode(text)?;
        Ok(Sequence { ids: e.ids, type_ids: e.type_ids })
    }

    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }

    pub(crate) fn tensor(&self, index: usize) -> Result<TensorData<'_>, EngineError> {
        let info = self
            .blob
            .tensors()
            .get(index)
            .ok_or_else(|| crate::blob::BlobError::MissingTensor { name: format!("#{index}") })?;
        Ok(self.blob.view(info)?.data)
    }

    pub(crate) fn tensor_name(&self, index: usize) -> &str {
        self.blob.tensors().get(index).map_or("?", |t| t.name.as_str())
    }

    pub(crate) fn f32(&self, index: usize) -> Result<&[f32], EngineError> {
        match self.tensor(index)? {
            TensorData::F32(v) => Ok(v),
            _ => Err(EngineError::PackedLayout {
                name: self.tensor_name(index).to_string(),
                problem: "expected f32 values".into(),
            }),
        }
    }

    /// The same checks as the reference encoder (`Config::check_batch`).
    pub(crate) fn check_input(&self, batch: &[Sequence]) -> Result<(), EngineError> {
        Ok(self.info.config.check_batch(batch)?)
    }
}
