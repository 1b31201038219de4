//! Architecture-specific kernels: the only place in the crate with `unsafe`.
//!
//! Each backend is a token type proving its CPU features (built only after a run-time check)
//! and safe entry points that take the token, so the `#[target_feature]` code they call is sound.

#[cfg(target_arch = "aarch64")]
pub(crate) mod aarch64;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;

#[cfg(target_arch = "x86_64")]
use crate::linear::{grow, Scratch};
use crate::linear::{Epilogue, RowQuant};

#[cfg(target_arch = "x86_64")]
/// Repacks `[m, k]` row-major activations into slabs of `mr` rows, `slab[kk][r]` (rows past
/// `m` are zero), so a micro-kernel broadcasts from one sequential stream. Returns the slabs:
/// `ceil(m / mr) · mr · k` values, slab `s` starting at `s · mr · k`.
pub(crate) fn pack_row_slabs<'s>(
    a: &[f32],
    m: usize,
    k: usize,
    mr: usize,
    scratch: &'s mut Scratch,
) -> &'s [f32] {
    let slabs = m.div_ceil(mr);
    let dst = grow(&mut scratch.f32s, slabs * mr * k);
    for s in 0..slabs {
        let slab = &mut dst[s * mr * k..(s + 1) * mr * k];
        for r in 0..mr {
            let i = s * mr + r;
            if i < m {
                for (kk, &v) in a[i * k..(i + 1) * k].iter().enumerate() {
                    slab[kk * mr + r] = v;
                }
            } else {
                (0..k).for_each(|kk| slab[kk * mr + r] = 0.0);
            }
        }
    }
    dst
}

/// Where an int8 GEMM tile's i32 accumulators go.
pub(crate) enum Sink<'s, 'e> {
    /// Exact i32 dot products into `[m, n]` (tests and tools).
    I32(&'s mut [i32]),
    /// Dequantized (`rows[i].dequantize(acc, w_scale[j], col_sum[j])`) and finished by the
    /// epilogue into `[m, n]`.
    F32 { out: &'s mut [f32], rows: &'s [RowQuant], ep: &'s Epilogue<'e> },
}

/// Runs a peak probe; `false` when this CPU cannot.
pub(crate) fn run_peak(peak: crate::peak::Peak, blocks: u64) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::backend::Backend;
        use crate::peak::Peak;
        use x86::peak;
        let (needs, probe): (Backend, unsafe fn(u64)) = match peak {
            Peak::FmaF32Zmm => (Backend::Avx512, peak::fma_f32_zmm),
            Peak::FmaF32Ymm => (Backend::Avx2, peak::fma_f32_ymm),
            Peak::VpdpbusdZmm => (Backend::Avx512Vnni, peak::dpbusd_zmm),
            Peak::VpmaddubswYmm => (Backend::Avx2, peak::maddubsw_ymm),
            Peak::VpmaddwdYmm => (Backend::Avx2, peak::maddwd_ymm),
        };
        if needs.check().is_err() {
            return false;
        }
        // SAFETY: `needs.check()` just proved the CPU has the probe's extension.
        unsafe { probe(blocks) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (peak, blocks);
        false
    }
}
