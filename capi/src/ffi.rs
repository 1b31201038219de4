//! The `extern "C"` functions of include/edgebert.h: the only place pointers from C are read.
//!
//! Each function checks its pointers (NULL, sizes that cannot be real), converts them to Rust
//! values, and runs the call inside [`guard`], so every path ends in a status code and a
//! message and no panic unwinds into C. Outputs are written only after the call succeeded.

use crate::handles;
use crate::ops;
use crate::status::{
    self, guard, Failure, Outcome, E_INVALID_ARGUMENT, E_INVALID_UTF8, E_IO, E_NULL_POINTER,
};
use std::ffi::{c_char, c_int, c_void, CStr};

/// `typedef struct edgebert_model edgebert_model;`: never dereferenced, its address is a handle.
#[allow(non_camel_case_types)]
pub struct edgebert_model {
    _opaque: [u8; 0],
}

/// `typedef struct edgebert_session edgebert_session;`
#[allow(non_camel_case_types)]
pub struct edgebert_session {
    _opaque: [u8; 0],
}

fn null(what: &str) -> Failure {
    Failure::new(E_NULL_POINTER, format!("{what} is NULL"))
}

fn handle<T>(p: *const T, what: &str) -> Outcome<usize> {
    if p.is_null() {
        return Err(null(what));
    }
    Ok(p as usize)
}

/// Writes `value` through the out-pointer `out` (checked non-NULL by [`require`] first).
///
/// # Safety
/// `out` must be NULL or valid for a write of one `T`.
unsafe fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, and valid for one write by this function's contract (the caller's).
        unsafe { out.write(value) }
    }
}

fn require<T>(out: *mut T, what: &str) -> Outcome<()> {
    if out.is_null() {
        return Err(null(what));
    }
    Ok(())
}

/// A NUL-terminated UTF-8 argument.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that stays valid during the call.
unsafe fn text<'a>(p: *const c_char, what: &str) -> Outcome<&'a str> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by this function's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Failure::new(
            E_INVALID_UTF8,
            format!("{what} is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })
}

/// `count` texts from a C array of pointers.
///
/// # Safety
/// `texts` must be NULL or point to `count` pointers, each NULL or a NUL-terminated string.
unsafe fn texts<'a>(texts: *const *const c_char, count: usize) -> Outcome<Vec<&'a str>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if texts.is_null() {
        return Err(null("texts"));
    }
    if count > isize::MAX as usize / size_of::<*const c_char>() {
        return Err(Failure::new(E_INVALID_ARGUMENT, format!("count {count} is larger than any array")));
    }
    // SAFETY: non-NULL, `count` elements by contract, and their byte size fits in isize.
    let ptrs = unsafe { std::slice::from_raw_parts(texts, count) };
    // SAFETY: each element is NULL or a NUL-terminated string (contract), checked by `text`.
    ptrs.iter().enumerate().map(|(i, &p)| unsafe { text(p, &format!("texts[{i}]")) }).collect()
}

/// Copies `values` to the caller's buffer `out` of `out_len` elements (checked to hold them).
///
/// # Safety
/// `out` must be NULL or valid for writes of `out_len` elements.
unsafe fn copy_out<T: Copy>(values: &[T], out: *mut T, out_len: usize, what: &str) -> Outcome<()> {
    ops::require_len(out_len, values.len(), what)?;
    if values.is_empty() {
        return Ok(());
    }
    require(out, what)?;
    // SAFETY: `out` is non-NULL and holds `out_len >= values.len()` elements (contract);
    // `values` is our own allocation, so the two cannot overlap.
    unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), out, values.len()) };
    Ok(())
}

fn byte_size_fits<T>(len: usize, what: &str) -> Outcome<()> {
    if len > isize::MAX as usize / size_of::<T>() {
        return Err(Failure::new(
            E_INVALID_ARGUMENT,
            format!("{what}: length {len} is larger than any buffer"),
        ));
    }
    Ok(())
}

#[no_mangle]
pub extern "C" fn edgebert_last_error() -> *const c_char {
    status::last_error_ptr()
}

static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(v) => v,
    Err(_) => panic!("the package version contains a NUL"),
};

/// # Safety
/// `out_version` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_version(out_version: *mut *const c_char) -> c_int {
    guard(|| {
        require(out_version, "out_version")?;
        // SAFETY: checked non-NULL; valid for a write by contract.
        unsafe { put(out_version, VERSION.as_ptr()) };
        Ok(())
    })
}

/// # Safety
/// `path`: NULL or NUL-terminated; `out_model`: NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_open(
    path: *const c_char,
    out_model: *mut *mut edgebert_model,
) -> c_int {
    guard(|| {
        require(out_model, "out_model")?;
        // SAFETY: forwarded contract.
        let id = ops::open_path(unsafe { text(path, "path") }?)?;
        // SAFETY: checked non-NULL; valid for a write by contract.
        unsafe { put(out_model, id as *mut edgebert_model) };
        Ok(())
    })
}

