//! f32 GEMM over packed f32 or f16 weights on zmm (f16 widened with `vcvtph2ps`, F16C-style).
//!
//! Target cores: Skylake-SP, Ice Lake, Zen 4 (one zmm FMA per cycle on Zen 4's 256-bit units).
//! Tile: 8 rows × 32 columns (two panels), 16 zmm accumulators; per input `kk`: 2 weight
//! loads, 8 broadcasts, 16 FMAs.
//! Tolerance: f32 relative error ≤ 1e-6 · √k against the generic twin (summation order differs
//! only by FMA rounding; both sum over `kk` in order).

use super::math::store_epilogue;
use crate::arch::x86::V4;
use crate::linear::{check_linear, Epilogue};
use crate::packed::{panels, PackedFloat, PANEL};
use core::arch::x86_64::*;
use half::f16;

const MR: usize = 8;

/// Loads 16 consecutive weights widened to f32.
trait Widen: Copy {
    /// # Safety
    /// `p` must point at 16 readable elements; the CPU must support AVX-512F.
    unsafe fn load16(p: *const Self) -> __m512;
}

impl Widen for f32 {
    #[inline(always)]
    unsafe fn load16(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
}

impl Widen for f16 {
    #[inline(always)]
    unsafe fn load16(p: *const f16) -> __m512 {
        _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i))
    }
}

/// Linear layer over packed f32 weights.
pub(crate) fn linear_f32(
    t: V4,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, f32>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    run(t, a, m, w, ep, out)
}

/// Linear layer over packed f16 weights.
pub(crate) fn linear_f16(
    t: V4,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, f16>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    run(t, a, m, w, ep, out)
}

fn run<T: Widen>(
    _t: V4,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, T>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    check_linear(a.len(), m, w.k(), w.n(), out.len(), ep);
    let np = panels(w.n());
    for p0 in (0..np).step_by(2) {
        let two = p0 + 1 < np;
        for i0 in (0..m).step_by(MR) {
            let rows = (m - i0).min(MR);
            macro_rules! call {
                ($($r:literal)*) => {
                    match (rows, two) {
                        $(
                            // SAFETY: the V4 token proves AVX-512F/F16C; `check_linear` proved
                            // `a` is [m, k] and `out` [m, n], `PackedFloat` holds np·16·k
                            // weights, so rows i0..i0+R and panels p0..p0+P are in bounds.
                            ($r, true) => unsafe { tile::<T, $r, 2>(a, i0, p0, w, ep, out) },
                            // SAFETY: as above, with one panel.
                            ($r, false) => unsafe { tile::<T, $r, 1>(a, i0, p0, w, ep, out) },
                        )*
                        _ => unreachable!(),
                    }
                };
            }
            call!(1 2 3 4 5 6 7 8);
        }
    }
}

/// One R × (16·P) tile: rows `i0..i0+R`, panels `p0..p0+P`.
///
/// # Safety
/// The CPU must support AVX-512F and F16C; `a` must be `[m, k]` and `out` `[m, n]` with
/// `i0 + R ≤ m`; panels `p0..p0+P` must exist in `w`; the epilogue slices must match.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,fma,f16c")]
unsafe fn tile<T: Widen, const R: usize, const P: usize>(
    a: &[f32],
    i0: usize,
    p0: usize,
    w: &PackedFloat<'_, T>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    let (n, k) = (w.n(), w.k());
    let ap = a.as_ptr().add(i0 * k);
    let wp = w.data().as_ptr().add(p0 * PANEL * k);
    let mut acc = [[_mm512_setzero_ps(); P]; R];
    for kk in 0..k {
        let mut wv = [_mm512_setzero_ps(); P];
        for (p, v) in wv.iter_mut().enumerate() {
            *v = T::load16(wp.add(p * PANEL * k + kk * PANEL));
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_ps(*ap.add(r * k + kk));
            for (acc_rp, wvp) in acc_r.iter_mut().zip(&wv) {
                *acc_rp = _mm512_fmadd_ps(*wvp, av, *acc_rp);
            }
        }
    }
    for p in 0..P {
        let j0 = (p0 + p) * PANEL;
        if j0 >= n {
            break;
        }
        for (r, acc_r) in acc.iter().enumerate() {
            store_epilogue(acc_r[p], i0 + r, j0, n, ep, out.as_mut_ptr());
        }
    }
}
