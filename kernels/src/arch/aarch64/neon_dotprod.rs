//! int8 GEMM with the ARMv8.2 dot-product extension (`sdot`): Cortex-A55/A75/A76/A78/X1,
//! Neoverse N1/V1, Apple M1+. f32/f16 GEMM is the plain NEON one.
//!
//! Tile: 4 rows × 16 columns (one panel), 16 i32 accumulators. A 16-byte weight register holds
//! 4 columns × 4 inputs, exactly `sdot`'s shape: `acc[c] += Σ_t w[c][t] · a[t]` with the row's
//! 4 activation bytes replicated in every lane. Activations stay i8 (no u8 shift, no column
//! sums). `sdot` goes through `asm!` (its intrinsic is unstable) inside a
//! `#[target_feature(enable = "dotprod")]` function so the assembler accepts it.
//! Tolerance: i32 exact.

use super::{finish_i32, pad_rows, quantize_rows_padded, NeonDot};
use crate::arch::Sink;
use crate::linear::{check_linear, Epilogue, Scratch};
use crate::packed::{k4, panels, PackedI8, PANEL};
use core::arch::aarch64::*;
use core::arch::asm;

const MR: usize = 4;

/// int8 linear layer (see `Kernels::linear_i8`).
pub(crate) fn linear_i8(
    t: NeonDot,
    a: &[f32],
    m: usize,
    w: &PackedI8<'_>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    scratch: &mut Scratch,
) {
    check_linear(a.len(), m, w.k(), w.n(), out.len(), ep);
    let (q, rows) = quantize_rows_padded(a, m, w.k(), scratch);
    run(t, q, m, w, Sink::F32 { out, rows, ep });
}

/// Exact i32 GEMM of i8 activations `q` (`[m, k]`) with `w`.
pub(crate) fn gemm_i8_i32(
    t: NeonDot,
    q: &[i8],
    m: usize,
    w: &PackedI8<'_>,
    out: &mut [i32],
    scratch: &mut Scratch,
) {
    assert_eq!(q.len(), m * w.k(), "gemm_i8_i32: q must be [m, k]");
    assert_eq!(out.len(), m * w.n(), "gemm_i8_i32: out must be [m, n]");
    let q = pad_rows(q, m, w.k(), scratch);
    run(t, q, m, w, Sink::I32(out));
}

fn run(_t: NeonDot, q: &[i8], m: usize, w: &PackedI8<'_>, mut sink: Sink<'_, '_>) {
    assert_eq!(q.len(), m * k4(w.k()));
    for p in 0..panels(w.n()) {
        for i0 in (0..m).step_by(MR) {
            macro_rules! call {
                ($($r:literal)*) => {
                    match (m - i0).min(MR) {
                        $(
                            // SAFETY: the NeonDot token proves NEON + dotprod; `q` is [m, k4]
                            // (asserted) and `PackedI8` holds np·16·k4 bytes.
                            $r => unsafe { tile::<$r>(q, i0, p, w, &mut sink) },
                        )*
                        _ => unreachable!(),
                    }
                };
            }
            call!(1 2 3 4);
        }
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
    let (n, k4) = (w.n(), k4(w.k()));
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
        finish_i32(&vals, i0 + r, p * PANEL, n, w.scales(), w.col_sums(), sink);
    }
}
