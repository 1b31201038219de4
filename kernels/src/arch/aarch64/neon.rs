//! NEON kernels for every ARMv8-A core (Cortex-A53/A55/A72/A76, Apple, Graviton): int8 GEMM by
//! widening multiply-accumulate, f32 and f16-weight GEMM by `fmla`.
//!
//! int8 tile: 2 rows × 16 columns (one panel). Each 16-byte weight register holds 4 columns ×
//! 4 inputs; `smull`/`smull2` against the row's 4 activation bytes (replicated) give i16
//! products (|q · w| ≤ 127², exact) and `sadalp` adds adjacent pairs into i32 lanes
//! (column, input pair), folded by `addp` at the end. 16 i32 accumulators.
//! f32 tile: 4 rows × 16 columns (4 q registers per row), 16 accumulators; f16 weights are
//! widened with `fcvtl`/`fcvtl2` (through `asm!`: the f16 vector types are unstable in Rust).
//! Epilogue: scalar (`generic::epilogue_at`) on each finished tile, O(m·n) beside O(m·n·k).
//! Tolerance: i32 exact; f32 relative error ≤ 1e-6 · √k against the generic twin.

use super::{finish_f32, finish_i32, pad_rows, quantize_rows_padded, Neon};
use crate::arch::Sink;
use crate::linear::{check_linear, Epilogue, Scratch};
use crate::packed::{k4, panels, PackedFloat, PackedI8, PANEL};
use core::arch::aarch64::*;
use core::arch::asm;
use half::f16;

const MR_I8: usize = 2;
const MR_F32: usize = 4;

/// int8 linear layer (see `Kernels::linear_i8`).
pub(crate) fn linear_i8(
    t: Neon,
    a: &[f32],
    m: usize,
    w: &PackedI8<'_>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    scratch: &mut Scratch,
) {
    check_linear(a.len(), m, w.k(), w.n(), out.len(), ep);
    let (q, rows) = quantize_rows_padded(a, m, w.k(), scratch);
    run_i8(t, q, m, w, Sink::F32 { out, rows, ep });
}

/// Exact i32 GEMM of i8 activations `q` (`[m, k]`) with `w`.
pub(crate) fn gemm_i8_i32(
    t: Neon,
    q: &[i8],
    m: usize,
    w: &PackedI8<'_>,
    out: &mut [i32],
    scratch: &mut Scratch,
) {
    assert_eq!(q.len(), m * w.k(), "gemm_i8_i32: q must be [m, k]");
    assert_eq!(out.len(), m * w.n(), "gemm_i8_i32: out must be [m, n]");
    let q = pad_rows(q, m, w.k(), scratch);
    run_i8(t, q, m, w, Sink::I32(out));
}

fn run_i8(_t: Neon, q: &[i8], m: usize, w: &PackedI8<'_>, mut sink: Sink<'_, '_>) {
    assert_eq!(q.len(), m * k4(w.k()));
    for p in 0..panels(w.n()) {
        for i0 in (0..m).step_by(MR_I8) {
            // SAFETY: the Neon token proves NEON; `q` is [m, k4] (asserted), `PackedI8` holds
            // np·16·k4 bytes, so rows i0..i0+R and panel p are in bounds.
            unsafe {
                if m - i0 >= 2 {
                    tile_i8::<2>(q, i0, p, w, &mut sink)
                } else {
                    tile_i8::<1>(q, i0, p, w, &mut sink)
                }
            }
        }
    }
}

/// One R × 16 int8 tile.
///
/// # Safety
/// NEON must be present; `q` must be `[m, k4]` with `i0 + R ≤ m`; panel `p` must exist.
#[target_feature(enable = "neon")]
unsafe fn tile_i8<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let (n, k4) = (w.n(), k4(w.k()));
    let ap = q.as_ptr().add(i0 * k4);
    let wp = w.data().as_ptr().add(p * PANEL * k4);
    let mut acc = [[vdupq_n_s32(0); 8]; R];
    for g in 0..k4 / 4 {
        let mut wv = [vdupq_n_s8(0); 4];
        for (c, v) in wv.iter_mut().enumerate() {
            *v = vld1q_s8(wp.add(g * 64 + c * 16));
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let word = (ap.add(r * k4 + g * 4) as *const u32).read_unaligned();
            let av = vreinterpretq_s8_u32(vdupq_n_u32(word));
            for (c, wc) in wv.iter().enumerate() {
                acc_r[2 * c] = vpadalq_s16(acc_r[2 * c], vmull_s8(vget_low_s8(*wc), vget_low_s8(av)));
                acc_r[2 * c + 1] = vpadalq_s16(acc_r[2 * c + 1], vmull_high_s8(*wc, av));
            }
        }
    }
    let j0 = p * PANEL;
    for (r, acc_r) in acc.iter().enumerate() {
        let mut vals = [0i32; 16];
        for c in 0..4 {
            vst1q_s32(vals.as_mut_ptr().add(4 * c), vpaddq_s32(acc_r[2 * c], acc_r[2 * c + 1]));
        }
        finish_i32(&vals, i0 + r, j0, n, w.scales(), w.col_sums(), sink);
    }
}

