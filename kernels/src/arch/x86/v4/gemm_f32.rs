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

use super::math::{store_epilogue, Span16};
use crate::arch::x86::{Widen, V4};
use crate::frame::gemm::{drive, Depth, FloatLinear, MicroKernel};
use crate::linear::{Epilogue, Scratch};
use crate::packed::{PackedFloat, PANEL};
use core::arch::x86_64::*;

const MR: usize = 6;
/// Panels per tile (64 columns).
const NP: usize = 4;
const KC: usize = 512;

/// The linear layer `l` (`out = ep(a · Wᵀ)`), weights of type `T` (f32 or f16): the
/// activations repacked into 6-row slabs, then [`MicroKernel`] tiles of 6 × 64 over depth
/// blocks of at most [`KC`].
pub(crate) fn linear_float<T: Widen>(t: V4, l: FloatLinear<'_, '_, T>, scratch: &mut Scratch) {
    let (k, n) = l.check();
    let slabs = crate::arch::x86::pack_row_slabs(l.a, l.m, k, MR, scratch);
    drive(&mut Tiles { t, slabs, w: l.w, ep: l.ep, out: l.out }, l.m, n, k);
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
        // SAFETY: the V4 token proves AVX-512F/F16C.
        unsafe {
            tiles!((rows, panels), tile[T] (t, slabs, i0, p0, d, w, ep, self.out);
                (1, 1)(1, 2)(1, 3)(1, 4)(2, 1)(2, 2)(2, 3)(2, 4)(3, 1)(3, 2)(3, 3)(3, 4)
                (4, 1)(4, 2)(4, 3)(4, 4)(5, 1)(5, 2)(5, 3)(5, 4)(6, 1)(6, 2)(6, 3)(6, 4))
        }
    }
}

/// One R × (16·P) tile over depth block `d`: rows `i0..i0+R`, panels `p0..p0+P`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,fma,f16c")]
#[allow(clippy::too_many_arguments)]
fn tile<T: Widen, const R: usize, const P: usize>(
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
    assert!(i0.is_multiple_of(MR) && slabs.len() >= (i0 + MR) * d.len && d.kb + d.kc <= d.len);
    assert!((p0 + P - 1) * PANEL < n && (i0 + R) * n <= out.len());
    let ap = slabs[i0 * d.len + d.kb * MR..].as_ptr();
    let wp = w.data()[p0 * PANEL * d.len + d.kb * PANEL..].as_ptr();
    let mut acc = [[_mm512_setzero_ps(); P]; R];
    // SAFETY: the slab of rows i0..i0+MR holds MR · len values, read at kk · MR + r for
    // kk < kc ≤ len - kb; panels p0..p0+P hold 16 · len weights each (asserted; PackedFloat's
    // length is panels(n) · 16 · len).
    unsafe {
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
    }
    // Spill once to a plain array (see the VNNI kernel: run-time indexing of the accumulators
    // would keep them in memory inside the hot loop).
    let mut fin = [[0f32; PANEL]; NP * MR];
    for (r, acc_r) in acc.iter().enumerate() {
        for (p, v) in acc_r.iter().enumerate() {
            // SAFETY: each `fin` row holds 16 floats.
            unsafe { _mm512_storeu_ps(fin[r * NP + p].as_mut_ptr(), *v) };
        }
    }
    let last = d.last();
    for p in 0..P {
        let j0 = (p0 + p) * PANEL;
        if j0 >= n {
            break;
        }
        let cols = Span16::new(j0, n);
        for r in 0..R {
            // SAFETY: each `fin` row holds 16 floats.
            let acc_rp = unsafe { _mm512_loadu_ps(fin[r * NP + p].as_ptr()) };
            let row = &mut out[(i0 + r) * n..(i0 + r + 1) * n];
            // Earlier depth blocks left their partial sums in `out`.
            let y = if d.kb > 0 { _mm512_add_ps(acc_rp, cols.load(row)) } else { acc_rp };
            if last {
                store_epilogue(y, i0 + r, cols, ep, out);
            } else {
                cols.store(row, y);
            }
        }
    }
}
