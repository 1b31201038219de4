//! The model's tensors resolved once at open: every weight the forward pass reads, checked for
//! encoding, layout and shape, and kept as an index into the blob's table of contents so each
//! run turns it into a typed slice without a name lookup or an allocation.

use crate::blob::{Blob, Encoding, Layout, TensorInfo};
use crate::EngineError;
use edgebert_models::Config;

/// A linear layer: packed weight `[n, k]` and f32 bias `[n]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LinearRef {
    pub weight: usize,
    pub bias: usize,
    pub n: usize,
    pub k: usize,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct NormRef {
    pub gamma: usize,
    pub beta: usize,
}

/// An embedding table `[rows, width]` (f32, f16 or int8 per row).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableRef {
    pub index: usize,
    pub rows: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct LayerPlan {
    pub query: LinearRef,
    pub key: LinearRef,
    pub value: LinearRef,
    pub attention_output: LinearRef,
    pub attention_norm: NormRef,
    pub intermediate: LinearRef,
    pub output: LinearRef,
    pub output_norm: NormRef,
}

#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub word: TableRef,
    pub position: TableRef,
    pub token_type: TableRef,
    pub embeddings_norm: NormRef,
    pub layers: Vec<LayerPlan>,
    pub pooler: Option<LinearRef>,
    pub classifier: Option<LinearRef>,
}

impl Plan {
    pub fn resolve(blob: &Blob, config: &Config, classifier: bool) -> Result<Plan, EngineError> {
        let r = Resolver { blob, h: config.hidden_size };
        let (h, f) = (config.hidden_size, config.intermediate_size);
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                Ok(LayerPlan {
                    query: r.linear(&format!("{p}.attention.self.query"), h, h)?,
                    key: r.linear(&format!("{p}.attention.self.key"), h, h)?,
                    value: r.linear(&format!("{p}.attention.self.value"), h, h)?,
                    attention_output: r.linear(&format!("{p}.attention.output.dense"), h, h)?,
                    attention_norm: r.norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: r.linear(&format!("{p}.intermediate.dense"), f, h)?,
                    output: r.linear(&format!("{p}.output.dense"), h, f)?,
                    output_norm: r.norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let (pooler, classifier) = if classifier {
            let labels = config.id2label.len();
            let cls = r.find("classifier.weight")?;
            let n = if labels > 0 { labels } else { cls.shape.first().copied().unwrap_or(0) };
            (Some(r.linear("pooler.dense", h, h)?), Some(r.linear("classifier", n, h)?))
        } else {
            (None, None)
        };
        Ok(Plan {
            word: r.table("embeddings.word_embeddings.weight", config.vocab_size)?,
            position: r.table("embeddings.position_embeddings.weight", config.max_position_embeddings)?,
            token_type: r.table("embeddings.token_type_embeddings.weight", config.type_vocab_size)?,
            embeddings_norm: r.norm("embeddings.LayerNorm")?,
            layers,
            pooler,
            classifier,
        })
    }
}

struct Resolver<'a> {
    blob: &'a Blob,
    h: usize,
}

impl Resolver<'_> {
    fn find(&self, name: &str) -> Result<&TensorInfo, EngineError> {
        self.blob
            .index()
            .tensor(name)
            .ok_or_else(|| crate::blob::BlobError::MissingTensor { name: name.into() }.into())
    }

    fn position(&self, name: &str) -> Result<usize, EngineError> {
        let info = self.find(name)?;
        Ok(self.blob.tensors().iter().position(|t| std::ptr::eq(t, info)).unwrap_or(0))
    }

    fn expect(
        &self,
        name: &str,
        role: &'static str,
        ok: impl Fn(&TensorInfo) -> bool,
        shape: &[usize],
    ) -> Result<usize, EngineError> {
        let info = self.find(name)?;
        if !ok(info) {
            return Err(EngineError::UnusableEncoding {
                name: name.into(),
                encoding: info.encoding,
                layout: info.layout,
                role,
            });
        }
        if info.shape != shape {
            return Err(EngineError::Shape {
                name: name.into(),
                expected: shape.to_vec(),
                found: info.shape.clone(),
            });
        }
        self.position(name)
    }

    fn vector(&self, name: &str, len: usize) -> Result<usize, EngineError> {
        self.expect(name, "an f32 vector", |t| t.encoding == Encoding::F32, &[len])
    }

    fn norm(&self, prefix: &str) -> Result<NormRef, EngineError> {
        Ok(NormRef {
            gamma: self.vector(&format!("{prefix}.weight"), self.h)?,
            beta: self.vector(&format!("{prefix}.bias"), self.h)?,
        })
    }

    fn linear(&self, prefix: &str, n: usize, k: usize) -> Result<LinearRef, EngineError> {
        let packed = |t: &TensorInfo| {
            t.layout == Layout::Panel16
                && matches!(t.encoding, Encoding::F32 | Encoding::F16 | Encoding::I8Channel)
        };
        Ok(LinearRef {
            weight: self.expect(&format!("{prefix}.weight"), "a packed linear weight", packed, &[n, k])?,
            bias: self.vector(&format!("{prefix}.bias"), n)?,
            n,
            k,
        })
    }

    fn table(&self, name: &str, rows: usize) -> Result<TableRef, EngineError> {
        let row_major = |t: &TensorInfo| {
            t.layout == Layout::RowMajor
                && matches!(t.encoding, Encoding::F32 | Encoding::F16 | Encoding::I8Row)
        };
        Ok(TableRef { index: self.expect(name, "an embedding table", row_major, &[rows, self.h])?, rows })
    }
}