/// Loads 16 consecutive weights widened to f32.
trait Widen: Copy {
    /// # Safety
    /// `p` must point at 16 readable elements; NEON must be present.
    unsafe fn load16(p: *const Self) -> [float32x4_t; 4];
}

impl Widen for f32 {
    #[inline(always)]
    unsafe fn load16(p: *const f32) -> [float32x4_t; 4] {
        [vld1q_f32(p), vld1q_f32(p.add(4)), vld1q_f32(p.add(8)), vld1q_f32(p.add(12))]
    }
}

impl Widen for f16 {
    #[inline(always)]
    unsafe fn load16(p: *const f16) -> [float32x4_t; 4] {
        let (h0, h1) = (vld1q_u16(p as *const u16), vld1q_u16((p as *const u16).add(8)));
        let (a, b, c, d): (float32x4_t, float32x4_t, float32x4_t, float32x4_t);
        asm!(
            "fcvtl {a:v}.4s, {h0:v}.4h",
            "fcvtl2 {b:v}.4s, {h0:v}.8h",
            "fcvtl {c:v}.4s, {h1:v}.4h",
            "fcvtl2 {d:v}.4s, {h1:v}.8h",
            h0 = in(vreg) h0, h1 = in(vreg) h1,
            a = out(vreg) a, b = out(vreg) b, c = out(vreg) c, d = out(vreg) d,
            options(pure, nomem, nostack),
        );
        [a, b, c, d]
    }
}

/// Linear layer over packed f32 weights.
pub(crate) fn linear_f32(
    t: Neon,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, f32>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    _scratch: &mut Scratch,
) {
    run_float(t, a, m, w, ep, out)
}

/// Linear layer over packed f16 weights.
pub(crate) fn linear_f16(
    t: Neon,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, f16>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    _scratch: &mut Scratch,
) {
    run_float(t, a, m, w, ep, out)
}

fn run_float<T: Widen>(
    _t: Neon,
    a: &[f32],
    m: usize,
    w: &PackedFloat<'_, T>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    check_linear(a.len(), m, w.k(), w.n(), out.len(), ep);
    for p in 0..panels(w.n()) {
        for i0 in (0..m).step_by(MR_F32) {
            macro_rules! call {
                ($($r:literal)*) => {
                    match (m - i0).min(MR_F32) {
                        $(
                            // SAFETY: the Neon token proves NEON; `check_linear` proved `a` is
                            // [m, k] and `out` [m, n]; `PackedFloat` holds np·16·k weights.
                            $r => unsafe { tile_float::<T, $r>(a, i0, p, w, ep, out) },
                        )*
                        _ => unreachable!(),
                    }
                };
            }
            call!(1 2 3 4);
        }
    }
}

/// One R × 16 f32 tile.
///
/// # Safety
/// NEON must be present; `a` must be `[m, k]`, `out` `[m, n]` with `i0 + R ≤ m`; panel `p`
/// must exist in `w`; the epilogue slices must match.
#[target_feature(enable = "neon")]
unsafe fn tile_float<T: Widen, const R: usize>(
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
    let mut acc = [[vdupq_n_f32(0.0); 4]; R];
    for kk in 0..k {
        let wv = T::load16(wp.add(kk * PANEL));
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = *ap.add(r * k + kk);
            for (acc_rc, wc) in acc_r.iter_mut().zip(&wv) {
                *acc_rc = vfmaq_n_f32(*acc_rc, *wc, av);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let mut vals = [0f32; 16];
        for (c, v) in acc_r.iter().enumerate() {
            vst1q_f32(vals.as_mut_ptr().add(4 * c), *v);
        }
        finish_f32(&vals, i0 + r, p * PANEL, n, ep, out);
    }
}
