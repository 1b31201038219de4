//! Python arguments to Rust inputs, with errors that name the argument and the item: `TypeError`
//! for None and wrong types, `ValueError` for an empty batch and for a `str` that is not valid
//! text (lone surrogates such as "\ud800", which no UTF-8 tokenizer can take).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString, PyTuple};

/// Texts to run: either one `str` or an iterable of them.
pub struct Texts {
    pub texts: Vec<String>,
    /// The argument was a single `str` (the caller gets one result back, not a list).
    pub single: bool,
}

impl Texts {
    pub fn refs(&self) -> Vec<&str> {
        self.texts.iter().map(String::as_str).collect()
    }
}

/// `edgebert._edgebert.check_texts(arg, name)`: `arg` as a list of str (a single str counts as
/// one), or the TypeError / ValueError [`texts`] raises, naming `name`.
#[pyfunction]
pub fn check_texts(arg: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<String>> {
    Ok(texts(arg, name)?.texts)
}

/// One input of `classify`: a text or a sentence pair `(first, second)`.
pub enum TextOrPair {
    Text(String),
    Pair(String, String),
}

/// `arg` as texts: a `str`, or a list, tuple or other iterable of `str`, at least one.
pub fn texts(arg: &Bound<'_, PyAny>, name: &str) -> PyResult<Texts> {
    if let Ok(s) = arg.cast::<PyString>() {
        return Ok(Texts { texts: vec![text(s, name)?], single: true });
    }
    let items = items(arg, name)?;
    let texts = items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.cast::<PyString>() {
            Ok(s) => text(s, &format!("{name}[{i}]")),
            Err(_) => Err(wrong_item(item, &format!("{name}[{i}]"), "str")),
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok(Texts { texts, single: false })
}

/// `arg` as classification inputs: like [`texts`], where an item may also be a 2-tuple of `str`
/// (a sentence pair).
pub fn texts_or_pairs(arg: &Bound<'_, PyAny>, name: &str) -> PyResult<(Vec<TextOrPair>, bool)> {
    if let Ok(s) = arg.cast::<PyString>() {
        return Ok((vec![TextOrPair::Text(text(s, name)?)], true));
    }
    let items = items(arg, name)?;
    let inputs = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{name}[{i}]");
            if let Ok(s) = item.cast::<PyString>() {
                return Ok(TextOrPair::Text(text(s, &at)?));
            }
            match item.cast::<PyTuple>() {
                Ok(t) if t.len() == 2 => {
                    let part = |j: usize| -> PyResult<String> {
                        let p = t.get_item(j)?;
                        let at = format!("{at}[{j}]");
                        match p.cast::<PyString>() {
                            Ok(s) => text(s, &at),
                            Err(_) => Err(wrong_item(&p, &at, "str")),
                        }
                    };
                    Ok(TextOrPair::Pair(part(0)?, part(1)?))
                }
                _ => Err(wrong_item(item, &at, "str or a (str, str) pair")),
            }
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok((inputs, false))
}

/// One `str` argument as valid text.
pub fn one_text(arg: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    match arg.cast::<PyString>() {
        Ok(s) => text(s, name),
        Err(_) => Err(wrong_item(arg, name, "str")),
    }
}

/// A positive count (`batch_size`, `top_k` …).
pub fn positive(value: usize, name: &str) -> PyResult<usize> {
    if value == 0 {
        return Err(PyValueError::new_err(format!("{name} must be at least 1")));
    }
    Ok(value)
}

/// The items of a non-string iterable, at least one.
fn items<'py>(arg: &Bound<'py, PyAny>, name: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if arg.is_none() {
        return Err(PyTypeError::new_err(format!("{name} must be a str or a list of str, not None")));
    }
    if arg.cast::<PyBytes>().is_ok() || arg.cast::<PyByteArray>().is_ok() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a str or a list of str, not bytes: decode it first (data.decode('utf-8'))"
        )));
    }
    let iter = arg.try_iter().map_err(|_| {
        PyTypeError::new_err(format!("{name} must be a str or a list of str, not {}", type_name(arg)))
    })?;
    let items = iter.collect::<PyResult<Vec<_>>>()?;
    if items.is_empty() {
        return Err(PyValueError::new_err(format!("{name} is empty: pass at least one text")));
    }
    Ok(items)
}

fn text(s: &Bound<'_, PyString>, at: &str) -> PyResult<String> {
    match s.to_cow() {
        Ok(t) => Ok(t.into_owned()),
        Err(cause) => {
            let err = PyValueError::new_err(format!(
                "{at} is not valid text (it holds a lone surrogate, which has no UTF-8 form): {}",
                cause.value(s.py())
            ));
            err.set_cause(s.py(), Some(cause));
            Err(err)
        }
    }
}

fn wrong_item(item: &Bound<'_, PyAny>, at: &str, want: &str) -> PyErr {
    PyTypeError::new_err(format!("{at} must be {want}, not {}", type_name(item)))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "an unknown type".into())
}
