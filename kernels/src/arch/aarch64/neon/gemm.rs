//! NEON kernels for every ARMv8-A core (Cortex-A53/A55/A72/A76, Apple, Graviton): int8 GEMM by
//! widening multiply-accumulate, f32 and f16-weight GEMM by `fmla`.
//!
//! int8 tile: 2 rows × 16 columns (one panel). Each 16-byte weight register holds 4 columns ×
//! 4 inputs; `smull`/`smull2` against the row's 4 activation bytes (replicated) give i16
//! products (|q · w| ≤ 127², exact) and `sadalp` adds adjacent pairs into i32 lanes
//! (column, input pair), folded by `addp` at the end. 16 i32 accumulators.
//! f32 tile: 4 rows × 16 columns (4 q registers per row), 16 accumulators; f16 weights are
//! widened with `fcvtl`/`fcvtl2` (through `asm!`: the f16 vector types are unstable in Rust).
//! Epilogue: scalar (`frame::int8::finish_*`) on each finished tile, O(m·n) beside O(m·n·k).
//! Tolerance: i32 exact; f32 relative error ≤ 1e-6 · √k against the generic twin.

use crate::arch::aarch64::Neon;
use crate::frame::gemm::{drive, Depth, MicroKernel};
use crate::frame::int8::{finish_f32, finish_i32, padded_rows, Int8Gemm, Sink};
use crate::linear::{check_linear, Epilogue, RowQuant, Scratch};
use crate::packed::{k4, PackedFloat, PackedI8, PANEL};
use core::arch::aarch64::*;
use core::arch::asm;
use half::f16;

const MR_I8: usize = 2;
const MR_F32: usize = 4;

impl Int8Gemm for Neon {
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
        drive(&mut I8Tiles { q: act, w, sink }, m, w.n(), k4(w.k()));
    }
}

/// The widening-multiply int8 GEMM as a [`MicroKernel`]: 2 × 16 tiles, one depth block.
struct I8Tiles<'a, 'w, 's, 'e> {
    q: &'a [i8],
    w: &'a PackedI8<'w>,
    sink: Sink<'s, 'e>,
}

impl MicroKernel for I8Tiles<'_, '_, '_, '_> {
    const MR: usize = MR_I8;
    const NP: usize = 1;
    const NR: usize = PANEL;

    #[inline(always)]
    fn tile(&mut self, rows: usize, _units: usize, i0: usize, p: usize, _d: Depth) {
        // SAFETY: a `Neon` token exists (this is its GEMM), so NEON is present; `run` checked
        // that `q` is [m, k4], `PackedI8` holds np·16·k4 bytes, and the driver keeps rows
        // i0..i0+R and panel p in bounds.
        unsafe { tiles!(rows rows, tile_i8 (self.q, i0, p, self.w, &mut self.sink); 1 2) }
    }
}

/// One R × 16 int8 tile.
///
/// # Safety
/// NEON must be present; `q` must be `[m, k4]` with `i0 + R ≤ m`; panel `p` must exist.
#[target_feature(enable = "neon")]
unsafe fn tile_i8<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let k4 = k4(w.k());
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
        finish_i32(&vals, i0 + r, j0, w, sink);
    }
}

/// Loads 16 consecutive weights widened to f32.
pub(crate) trait Widen: Copy {
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

/// The f32 GEMM over weights of type `T` (f32 or f16) as a [`MicroKernel`]: 4 × 16 tiles, one
/// depth block.
pub(crate) struct F32Gemm<'a, 'w, T> {
    pub t: Neon,
    pub a: &'a [f32],
    pub w: &'a PackedFloat<'w, T>,
    pub ep: &'a Epilogue<'w>,
    pub out: &'a mut [f32],
}

impl<T: Widen> F32Gemm<'_, '_, T> {
    /// The linear layer: `out = ep(a · Wᵀ)` over `m` rows.
    pub(crate) fn run(mut self, m: usize) {
        let (k, n) = (self.w.k(), self.w.n());
        check_linear(self.a.len(), m, k, n, self.out.len(), self.ep);
        drive(&mut self, m, n, k);
    }
}

impl<T: Widen> MicroKernel for F32Gemm<'_, '_, T> {
    const MR: usize = MR_F32;
    const NP: usize = 1;
    const NR: usize = PANEL;

    #[inline(always)]
    fn tile(&mut self, rows: usize, _units: usize, i0: usize, p: usize, _d: Depth) {
        let Self { t, a, w, ep, .. } = *self;
        let _ = t;
        // SAFETY: the Neon token proves NEON; `run` checked that `a` is [m, k] and `out` [m, n];
        // `PackedFloat` holds np·16·k weights; the driver keeps rows i0..i0+R and panel p in
        // bounds.
        unsafe { tiles!(rows rows, tile_float[T] (a, i0, p, w, ep, self.out); 1 2 3 4) }
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
