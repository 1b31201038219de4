//! f32 GEMM over packed f32 or f16 weights on ymm (f16 widened with F16C `vcvtph2ps`).
//!
//! Target cores: Haswell…Raptor Lake, Zen 1–4 (two 256-bit FMA pipes).
//! Tile: 6 rows × 16 columns (one panel = two ymm), 12 ymm accumulators; per input `kk`:
//! 2 weight loads, 6 broadcasts, 12 FMAs (the classic 6×16 AVX2 shape).
//! Tolerance: f32 relative error ≤ 1e-6 · √k against the generic twin.

use super::math::store_epilogue;
use crate::arch::x86::V3;
use crate::linear::{check_linear, Epilogue, Scratch};
use crate::packed::{panels, PackedFloat, PANEL};
use core::arch::x86_64::*;
use half::f16;

const MR: usize = 6;

/// Loads 8 consecutive weights widened to f32.
trait Widen: Copy {
    /// # Safety
    /// `p` must point at 8 readable elements; the CPU must support AVX and F16C.
    unsafe fn load8(p: *const Self) -> __m256;
}

impl Widen for f32 {
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
}

impl Widen for f16 {
    #[inline(always)]
    unsafe fn load8(p: *const f16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
    }
}

/// Linear layer over packed f32 weights.
pub(crate) fn linear_f32(
    t: V3,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, f32>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    _scratch: &mut Scratch,
) {
    run(t, a, m, w, ep, out)
}

/// Linear layer over packed f16 weights.
pub(crate) fn linear_f16(
    t: V3,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, f16>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    _scratch: &mut Scratch,
) {
    run(t, a, m, w, ep, out)
}

fn run<T: Widen>(_t: V3, a: &[f32], m: usize, w: &PackedFloat<'_, T>, ep: &Epilogue<'_>, out: &mut [f32]) {
    check_linear(a.len(), m, w.k(), w.n(), out.len(), ep);
    for p in 0..panels(w.n()) {
        for i0 in (0..m).step_by(MR) {
            macro_rules! call {
                ($($r:literal)*) => {
                    match (m - i0).min(MR) {
                        $(
                            // SAFETY: the V3 token proves AVX2/FMA/F16C; `check_linear` proved
                            // `a` is [m, k] and `out` [m, n], `PackedFloat` holds np·16·k
                            // weights, so rows i0..i0+R and panel p are in bounds.
                            $r => unsafe { tile::<T, $r>(a, i0, p, w, ep, out) },
                        )*
                        _ => unreachable!(),
                    }
                };
            }
            call!(1 2 3 4 5 6);
        }
    }
}

/// One R × 16 tile: rows `i0..i0+R`, panel `p`.
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C; `a` must be `[m, k]` and `out` `[m, n]` with
/// `i0 + R ≤ m`; panel `p` must exist in `w`; the epilogue slices must match.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn tile<T: Widen, const R: usize>(
    a: &[f32],
    i0: usize,
    p: usize,
    w: &PackedFloat<'_, T>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    let (n, k) = (w.n(), w.k());
    let ap = a.as_ptr().add(i0 * k);
    let wp = w.data().as_ptr().add(p * PANEL * k);
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    for kk in 0..k {
        let w0 = T::load8(wp.add(kk * PANEL));
        let w1 = T::load8(wp.add(kk * PANEL + 8));
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = _mm256_set1_ps(*ap.add(r * k + kk));
            acc_r[0] = _mm256_fmadd_ps(w0, av, acc_r[0]);
            acc_r[1] = _mm256_fmadd_ps(w1, av, acc_r[1]);
        }
    }
    for h in 0..2 {
        let j0 = p * PANEL + h * 8;
        if j0 >= n {
            break;
        }
        for (r, acc_r) in acc.iter().enumerate() {
            store_epilogue(acc_r[h], i0 + r, j0, n, ep, out.as_mut_ptr());
        }
    }
}
