//! [`Kernels`]: a handle on one runnable backend. It dereferences to the backend's
//! [`KernelSlots`], so every kernel is a method (`kernels.linear_i8(..)`), one indirect call
//! into code whose CPU features were proven when the handle was made.

use crate::backend::{Backend, Unsupported};
use crate::registry::{detect, KernelSlots};
use std::fmt;
use std::sync::OnceLock;

/// A runnable backend. Cheap to copy; build it once with [`Kernels::selected`].
#[derive(Clone, Copy)]
pub struct Kernels {
    backend: Backend,
    slots: &'static dyn KernelSlots,
}

impl Kernels {
    /// A handle on `backend`, or why this CPU cannot run it.
    pub fn new(backend: Backend) -> Result<Kernels, Unsupported> {
        match detect(backend) {
            Ok(slots) => Ok(Kernels { backend, slots }),
            Err(missing) => Err(Unsupported { backend, missing }),
        }
    }

    /// The process-wide backend ([`Backend::selected`]: best available or `EDGEBERT_KERNELS`).
    pub fn selected() -> Kernels {
        static SELECTED: OnceLock<Kernels> = OnceLock::new();
        *SELECTED.get_or_init(|| {
            let backend = Backend::selected();
            Kernels::new(backend).unwrap_or_else(|e| unreachable!("Backend::selected checked it: {e}"))
        })
    }

    /// The portable scalar backend (the oracle).
    pub fn generic() -> Kernels {
        Kernels::new(Backend::Generic).unwrap_or_else(|e| unreachable!("generic always runs: {e}"))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl std::ops::Deref for Kernels {
    type Target = dyn KernelSlots;

    fn deref(&self) -> &Self::Target {
        self.slots
    }
}

impl fmt::Debug for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kernels").field("backend", &self.backend).finish()
    }
}

impl PartialEq for Kernels {
    fn eq(&self, other: &Kernels) -> bool {
        self.backend == other.backend
    }
}

impl Eq for Kernels {}
