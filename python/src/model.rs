//! `edgebert.Model`: one mapped blob, shared by every Python thread. Each call makes a session
//! (the engine's per-call scratch), runs with the GIL released, and converts the result.

use crate::errors::{self, TaskFailure};
use crate::inputs::{self, TextOrPair};
use crate::threads;
use edgebert_engine::tasks::qa::QaParams;
use edgebert_engine::tasks::run::{answer_question, fill_texts, tag_texts, Windows};
use edgebert_engine::tokenizer::PairTruncation;
use edgebert_engine::{EngineError, Model, Session, SessionMemory};
use edgebert_models::{Classification, PoolingMode, Sequence};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::Mutex;

/// A converted model (a `.ebq` blob written by `edgebert convert`), memory-mapped.
#[pyclass(name = "Model", module = "edgebert", frozen, subclass)]
pub struct PyModel {
    model: Model,
    path: PathBuf,
    threads: Option<usize>,
    /// Scratch memory of finished calls, reused by the next ones (a short call would otherwise
    /// spend a tenth of its time allocating). It keeps the size of the largest batch seen.
    parked: Mutex<Vec<SessionMemory>>,
}

/// Parked memories at most: one per thread that calls at the same time, within reason.
const MAX_PARKED: usize = 8;

#[pymethods]
impl PyModel {
    #[new]
    #[pyo3(signature = (path, threads=None))]
    fn new(py: Python<'_>, path: PathBuf, threads: Option<usize>) -> PyResult<Self> {
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1, or None for every core"));
        }
        let model = py.detach(|| Model::open(&path)).map_err(errors::engine)?;
        Ok(PyModel { model, path, threads, parked: Mutex::new(Vec::new()) })
    }

    /// Sentence embeddings, float32, shape (n, dims), with the blob's pooling.
    #[pyo3(signature = (texts, batch_size=32))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        batch_size: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let texts = inputs::texts(texts, "texts")?;
        let batch_size = inputs::positive(batch_size, "batch_size")?;
        let dims = self.model.info().config.hidden_size;
        let refs = texts.refs();
        let flat = py.detach(|| {
            self.run(|| {
                self.with_session(|session| {
                    let mut flat = Vec::with_capacity(refs.len() * dims);
                    for chunk in refs.chunks(batch_size) {
                        for e in session.embed(chunk)? {
                            flat.extend_from_slice(&e);
                        }
                    }
                    Ok::<_, EngineError>(flat)
                })
            })
        })?;
        let flat = flat.map_err(errors::engine)?;
        let rows = flat.len() / dims.max(1);
        let array = Array2::from_shape_vec((rows, dims), flat)
            .map_err(|e| PyValueError::new_err(format!("embedding shape: {e}")))?;
        Ok(array.into_pyarray(py))
    }

    /// Sequence classification: {"label", "score", "probs"} per text (or sentence pair).
    #[pyo3(signature = (texts, batch_size=32))]
    fn classify<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        batch_size: usize,
    ) -> PyResult<Py<PyAny>> {
        let (inputs, single) = inputs::texts_or_pairs(texts, "texts")?;
        let batch_size = inputs::positive(batch_size, "batch_size")?;
        let results = py.detach(|| {
            self.run(|| {
                let tok = self.model.tokenizer();
                let batch = inputs
                    .iter()
                    .map(|input| {
                        let e = match input {
                            TextOrPair::Text(t) => tok.encode(t)?,
                            TextOrPair::Pair(a, b) => tok.encode_pair(a, b, PairTruncation::LongestFirst)?,
                        };
                        Ok(Sequence { ids: e.ids, type_ids: e.type_ids })
                    })
                    .collect::<Result<Vec<_>, EngineError>>()?;
                self.with_session(|session| {
                    let mut out = Vec::with_capacity(batch.len());
                    for chunk in batch.chunks(batch_size) {
                        out.extend(session.classify_sequences(chunk)?);
                    }
                    Ok::<_, EngineError>(out)
                })
            })
        })?;
        let results = results.map_err(errors::engine)?;
        let dicts = results.iter().map(|c| classification(py, c)).collect::<PyResult<Vec<_>>>()?;
        one_or_list(py, dicts, single)
    }

    /// Named entities per text: [{"entity_group", "score", "word", "start", "end"}].
    fn tag<'py>(&self, py: Python<'py>, texts: &Bound<'py, PyAny>) -> PyResult<Py<PyAny>> {
        let texts = inputs::texts(texts, "texts")?;
        let refs = texts.refs();
        let all = py.detach(|| {
            self.run(|| {
                let id2label = &self.model.info().config.id2label;
                tag_texts(&refs, self.model.tokenizer(), id2label, |batch| {
                    Ok::<_, TaskFailure>(self.with_session(|s| s.token_logits(batch))?)
                })
            })
        })??;
        let lists = all
            .iter()
            .map(|entities| {
                let dicts = entities
                    .iter()
                    .map(|e| {
                        let d = py_dict!(py, "entity_group" => &e.entity_group, "score" => e.score,
                            "word" => &e.word, "start" => e.start, "end" => e.end);
                        Ok(d.into_any().unbind())
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, dicts)?.into_any().unbind())
            })
            .collect::<PyResult<Vec<_>>>()?;
        one_or_list(py, lists, texts.single)
    }

    /// Extractive question answering: the best span of `context`, {"score", "start", "end",
    /// "answer"}; a list of top_k of them when top_k > 1.
    #[pyo3(signature = (question, context, top_k=1, max_answer_len=15, max_seq_len=None, stride=None, handle_impossible_answer=false))]
    #[allow(clippy::too_many_arguments)]
    fn answer<'py>(
        &self,
        py: Python<'py>,
        question: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
        top_k: usize,
        max_answer_len: usize,
        max_seq_len: Option<usize>,
        stride: Option<usize>,
        handle_impossible_answer: bool,
    ) -> PyResult<Py<PyAny>> {
        let question = inputs::one_text(question, "question")?;
        let context = inputs::one_text(context, "context")?;
        let params = QaParams {
            top_k: inputs::positive(top_k, "top_k")?,
            max_answer_len: inputs::positive(max_answer_len, "max_answer_len")?,
            handle_impossible_answer,
        };
        let windows = Windows { max_seq_len, stride };
        let answers = py.detach(|| {
            self.run(|| {
                answer_question(&question, &context, self.model.tokenizer(), &params, windows, |batch| {
                    Ok::<_, TaskFailure>(self.with_session(|s| s.token_logits(batch))?)
                })
            })
        })??;
        let dicts = answers
            .iter()
            .map(|a| {
                let d = py_dict!(py, "score" => a.score, "start" => a.start, "end" => a.end, "answer" => &a.answer);
                Ok(d.into_any().unbind())
            })
            .collect::<PyResult<Vec<_>>>()?;
        if top_k == 1 {
            return Ok(dicts.into_iter().next().unwrap_or_else(|| py.None()));
        }
        Ok(PyList::new(py, dicts)?.into_any().unbind())
    }

    /// Fill-mask: per text, per mask, the top_k guesses {"score", "token", "token_str",
    /// "sequence"}.
    #[pyo3(signature = (texts, top_k=5))]
    fn fill<'py>(&self, py: Python<'py>, texts: &Bound<'py, PyAny>, top_k: usize) -> PyResult<Py<PyAny>> {
        let texts = inputs::texts(texts, "texts")?;
        let top_k = inputs::positive(top_k, "top_k")?;
        let refs = texts.refs();
        let all = py.detach(|| {
            self.run(|| {
                fill_texts(&refs, self.model.tokenizer(), top_k, |batch, positions| {
                    Ok::<_, TaskFailure>(self.with_session(|s| s.mask_logits(batch, positions))?)
                })
            })
        })??;
        let lists = all
            .iter()
            .map(|masks| {
                let per_mask = masks
                    .iter()
                    .map(|guesses| {
                        let dicts = guesses
                            .iter()
                            .map(|g| {
                                let d = py_dict!(py, "score" => g.score, "token" => g.token,
                                    "token_str" => &g.token_str, "sequence" => &g.sequence);
                                Ok(d.into_any().unbind())
                            })
                            .collect::<PyResult<Vec<_>>>()?;
                        Ok(PyList::new(py, dicts)?.into_any().unbind())
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, per_mask)?.into_any().unbind())
            })
            .collect::<PyResult<Vec<_>>>()?;
        one_or_list(py, lists, texts.single)
    }

    /// Token ids of `text` as the model sees it: [CLS] ... [SEP] (or the family's specials),
    /// truncated to the model's maximum length.
    fn tokenize(&self, text: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
        let text = inputs::one_text(text, "text")?;
        Ok(self.model.tokenize(&text).map_err(errors::engine)?.ids)
    }

    // rerank(query, documents) -> scores: the search branch adds reranking to the engine; bind
    // it here, next to classify, the same way (texts in, GIL released, one session per call).

    /// What the blob holds: family, head, labels, dims, encodings, backend and more.
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let info = self.model.info();
        let c = &info.config;
        let pooling = info.pooling.unwrap_or_default();
        let mode = match pooling.mode {
            PoolingMode::Mean => "mean",
            PoolingMode::Cls => "cls",
        };
        let d = py_dict!(py,
            "path" => self.path.to_string_lossy(),
            "family" => c.family.name(),
            "architecture" => &c.architecture,
            "head" => info.head.name(),
            "labels" => c.id2label.clone(),
            "dims" => c.hidden_size,
            "layers" => c.num_hidden_layers,
            "attention_heads" => c.num_attention_heads,
            "vocab_size" => c.vocab_size,
            "max_seq_len" => info.max_seq_len,
            "encodings" => py_dict!(py, "weights" => &info.quant_weights, "embeddings" => &info.quant_embeddings),
            "pooling" => py_dict!(py, "mode" => mode, "normalize" => pooling.normalize),
            "backend" => self.model.kernels().backend().to_string(),
            "threads" => self.threads,
            "file_bytes" => self.model.blob().bytes().len(),
            "converter_version" => &info.converter_version,
            "source_sha256" => &info.source_sha256,
        );
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let info = self.model.info();
        format!(
            "edgebert.Model('{}', family={}, head={}, dims={}, weights={}, backend={})",
            self.path.display(),
            info.config.family.name(),
            info.head.name(),
            info.config.hidden_size,
            info.quant_weights,
            self.model.kernels().backend()
        )
    }
}

impl PyModel {
    /// Runs `work` on a session that starts from parked memory, then parks its memory again.
    fn with_session<T>(&self, work: impl FnOnce(&mut Session<'_>) -> T) -> T {
        let memory = self.parked.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default();
        let mut session = Session::with_memory(&self.model, memory);
        let out = work(&mut session);
        if let Ok(mut parked) = self.parked.lock() {
            if parked.len() < MAX_PARKED {
                parked.push(session.into_memory());
            }
        }
        out
    }

    fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> PyResult<T> {
        threads::run(self.threads, work)
    }
}

fn classification(py: Python<'_>, c: &Classification) -> PyResult<Py<PyAny>> {
    let d = py_dict!(py, "label" => &c.label, "score" => c.score, "probs" => c.probs.clone());
    Ok(d.into_any().unbind())
}

/// The only result for a single `str` argument, else the list of results.
fn one_or_list(py: Python<'_>, results: Vec<Py<PyAny>>, single: bool) -> PyResult<Py<PyAny>> {
    if single {
        if let Some(first) = results.into_iter().next() {
            return Ok(first);
        }
        return Ok(py.None());
    }
    Ok(PyList::new(py, results)?.into_any().unbind())
}
