//! Engine and converter errors as Python exceptions, with the engine's message:
//! `edgebert.BlobError` for a file that is not a usable blob, `ValueError` for input the model
//! cannot take, `edgebert.ConvertError` for a checkpoint the converter refuses, and
//! `FileNotFoundError` when a path does not exist.

use edgebert_engine::blob::BlobError as EngineBlobError;
use edgebert_engine::tasks::TaskError;
use edgebert_engine::EngineError;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyRuntimeError, PyValueError};
use pyo3::{create_exception, PyErr};

create_exception!(edgebert, Error, PyException, "Base class of edgebert's own exceptions.");
create_exception!(
    edgebert,
    BlobError,
    Error,
    "The file is not a blob this engine can run: truncated, corrupted, a newer format, or not a blob at all."
);
create_exception!(edgebert, ConvertError, Error, "The converter could not turn a checkpoint into a blob.");

/// An engine error as the exception a Python caller expects.
pub fn engine(err: EngineError) -> PyErr {
    match err {
        EngineError::Blob(EngineBlobError::Io { path, source })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            PyFileNotFoundError::new_err(format!("{}: no such file", path.display()))
        }
        EngineError::Blob(EngineBlobError::NotFound { .. }) => {
            PyFileNotFoundError::new_err(edgebert_engine::with_causes(&err))
        }
        EngineError::Blob(_)
        | EngineError::UnusableEncoding { .. }
        | EngineError::Shape { .. }
        | EngineError::PackedLayout { .. } => BlobError::new_err(edgebert_engine::with_causes(&err)),
        EngineError::Input(_)
        | EngineError::Tokenizer(_)
        | EngineError::NoClassifier
        | EngineError::NotOneLabel { .. }
        | EngineError::NoHead { .. } => PyValueError::new_err(edgebert_engine::with_causes(&err)),
        EngineError::NoTokenizer => PyRuntimeError::new_err(edgebert_engine::with_causes(&err)),
    }
}

/// What a task pipeline (tag, answer, fill) can fail with: the engine or the task's own checks.
pub enum TaskFailure {
    Engine(EngineError),
    Task(TaskError),
}

impl From<EngineError> for TaskFailure {
    fn from(e: EngineError) -> Self {
        TaskFailure::Engine(e)
    }
}

impl From<TaskError> for TaskFailure {
    fn from(e: TaskError) -> Self {
        TaskFailure::Task(e)
    }
}

impl From<TaskFailure> for PyErr {
    fn from(f: TaskFailure) -> PyErr {
        match f {
            TaskFailure::Engine(e) => engine(e),
            TaskFailure::Task(e) => PyValueError::new_err(e.to_string()),
        }
    }
}

/// A converter or benchmark error (anyhow, with its context chain) as one message; a missing
/// path anywhere in the chain becomes `FileNotFoundError`, a refused blob `BlobError`.
pub fn tool(err: anyhow::Error, class: fn(String) -> PyErr) -> PyErr {
    let message = format!("{err:#}");
    for cause in err.chain() {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::NotFound {
                return PyFileNotFoundError::new_err(message);
            }
        }
        if cause.downcast_ref::<EngineBlobError>().is_some() {
            return BlobError::new_err(message);
        }
    }
    class(message)
}
