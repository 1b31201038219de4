//! f32 GEMM over packed f32 or f16 weights on zmm (f16 widened with `vcvtph2ps`).
//!
//! Target cores: Skylake-SP, Ice Lake, Zen 4 (one zmm FMA per cycle on Zen 4's 256-bit units).
//! Tile: 6 rows × 64 columns (four panels), 24 zmm accumulators; per input `kk`: 4 weight
//! loads and 6 broadcasts feed 24 FMAs (each broadcast serves 4 FMAs: on Zen 4 a broadcast
//! competes with FMAs for a vector pipe, so 8 × 32 tiles top out near 65 % of peak).
//! Blocking: activations are repacked once per call into 6-row slabs, `a[slab][kk][8]`, so the
//! broadcasts come from one sequential stream instead of six; depth is cut into blocks of
//! `KC` inputs so a panel group's block (4·16·KC·4 B = 64 KiB at KC = 256) stays in L1 while every slab passes over
//! it. Partial sums live in `out` between depth blocks (each block sums from zero, then adds
//! them); the epilogue runs after the last.
//! Tolerance: f32 relative error ≤ 1e-6 · √k against the generic twin.

use super::math::store_epilogue;
use crate::arch::x86::{Widen, V4};
use crate::frame::gemm::{drive, Depth, MicroKernel};
use crate::linear::{check_linear, Epilogue, Scratch};
use crate::packed::{PackedFloat, PANEL};
use core::arch::x86_64::*;

const MR: usize = 6;
/// Panels per tile (64 columns).
const NP: usize = 4;
const KC: usize = 512;

/// The f32 GEMM over weights of type `T` (f32 or f16): activations repacked into 6-row slabs,
/// then [`MicroKernel`] tiles of 6 × 64 over depth blocks of at most [`KC`].
pub(crate) struct F32Gemm<'a, 'w, T> {
    t: V4,
    a: &'a [f32],
    w: &'a PackedFloat<'w, T>,
    ep: &'a Epilogue<'w>,
    out: &'a mut [f32],
}

impl<'a, 'w, T: Widen> F32Gemm<'a, 'w, T> {
    pub(crate) fn new(
        t: V4,
        a: &'a [f32],
        w: &'a PackedFloat<'w, T>,
        ep: &'a Epilogue<'w>,
        out: &'a mut [f32],
    ) -> Self {
        F32Gemm { t, a, w, ep, out }
    }

    /// The linear layer: `out = ep(a · Wᵀ)` over `m` rows.
    pub(crate) fn run(self, m: usize, scratch: &mut Scratch) {
        let (k, n) = (self.w.k(), self.w.n());
        check_linear(self.a.len(), m, k, n, self.out.len(), self.ep);
        let slabs = crate::arch::x86::pack_row_slabs(self.a, m, k, MR, scratch);
        drive(&mut Tiles { t: self.t, slabs, w: self.w, ep: self.ep, out: self.out }, m, n, k);
    }
}

struct Tiles<'a, 'w, T> {
    t: V4,
    slabs: &'a [f32],
    w: &'a PackedFloat<'w, T>,
    ep: &'a Epilogue<'w>,
    out: &'a mut [f32],
}

impl<T: Widen> MicroKernel for Tiles<'_, '_, T> {
    const MR: usize = MR;
    const NP: usize = NP;
    const NR: usize = PANEL;
    const KC: usize = KC;

    #[inline(always)]
    fn tile(&mut self, rows: usize, panels: usize, i0: usize, p0: usize, d: Depth) {
        let Self { t, slabs, w, ep, .. } = *self;
        // SAFETY: the V4 token proves AVX-512F/F16C; `slabs` holds ceil(m/MR)·MR·k values,
        // `check_linear` proved `out` is [m, n], `PackedFloat` holds np·16·k weights, and the
        // driver keeps rows i0..i0+R, panels p0..p0+P and depth kb..kb+kc in bounds.
        unsafe {
            tiles!((rows, panels), tile[T] (t, slabs, i0, p0, d, w, ep, self.out);
                (1, 1)(1, 2)(1, 3)(1, 4)(2, 1)(2, 2)(2, 3)(2, 4)(3, 1)(3, 2)(3, 3)(3, 4)
                (4, 1)(4, 2)(4, 3)(4, 4)(5, 1)(5, 2)(5, 3)(5, 4)(6, 1)(6, 2)(6, 3)(6, 4))
        }
    }
}

/// One R × (16·P) tile over depth block `d`: rows `i0..i0+R`, panels `p0..p0+P`.
///
/// # Safety
/// The CPU must support AVX-512F and F16C; `slabs` must be the 8-row repacking of `[m, k]`
/// activations with `i0 + R ≤ m`; `out` must be `[m, n]`; panels `p0..p0+P` must exist in `w`;
/// the epilogue slices must match.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,fma,f16c")]
unsafe fn tile<T: Widen, const R: usize, const P: usize>(
    t: V4,
    slabs: &[f32],
    i0: usize,
    p0: usize,
    d: Depth,
    w: &PackedFloat<'_, T>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    let n = w.n();
    let ap = slabs.as_ptr().add(i0 * d.len + d.kb * MR);
    let wp = w.data().as_ptr().add(p0 * PANEL * d.len + d.kb * PANEL);
    let mut acc = [[_mm512_setzero_ps(); P]; R];
    for kk in 0..d.kc {
        let mut wv = [_mm512_setzero_ps(); P];
        for (p, v) in wv.iter_mut().enumerate() {
            *v = T::widen16(t, &*(wp.add(p * PANEL * d.len + kk * PANEL) as *const [T; 16]));
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_ps(*ap.add(kk * MR + r));
            for (acc_rp, wvp) in acc_r.iter_mut().zip(&wv) {
                *acc_rp = _mm512_fmadd_ps(*wvp, av, *acc_rp);
            }
        }
    }
    // Spill once to a plain array (see the VNNI kernel: run-time indexing of the accumulators
    // would keep them in memory inside the hot loop).
    let mut fin = [[0f32; PANEL]; NP * MR];
    for (r, acc_r) in acc.iter().enumerate() {
        for (p, v) in acc_r.iter().enumerate() {
            _mm512_storeu_ps(fin[r * NP + p].as_mut_ptr(), *v);
        }
    }
    let last = d.last();
    for p in 0..P {
        let j0 = (p0 + p) * PANEL;
        if j0 >= n {
            break;
        }
        let mask = super::math::col_mask(j0, n);
        for r in 0..R {
            let o = out.as_mut_ptr().add((i0 + r) * n + j0);
            let acc_rp = _mm512_loadu_ps(fin[r * NP + p].as_ptr());
            // Earlier depth blocks left their partial sums in `out`.
            let y = if d.kb > 0 { _mm512_add_ps(acc_rp, _mm512_maskz_loadu_ps(mask, o)) } else { acc_rp };
            if last {
                store_epilogue(y, i0 + r, j0, n, ep, out.as_mut_ptr());
            } else {
                _mm512_mask_storeu_ps(o, mask, y);
            }
        }
    }
}
