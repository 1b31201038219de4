//! How many threads one call uses. By default (`threads=None`) a call runs on rayon's global
//! pool, every core (or `RAYON_NUM_THREADS`). With `threads=n` each calling Python thread gets
//! its own pool of `n` threads, built once and kept: two Python threads on one model then run
//! in parallel without sharing workers, which is how a server scales over cores with the GIL
//! released. The first such pool of a thread includes the thread itself
//! (`use_current_thread`), so with `threads=1` a call runs right where it was made, with no
//! hand-off to a worker.

use pyo3::exceptions::PyRuntimeError;
use pyo3::PyResult;
use rayon::ThreadPool;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

thread_local! {
    /// This thread's pools by size; the first one built includes the thread itself.
    static POOLS: RefCell<Vec<(usize, Rc<ThreadPool>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `work` with `threads` threads (`None`: every core).
pub fn run<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    match threads {
        // A thread that joined one of its own pools would run rayon's work in that pool: send
        // all-core work to a pool of the default size instead.
        None if rayon::current_thread_index().is_some() => Ok(all_cores()?.install(work)),
        None => Ok(work()),
        Some(n) => Ok(pool(n)?.install(work)),
    }
}

fn all_cores() -> PyResult<&'static ThreadPool> {
    static ALL: OnceLock<ThreadPool> = OnceLock::new();
    if let Some(pool) = ALL.get() {
        return Ok(pool);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start threads: {e}")))?;
    Ok(ALL.get_or_init(|| pool))
}

fn pool(n: usize) -> PyResult<Rc<ThreadPool>> {
    POOLS.with(|pools| {
        let mut pools = pools.borrow_mut();
        if let Some((_, p)) = pools.iter().find(|(size, _)| *size == n) {
            return Ok(Rc::clone(p));
        }
        let builder = rayon::ThreadPoolBuilder::new().num_threads(n);
        let builder = if pools.is_empty() { builder.use_current_thread() } else { builder };
        let pool =
            builder.build().map_err(|e| PyRuntimeError::new_err(format!("cannot start {n} threads: {e}")))?;
        let pool = Rc::new(pool);
        pools.push((n, Rc::clone(&pool)));
        Ok(pool)
    })
}
