//! int8 GEMM with the ARMv8.2 dot-product extension (`sdot`): Cortex-A55/A75/A76/A78/X1,
//! Neoverse N1/V1, Apple M1+. f32/f16 GEMM is the plain NEON one.
//!
//! Tile: 4 rows × 16 columns (one panel), 16 i32 accumulators. A 16-byte weight register holds
//! 4 columns × 4 inputs, exactly `sdot`'s shape: `acc[c] += Σ_t w[c][t] · a[t]` with the row's
//! 4 activation bytes replicated in every lane. Activations stay i8 (no u8 shift, no column
//! sums). `sdot` goes through `asm!` (its intrinsic is unstable) inside a
//! `#[target_feature(enable = "dotprod")]` function so the assembler accepts it.
//! Tolerance: i32 exact.

use crate::arch::aarch64::NeonDot;
use crate::frame::gemm::{drive, Depth, MicroKernel};
use crate::frame::int8::{finish_i32, padded_rows, Int8Gemm, Sink};
use crate::linear::{RowQuant, Scratch};
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::aarch64::*;
use core::arch::asm;

const MR: usize = 4;

impl Int8Gemm for NeonDot {
    type Act = i8;

    fn act_len(m: usize, k: usize) -> usize {
        padded_rows::len(m, k)
    }

    fn buffers(s: &mut Scratch) -> (&mut Vec<i8>, &mut Vec<RowQuant>) {
        (&mut s.i8s, &mut s.rows)
    }

    fn quantize_row(self, x: &[f32], i: usize, act: &mut [i8]) -> RowQuant {
        padded_rows::quantize_row(x, i, act)
    }

    fn copy_row(self, q: &[i8], i: usize, act: &mut [i8]) {
        padded_rows::copy_row(q, i, act)
    }

    fn run(self, act: &[i8], m: usize, w: &PackedI8<'_>, sink: Sink<'_, '_>) {
        assert!(act.len() >= m * k4(w.k()));
        drive(&mut Tiles { q: act, w, sink }, m, w.n(), k4(w.k()));
    }
}

/// The `sdot` GEMM as a [`MicroKernel`]: 4 × 16 tiles, one depth block.
struct Tiles<'a, 'w, 's, 'e> {
    q: &'a [i8],
    w: &'a PackedI8<'w>,
    sink: Sink<'s, 'e>,
}

impl MicroKernel for Tiles<'_, '_, '_, '_> {
    const MR: usize = MR;
    const NP: usize = 1;
    const NR: usize = PANEL;

    #[inline(always)]
    fn tile(&mut self, rows: usize, _units: usize, i0: usize, p: usize, _d: Depth) {
        // SAFETY: a `NeonDot` token exists (this is its GEMM), so NEON and dotprod are present;
        // `run` checked that `q` is [m, k4], `PackedI8` holds np·16·k4 bytes, and the driver
        // keeps rows i0..i0+R and panel p in bounds.
        unsafe { tiles!(rows rows, tile (self.q, i0, p, self.w, &mut self.sink); 1 2 3 4) }
    }
}

/// `acc += sdot(w, a)` lane-wise (four i8 products per i32 lane).
///
/// # Safety
/// The CPU must support the dot-product extension.
#[inline]
#[target_feature(enable = "neon,dotprod")]
unsafe fn sdot(acc: int32x4_t, w: int8x16_t, a: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    asm!(
        "sdot {acc:v}.4s, {w:v}.16b, {a:v}.16b",
        acc = inout(vreg) acc, w = in(vreg) w, a = in(vreg) a,
        options(pure, nomem, nostack),
    );
    acc
}

/// One R × 16 tile.
///
/// # Safety
/// NEON and dotprod must be present; `q` must be `[m, k4]` with `i0 + R ≤ m`; panel `p` must
/// exist in `w`; the sink must be `[m, n]`.
#[target_feature(enable = "neon,dotprod")]
unsafe fn tile<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let k4 = k4(w.k());
    let ap = q.as_ptr().add(i0 * k4);
    let wp = w.data().as_ptr().add(p * PANEL * k4);
    let mut acc = [[vdupq_n_s32(0); 4]; R];
    for g in 0..k4 / 4 {
        let mut wv = [vdupq_n_s8(0); 4];
        for (c, v) in wv.iter_mut().enumerate() {
            *v = vld1q_s8(wp.add(g * 64 + c * 16));
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let word = (ap.add(r * k4 + g * 4) as *const u32).read_unaligned();
            let av = vreinterpretq_s8_u32(vdupq_n_u32(word));
            for (acc_rc, wc) in acc_r.iter_mut().zip(&wv) {
                *acc_rc = sdot(*acc_rc, *wc, av);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let mut vals = [0i32; 16];
        for (c, v) in acc_r.iter().enumerate() {
            vst1q_s32(vals.as_mut_ptr().add(4 * c), *v);
        }
        finish_i32(&vals, i0 + r, p * PANEL, w, sink);
    }
}
