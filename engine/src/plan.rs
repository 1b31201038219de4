//! The model's tensors resolved once at open: every weight the forward pass reads, checked for
//! encoding, layout and shape, and kept as an index into the blob's table of contents so each
//! run turns it into a typed slice without a name lookup or an allocation.

use crate::blob::{Blob, Encoding, Layout, TensorInfo};
use crate::EngineError;
use edgebert_models::schema::{layer_name, Part};
use edgebert_models::{Config, Head};

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

/// An embedding table `[rows, width]` (f32, f16, int8 per row or int4 per row group).
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

/// The masked-LM head: transform, activation, norm, then the word table as decoder plus `bias`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MlmPlan {
    pub transform: LinearRef,
    pub norm: NormRef,
    pub bias: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub word: TableRef,
    pub position: TableRef,
    /// `None` for families without token types (DistilBERT).
    pub token_type: Option<TableRef>,
    pub embeddings_norm: NormRef,
    /// ALBERT's projection from the embedding width to the hidden size.
    pub projection: Option<LinearRef>,
    /// One entry per layer run; layers that share weights (ALBERT) point at the same tensors.
    pub layers: Vec<LayerPlan>,
    pub pooler: Option<LinearRef>,
    pub classifier: Option<LinearRef>,
    pub mlm: Option<MlmPlan>,
}

impl Plan {
    pub fn resolve(blob: &Blob, config: &Config) -> Result<Plan, EngineError> {
        let (h, e, f) = (config.hidden_size, config.embedding_size, config.intermediate_size);
        let r = Resolver { blob };
        let stored = config.stored_layers();
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let p = |part: &str| layer_name(i % stored, part);
                Ok(LayerPlan {
                    query: r.linear(&p("attention.self.query"), h, h)?,
                    key: r.linear(&p("attention.self.key"), h, h)?,
                    value: r.linear(&p("attention.self.value"), h, h)?,
                    attention_output: r.linear(&p("attention.output.dense"), h, h)?,
                    attention_norm: r.norm(&p("attention.output.LayerNorm"), h)?,
                    intermediate: r.linear(&p("intermediate.dense"), f, h)?,
                    output: r.linear(&p("output.dense"), h, f)?,
                    output_norm: r.norm(&p("output.LayerNorm"), h)?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let labels = |r: &Resolver| -> Result<usize, EngineError> {
            let n = config.id2label.len();
            let stored = r.find(&format!("{}.weight", Part::CLASSIFIER))?.shape.first().copied().unwrap_or(0);
            Ok(if n > 0 { n } else { stored })
        };
        let pooler = match config.head {
            Head::SequenceClassification => Some(r.linear(Part::POOLER, h, h)?),
            _ => None,
        };
        let classifier = match config.head {
            Head::SequenceClassification | Head::TokenClassification => {
                Some(r.linear(Part::CLASSIFIER, labels(&r)?, h)?)
            }
            Head::QuestionAnswering => Some(r.linear(Part::CLASSIFIER, 2, h)?),
            Head::None | Head::MaskedLm => None,
        };
        let mlm = match config.head {
            Head::MaskedLm => Some(MlmPlan {
                transform: r.linear(Part::MLM_TRANSFORM, e, h)?,
                norm: r.norm(Part::MLM_NORM, e)?,
                bias: r.vector(Part::MLM_BIAS, config.vocab_size)?,
            }),
            _ => None,
        };
        Ok(Plan {
            word: r.table(Part::WORD, config.vocab_size, e)?,
            position: r.table(Part::POSITION, config.max_position_embeddings, e)?,
            token_type: match config.type_vocab_size {
                0 => None,
                n => Some(r.table(Part::TOKEN_TYPE, n, e)?),
            },
            embeddings_norm: r.norm(Part::EMBEDDINGS_NORM, e)?,
            projection: if e != h { Some(r.linear(Part::PROJECTION, h, e)?) } else { None },
            layers,
            pooler,
            classifier,
            mlm,
        })
    }
}

struct Resolver<'a> {
    blob: &'a Blob,
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

    fn norm(&self, prefix: &str, width: usize) -> Result<NormRef, EngineError> {
        Ok(NormRef {
            gamma: self.vector(&format!("{prefix}.weight"), width)?,
            beta: self.vector(&format!("{prefix}.bias"), width)?,
        })
    }

    fn linear(&self, prefix: &str, n: usize, k: usize) -> Result<LinearRef, EngineError> {
        let packed = |t: &TensorInfo| {
            t.layout == Layout::Panel16
                && matches!(
                    t.encoding,
                    Encoding::F32 | Encoding::F16 | Encoding::I8Channel | Encoding::I4Group
                )
        };
        Ok(LinearRef {
            weight: self.expect(&format!("{prefix}.weight"), "a packed linear weight", packed, &[n, k])?,
            bias: self.vector(&format!("{prefix}.bias"), n)?,
            n,
            k,
        })
    }

    fn table(&self, name: &str, rows: usize, width: usize) -> Result<TableRef, EngineError> {
        let row_major = |t: &TensorInfo| {
            t.layout == Layout::RowMajor
                && matches!(
                    t.encoding,
                    Encoding::F32 | Encoding::F16 | Encoding::I8Row | Encoding::I4RowGroup
                )
        };
        Ok(TableRef { index: self.expect(name, "an embedding table", row_major, &[rows, width])?, rows })
    }
}
