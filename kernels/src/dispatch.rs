//! [`Kernels`]: a handle on one runnable backend, with every kernel as a method. The handle is
//! the proof that the CPU supports the backend; each method routes to the backend's
//! implementation or to the [`crate::generic`] twin where the backend does not speed it up.

use crate::backend::{Backend, Unsupported};
use crate::generic;
use crate::linear::{Epilogue, Scratch};
use crate::packed::{PackedF16, PackedF32, PackedI8};

/// A runnable backend. Cheap to copy; build it once with [`Kernels::selected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    backend: Backend,
}

impl Kernels {
    /// A handle on `backend`, or why this CPU cannot run it.
    pub fn new(backend: Backend) -> Result<Kernels, Unsupported> {
        backend.check()?;
        Ok(Kernels { backend })
    }

    /// The process-wide backend ([`Backend::selected`]: best available or `EDGEBERT_KERNELS`).
    pub fn selected() -> Kernels {
        Kernels {
            backend: Backend::selected(),
        }
    }

    /// The portable scalar backend (the oracle).
    pub fn generic() -> Kernels {
        Kernels {
            backend: Backend::Generic,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// int8 linear layer: `out = epilogue(dequant(quant(a) · Wᵀ))`, `a` `[m, w.k()]`,
    /// `out` `[m, w.n()]`. See [`crate::linear`] for the exact semantics.
    pub fn linear_i8(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedI8<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        generic::linear_i8(a, m, w, ep, out, scratch)
    }

    /// Exact i32 GEMM on already-quantized activations `q` (`[m, w.k()]`, values in
    /// [-127, 127]): the integer core of [`Kernels::linear_i8`], exposed for tests and tools.
    pub fn gemm_i8_i32(
        &self,
        q: &[i8],
        m: usize,
        w: &PackedI8<'_>,
        out: &mut [i32],
        scratch: &mut Scratch,
    ) {
        let _ = scratch;
        generic::gemm_i8_i32(q, m, w, out)
    }

    /// Linear layer over packed f16 weights (f32 arithmetic).
    pub fn linear_f16(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF16<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
    ) {
        generic::linear_f16(a, m, w, ep, out)
    }

    /// Linear layer over packed f32 weights.
    pub fn linear_f32(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF32<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
    ) {
        generic::linear_f32_packed(a, m, w, ep, out)
    }
}
