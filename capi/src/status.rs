//! Status codes (the `EDGEBERT_E_*` of include/edgebert.h), the thread-local last-error message,
//! and [`guard`], which turns a Rust result or a panic into a code and a message.

use edgebert_engine::blob::BlobError;
use edgebert_engine::EngineError;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub const OK: c_int = 0;
pub const E_NULL_POINTER: c_int = -1;
pub const E_INVALID_UTF8: c_int = -2;
pub const E_BUFFER_TOO_SMALL: c_int = -3;
pub const E_BAD_HANDLE: c_int = -4;
pub const E_IO: c_int = -5;
pub const E_INVALID_BLOB: c_int = -6;
pub const E_INVALID_ARGUMENT: c_int = -7;
pub const E_UNSUPPORTED: c_int = -8;
pub const E_INPUT: c_int = -9;
pub const E_BUSY: c_int = -10;
pub const E_INTERNAL: c_int = -11;

/// Every code with its header name, for the test that holds the header to these values.
#[cfg(test)]
pub const CODES: [(&str, c_int); 12] = [
    ("EDGEBERT_OK", OK),
    ("EDGEBERT_E_NULL_POINTER", E_NULL_POINTER),
    ("EDGEBERT_E_INVALID_UTF8", E_INVALID_UTF8),
    ("EDGEBERT_E_BUFFER_TOO_SMALL", E_BUFFER_TOO_SMALL),
    ("EDGEBERT_E_BAD_HANDLE", E_BAD_HANDLE),
    ("EDGEBERT_E_IO", E_IO),
    ("EDGEBERT_E_INVALID_BLOB", E_INVALID_BLOB),
    ("EDGEBERT_E_INVALID_ARGUMENT", E_INVALID_ARGUMENT),
    ("EDGEBERT_E_UNSUPPORTED", E_UNSUPPORTED),
    ("EDGEBERT_E_INPUT", E_INPUT),
    ("EDGEBERT_E_BUSY", E_BUSY),
    ("EDGEBERT_E_INTERNAL", E_INTERNAL),
];

/// A failed call: its code and the sentence `edgebert_last_error()` returns.
#[derive(Debug)]
pub struct Failure {
    pub code: c_int,
    pub message: String,
}

impl Failure {
    pub fn new(code: c_int, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }
}

pub type Outcome<T> = Result<T, Failure>;

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Failure {
        let code = match &e {
            // A missing path or a directory is an I/O failure to a C caller, as before the
            // engine gave them their own variants (with the fix in the message).
            EngineError::Blob(BlobError::Io { .. })
            | EngineError::Blob(BlobError::NotFound { .. })
            | EngineError::Blob(BlobError::IsDirectory { .. }) => E_IO,
            EngineError::Blob(BlobError::UnalignedBuffer { .. }) => E_INVALID_ARGUMENT,
            EngineError::Blob(_)
            | EngineError::UnusableEncoding { .. }
            | EngineError::Shape { .. }
            | EngineError::PackedLayout { .. } => E_INVALID_BLOB,
            EngineError::NoClassifier | EngineError::NoHead { .. } | EngineError::NoTokenizer => {
                E_UNSUPPORTED
            }
            _ => E_INPUT,
        };
        Failure::new(code, edgebert_engine::with_causes(&e))
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // Messages are ours or the engine's; a NUL inside one (from a file name) must not cut it.
    let c = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
    LAST_ERROR.with(|m| *m.borrow_mut() = c);
}

/// The calling thread's last message; valid until this thread's next call that sets one.
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|m| m.borrow().as_ptr())
}

/// Runs one API call: its result, or a panic caught here (none may unwind into C or the JVM),
/// becomes the status code, and its message the thread's last error ("" on success).
pub fn guard(call: impl FnOnce() -> Outcome<()>) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Failure::new(E_INTERNAL, format!("internal error in edgebert (please report it): {what}")))
    });
    match outcome {
        Ok(()) => {
            set_last_error("");
            OK
        }
        Err(f) => {
            set_last_error(&f.message);
            f.code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header is the contract: every code it defines has the value Rust returns.
    #[test]
    fn header_codes_match() {
        let header = include_str!("../include/edgebert.h");
        for (name, value) in CODES {
            let want =
                if value == 0 { format!("#define {name} 0") } else { format!("#define {name} ({value})") };
            assert!(header.contains(&want), "header lacks `{want}`");
        }
        let defined = header.lines().filter(|l| l.starts_with("#define EDGEBERT_E_")).count();
        assert_eq!(defined, CODES.len() - 1, "the header defines codes this crate does not know");
    }

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let code = guard(|| panic!("boom {}", 7));
        assert_eq!(code, E_INTERNAL);
        // SAFETY: last_error_ptr is a NUL-terminated string owned by this thread until its next call.
        let msg = unsafe { std::ffi::CStr::from_ptr(last_error_ptr()) }.to_str().unwrap().to_string();
        assert!(msg.contains("boom 7"), "{msg}");
        assert_eq!(guard(|| Ok(())), OK);
        // SAFETY: as above.
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(last_error_ptr()) }.to_bytes(), b"");
    }
}