/// # Safety
/// `data`: NULL or `len` readable bytes that stay valid and unchanged until the model and all
/// its sessions are freed (the documented borrow). `out_model`: NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_open_buffer(
    data: *const c_void,
    len: usize,
    out_model: *mut *mut edgebert_model,
) -> c_int {
    guard(|| {
        require(out_model, "out_model")?;
        if data.is_null() {
            return Err(null("data"));
        }
        byte_size_fits::<u8>(len, "data")?;
        // SAFETY: non-NULL, `len` readable bytes within isize::MAX; the caller keeps them valid
        // and unchanged for as long as the model lives (the header's documented borrow), which is
        // what `'static` stands for here: the model never hands the slice out beyond itself.
        let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
        let id = ops::open_borrowed(bytes)?;
        // SAFETY: checked non-NULL; valid for a write by contract.
        unsafe { put(out_model, id as *mut edgebert_model) };
        Ok(())
    })
}

/// # Safety
/// `fd` must not be closed by another thread during the call; `out_model`: NULL or valid for
/// one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_open_fd(
    fd: c_int,
    offset: u64,
    len: u64,
    out_model: *mut *mut edgebert_model,
) -> c_int {
    guard(|| {
        require(out_model, "out_model")?;
        if fd < 0 {
            return Err(Failure::new(E_INVALID_ARGUMENT, format!("fd {fd} is negative")));
        }
        // SAFETY: F_GETFD only reads the descriptor's flags; any int is a valid argument.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            return Err(Failure::new(E_IO, format!("fd {fd} is not an open file descriptor")));
        }
        // SAFETY: `fd` is open (checked just above) and the caller keeps it open during the call
        // (contract); the borrow ends when this call returns.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let id = ops::open_fd(borrowed, offset, len)?;
        // SAFETY: checked non-NULL; valid for a write by contract.
        unsafe { put(out_model, id as *mut edgebert_model) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn edgebert_model_free(model: *mut edgebert_model) -> c_int {
    guard(|| if model.is_null() { Ok(()) } else { handles::free_model(model as usize) })
}

/// Runs `get` on the model behind `model` and writes its value to `out`.
///
/// # Safety
/// `out` must be NULL or valid for one write.
unsafe fn query<T>(
    model: *const edgebert_model,
    out: *mut T,
    what: &str,
    get: impl FnOnce(&handles::ModelEntry) -> Outcome<T>,
) -> c_int {
    guard(|| {
        require(out, what)?;
        let value = get(&*handles::model(handle(model, "model")?)?)?;
        // SAFETY: checked non-NULL; valid for a write by contract.
        unsafe { put(out, value) };
        Ok(())
    })
}

/// # Safety
/// `out_count` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_label_count(
    model: *const edgebert_model,
    out_count: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { query(model, out_count, "out_count", |m| Ok(m.labels.len())) }
}

/// # Safety
/// `out_name` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_label_name(
    model: *const edgebert_model,
    index: usize,
    out_name: *mut *const c_char,
) -> c_int {
    // SAFETY: forwarded contract. The name lives in the model entry, which the registry keeps
    // until edgebert_model_free (and its sessions), as the header documents.
    unsafe {
        query(model, out_name, "out_name", |m| {
            m.labels.get(index).map(|l| l.as_ptr()).ok_or_else(|| {
                Failure::new(
                    E_INVALID_ARGUMENT,
                    format!("label index {index}: the model has {} labels", m.labels.len()),
                )
            })
        })
    }
}

/// # Safety
/// `out_len` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_max_seq_len(
    model: *const edgebert_model,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { query(model, out_len, "out_len", |m| Ok(m.model.info().max_seq_len)) }
}

/// # Safety
/// `out_dim` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_embedding_dim(
    model: *const edgebert_model,
    out_dim: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { query(model, out_dim, "out_dim", |m| Ok(ops::embedding_dim(m))) }
}

/// # Safety
/// `out_name` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_model_backend(
    model: *const edgebert_model,
    out_name: *mut *const c_char,
) -> c_int {
    // SAFETY: forwarded contract; the name lives in the model entry (see label_name).
    unsafe { query(model, out_name, "out_name", |m| Ok(m.backend.as_ptr())) }
}

/// # Safety
/// `text`: NULL or NUL-terminated; `ids`: NULL or `capacity` writable elements; `out_len`:
/// NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_tokenize(
    model: *const edgebert_model,
    text: *const c_char,
    ids: *mut u32,
    capacity: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        require(out_len, "out_len")?;
        let m = handles::model(handle(model, "model")?)?;
        // SAFETY: forwarded contract.
        let got = ops::tokenize(&m, unsafe { self::text(text, "text") }?)?;
        // SAFETY: checked non-NULL; the count is reported even when `ids` is too short.
        unsafe { put(out_len, got.len()) };
        // SAFETY: forwarded contract.
        unsafe { copy_out(&got, ids, capacity, "ids") }
    })
}

