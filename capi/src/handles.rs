//! The handle registry: what a C `edgebert_model *` or `edgebert_session *` (or a JNI `long`)
//! stands for.
//!
//! A handle is a number from a counter, never an address, and never reused: a call looks it up
//! in one map, so a freed, forged or wrong-type handle is always answered with
//! `EDGEBERT_E_BAD_HANDLE` and never dereferenced. Models and sessions sit in `Arc`s, so a
//! thread freeing a model while another runs it (or while sessions exist) cannot pull memory
//! from under them: the model goes when its last user does.

use crate::status::{Failure, Outcome, E_BAD_HANDLE, E_BUSY, E_UNSUPPORTED};
use edgebert_engine::{Model, Session};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

/// A model with the C strings the API hands out for it (valid while the model lives).
pub struct ModelEntry {
    pub model: Model,
    pub labels: Vec<CString>,
    /// The kernel backend's name ("avx512-vnni", "neon" ...).
    pub backend: CString,
}

impl ModelEntry {
    pub fn new(model: Model) -> ModelEntry {
        // The names classify reports: `id2label`, or `LABEL_<id>` where the blob has none.
        let names = &model.info().config.id2label;
        let labels = (0..model.label_count())
            .map(|i| names.get(i).cloned().unwrap_or_else(|| format!("LABEL_{i}")))
            .map(|l| CString::new(l.replace('\0', "\u{FFFD}")).unwrap_or_default())
            .collect();
        let backend = CString::new(model.kernels().backend().name()).unwrap_or_default();
        ModelEntry { model, labels, backend }
    }

    pub fn require_classifier(&self) -> Outcome<usize> {
        match self.labels.len() {
            0 => Err(Failure::new(
                E_UNSUPPORTED,
                "this model has no classification head (it is an embedding model): use edgebert_embed",
            )),
            n => Ok(n),
        }
    }
}

/// A session and the model it runs. Field order matters: `session` borrows `model`'s `Model`
/// and is dropped first.
pub struct SessionEntry {
    session: Mutex<Session<'static>>,
    model: Arc<ModelEntry>,
}

impl SessionEntry {
    pub fn new(model: Arc<ModelEntry>) -> SessionEntry {
        // SAFETY: the `Model` lives inside the `Arc` allocation, which never moves and which this
        // entry keeps alive in `model`; `session` is declared first, so it is dropped before that
        // `Arc` is released. No `&mut` to the model exists (it is immutable once opened).
        let borrowed: &'static Model = unsafe { &*std::ptr::from_ref(&model.model) };
        SessionEntry { session: Mutex::new(borrowed.session()), model }
    }

    pub fn model(&self) -> &ModelEntry {
        &self.model
    }

    /// The session for one call; a second thread using it meanwhile gets `EDGEBERT_E_BUSY`.
    pub fn lock(&self) -> Outcome<MutexGuard<'_, Session<'static>>> {
        match self.session.try_lock() {
            Ok(s) => Ok(s),
            // A panic during an earlier call (reported then as EDGEBERT_E_INTERNAL) leaves only
            // scratch buffers, which every call overwrites: the session stays usable.
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(Failure::new(
                E_BUSY,
                "this session is in use by another thread: create one session per thread",
            )),
        }
    }
}

enum Entry {
    Model(Arc<ModelEntry>),
    Session(Arc<SessionEntry>),
}

static ENTRIES: Mutex<BTreeMap<usize, Entry>> = Mutex::new(BTreeMap::new());
/// Handles step by 16 from an arbitrary base, so they look like (aligned, non-null) pointers
/// to C debuggers and small integers passed by mistake are never live. 32-bit targets have
/// room for 250 million handles.
static NEXT: AtomicUsize = AtomicUsize::new(0x0ed6_0000);

fn entries() -> MutexGuard<'static, BTreeMap<usize, Entry>> {
    // Nothing panics while holding the lock; if something did, the map itself is still whole.
    ENTRIES.lock().unwrap_or_else(|p| p.into_inner())
}

fn insert(entry: Entry) -> usize {
    let id = NEXT.fetch_add(16, Ordering::Relaxed);
    entries().insert(id, entry);
    id
}

/// The failure for handle `id` where `want` was expected, naming what `id` is instead.
fn bad(map: &BTreeMap<usize, Entry>, id: usize, want: &str) -> Failure {
    let found = match map.get(&id) {
        Some(Entry::Model(_)) => "a model handle",
        Some(Entry::Session(_)) => "a session handle",
        None => "not a live handle (freed, or never returned by edgebert)",
    };
    Failure::new(E_BAD_HANDLE, format!("expected {want} handle, got {id:#x}: {found}"))
}

pub fn add_model(model: Model) -> usize {
    insert(Entry::Model(Arc::new(ModelEntry::new(model))))
}

pub fn add_session(model: Arc<ModelEntry>) -> usize {
    insert(Entry::Session(Arc::new(SessionEntry::new(model))))
}

pub fn model(id: usize) -> Outcome<Arc<ModelEntry>> {
    let map = entries();
    match map.get(&id) {
        Some(Entry::Model(m)) => Ok(m.clone()),
        _ => Err(bad(&map, id, "a model")),
    }
}

pub fn session(id: usize) -> Outcome<Arc<SessionEntry>> {
    let map = entries();
    match map.get(&id) {
        Some(Entry::Session(s)) => Ok(s.clone()),
        _ => Err(bad(&map, id, "a session")),
    }
}

/// Removes a model handle; its memory goes with its last session or running call.
pub fn free_model(id: usize) -> Outcome<()> {
    remove(id, "a model", |e| matches!(e, Entry::Model(_)))
}

pub fn free_session(id: usize) -> Outcome<()> {
    remove(id, "a session", |e| matches!(e, Entry::Session(_)))
}

fn remove(id: usize, want: &str, is_kind: fn(&Entry) -> bool) -> Outcome<()> {
    let mut map = entries();
    if !map.get(&id).is_some_and(is_kind) {
        return Err(bad(&map, id, want));
    }
    let entry = map.remove(&id);
    drop(map); // a model's destructor unmaps its file: not under the lock
    drop(entry);
    Ok(())
}
