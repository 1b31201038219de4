//! [`Kernels`]: a handle on one runnable backend, with every kernel as a method. The handle is
//! the proof that the CPU supports the backend; each method routes to the backend's
//! implementation or to the [`crate::generic`] twin where the backend does not speed it up.

use crate::backend::{Backend, Unsupported};
use crate::generic;
use crate::linear::{Epilogue, Scratch};
use crate::packed::{PackedF16, PackedF32, PackedI8};

#[cfg(target_arch = "x86_64")]
use crate::arch::x86::{avx2, avx512, avx512vnni, V4Vnni, V3, V4};

#[cfg(target_arch = "aarch64")]
use crate::arch::aarch64::{neon, neon_dotprod, Neon, NeonDot};

/// The token of a backend this handle was checked for; the check happened in `Kernels::new`,
/// so a failure here is a bug.
macro_rules! token {
    ($t:ty) => {
        <$t>::new().expect("Kernels holds a checked backend")
    };
}

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
        Kernels { backend: Backend::selected() }
    }

    /// The portable scalar backend (the oracle).
    pub fn generic() -> Kernels {
        Kernels { backend: Backend::Generic }
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
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Vnni => avx512vnni::linear_i8(token!(V4Vnni), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 | Backend::Avx512 => {
                avx2::gemm_i8::linear_i8(token!(V3), a, m, w, ep, out, scratch)
            }
            #[cfg(target_arch = "aarch64")]
            Backend::NeonDotprod => neon_dotprod::linear_i8(token!(NeonDot), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => neon::linear_i8(token!(Neon), a, m, w, ep, out, scratch),
            _ => generic::linear_i8(a, m, w, ep, out, scratch),
        }
    }

    /// Exact i32 GEMM on already-quantized activations `q` (`[m, w.k()]`, values in
    /// [-127, 127]): the integer core of [`Kernels::linear_i8`], exposed for tests and tools.
    pub fn gemm_i8_i32(&self, q: &[i8], m: usize, w: &PackedI8<'_>, out: &mut [i32], scratch: &mut Scratch) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512Vnni => avx512vnni::gemm_i8_i32(token!(V4Vnni), q, m, w, out, scratch),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 | Backend::Avx512 => avx2::gemm_i8::gemm_i8_i32(token!(V3), q, m, w, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::NeonDotprod => neon_dotprod::gemm_i8_i32(token!(NeonDot), q, m, w, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => neon::gemm_i8_i32(token!(Neon), q, m, w, out, scratch),
            _ => generic::gemm_i8_i32(q, m, w, out),
        }
    }

    /// Linear layer over packed f16 weights (f32 arithmetic).
    pub fn linear_f16(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF16<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => {
                avx512::gemm_f32::linear_f16(token!(V4), a, m, w, ep, out, scratch)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::gemm_f32::linear_f16(token!(V3), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon | Backend::NeonDotprod => neon::linear_f16(token!(Neon), a, m, w, ep, out, scratch),
            _ => {
                let _ = scratch;
                generic::linear_f16(a, m, w, ep, out)
            }
        }
    }

    /// Linear layer over packed f32 weights.
    pub fn linear_f32(
        &self,
        a: &[f32],
        m: usize,
        w: &PackedF32<'_>,
        ep: &Epilogue<'_>,
        out: &mut [f32],
        scratch: &mut Scratch,
    ) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => {
                avx512::gemm_f32::linear_f32(token!(V4), a, m, w, ep, out, scratch)
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::gemm_f32::linear_f32(token!(V3), a, m, w, ep, out, scratch),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon | Backend::NeonDotprod => neon::linear_f32(token!(Neon), a, m, w, ep, out, scratch),
            _ => {
                let _ = scratch;
                generic::linear_f32_packed(a, m, w, ep, out)
            }
        }
    }

    /// GELU (erf form) in place. SIMD backends use a rational erf fit (|error| ≤ 2e-7).
    pub fn gelu_erf(&self, x: &mut [f32]) {
        match self.backend {
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 | Backend::Avx512Vnni => avx512::math::gelu_slice(token!(V4), x),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => avx2::math::gelu_slice(token!(V3), x),
            _ => x.iter_mut().for_each(|v| *v = generic::gelu_erf_f32(*v)),
        }
    }
}