/// # Safety
/// `out_session` must be NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_session_new(
    model: *const edgebert_model,
    out_session: *mut *mut edgebert_session,
) -> c_int {
    guard(|| {
        require(out_session, "out_session")?;
        let id = handles::add_session(handles::model(handle(model, "model")?)?);
        // SAFETY: checked non-NULL; valid for a write by contract.
        unsafe { put(out_session, id as *mut edgebert_session) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn edgebert_session_free(session: *mut edgebert_session) -> c_int {
    guard(|| if session.is_null() { Ok(()) } else { handles::free_session(session as usize) })
}

/// # Safety
/// `text`: NULL or NUL-terminated; `probs`: NULL or `probs_len` writable floats; `out_label`:
/// NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn edgebert_classify(
    session: *mut edgebert_session,
    text: *const c_char,
    probs: *mut f32,
    probs_len: usize,
    out_label: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    let texts = || Ok(vec![unsafe { self::text(text, "text") }?]);
    // SAFETY: forwarded contract; out_label holds the one label when non-NULL.
    guard(|| unsafe { classify_into(session, 1, texts, probs, probs_len, out_label) })
}

/// # Safety
/// `texts`: NULL or `count` pointers, each NULL or NUL-terminated; `probs`: NULL or `probs_len`
/// writable floats; `out_labels`: NULL or `count` writable elements.
#[no_mangle]
pub unsafe extern "C" fn edgebert_classify_batch(
    session: *mut edgebert_session,
    texts: *const *const c_char,
    count: usize,
    probs: *mut f32,
    probs_len: usize,
    out_labels: *mut usize,
) -> c_int {
    // SAFETY: forwarded contract.
    let all = || unsafe { self::texts(texts, count) };
    // SAFETY: forwarded contract.
    guard(|| unsafe { classify_into(session, count, all, probs, probs_len, out_labels) })
}

/// The body of both classify calls: sizes checked before any work, outputs written after it.
/// `probs = NULL` with `probs_len = 0` asks for labels only.
///
/// # Safety
/// `probs`: NULL or `probs_len` writable floats; `out_labels`: NULL or `count` writable elements.
unsafe fn classify_into<'a>(
    session: *mut edgebert_session,
    count: usize,
    texts: impl FnOnce() -> Outcome<Vec<&'a str>>,
    probs: *mut f32,
    probs_len: usize,
    out_labels: *mut usize,
) -> Outcome<()> {
    let s = handles::session(handle(session, "session")?)?;
    let labels = s.model().require_classifier()?;
    let want_probs = !(probs.is_null() && probs_len == 0);
    if want_probs {
        ops::require_len(probs_len, ops::product(count, labels, "labels")?, "probs")?;
    }
    let (p, best) = ops::classify(&s, &texts()?)?;
    // SAFETY: forwarded contract.
    unsafe {
        if want_probs {
            copy_out(&p, probs, probs_len, "probs")?;
        }
        if !out_labels.is_null() {
            copy_out(&best, out_labels, count, "out_labels")?;
        }
    }
    Ok(())
}

/// # Safety
/// `text`: NULL or NUL-terminated; `out`: NULL or `out_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn edgebert_embed(
    session: *mut edgebert_session,
    text: *const c_char,
    out: *mut f32,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    let texts = || Ok(vec![unsafe { self::text(text, "text") }?]);
    // SAFETY: forwarded contract.
    guard(|| unsafe { embed_into(session, 1, texts, out, out_len) })
}

/// # Safety
/// `texts`: NULL or `count` pointers, each NULL or NUL-terminated; `out`: NULL or `out_len`
/// writable floats.
#[no_mangle]
pub unsafe extern "C" fn edgebert_embed_batch(
    session: *mut edgebert_session,
    texts: *const *const c_char,
    count: usize,
    out: *mut f32,
    out_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    let all = || unsafe { self::texts(texts, count) };
    // SAFETY: forwarded contract.
    guard(|| unsafe { embed_into(session, count, all, out, out_len) })
}

/// # Safety
/// `out`: NULL or `out_len` writable floats.
unsafe fn embed_into<'a>(
    session: *mut edgebert_session,
    count: usize,
    texts: impl FnOnce() -> Outcome<Vec<&'a str>>,
    out: *mut f32,
    out_len: usize,
) -> Outcome<()> {
    let s = handles::session(handle(session, "session")?)?;
    ops::require_len(out_len, ops::product(count, ops::embedding_dim(s.model()), "floats")?, "out")?;
    let e = ops::embed(&s, &texts()?)?;
    // SAFETY: forwarded contract.
    unsafe { copy_out(&e, out, out_len, "out") }
}
