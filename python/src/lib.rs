//! `edgebert._edgebert`: the Python package's native module. Bindings stay thin: every behaviour
//! lives in the engine and the converter (the same calls the CLI makes), so Python gets the same
//! bytes as `edgebert` on the command line. This crate only converts arguments and results,
//! releases the GIL around the work, and turns errors into Python exceptions.
//!
//! The pure-Python layer (`python/edgebert/__init__.py`) adds sentence-transformers' `encode`.

#![forbid(unsafe_code)]

/// A Python dict from `"key" => value` pairs (any value pyo3 converts); `?` on each insertion.
macro_rules! py_dict {
    ($py:expr, $($key:literal => $value:expr),+ $(,)?) => {{
        let d = pyo3::types::PyDict::new($py);
        $(pyo3::types::PyDictMethods::set_item(&d, $key, $value)?;)+
        d
    }};
}

mod errors;
mod inputs;
mod model;
mod threads;
mod tools;

use pyo3::prelude::*;

#[pymodule]
fn _edgebert(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<errors::Error>())?;
    m.add("BlobError", py.get_type::<errors::BlobError>())?;
    m.add("ConvertError", py.get_type::<errors::ConvertError>())?;
    m.add_class::<model::PyModel>()?;
    m.add_function(wrap_pyfunction!(tools::convert, m)?)?;
    m.add_function(wrap_pyfunction!(tools::bench, m)?)?;
    m.add_function(wrap_pyfunction!(tools::backend, m)?)?;
    m.add_function(wrap_pyfunction!(inputs::check_texts, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
