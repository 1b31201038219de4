//! NEON vector math for every aarch64 backend: erf/GELU (the AVX2 backend's rational erf fit),
//! exp, the fused epilogues of the int8 and f32 GEMM tiles, masked softmax.
//!
//! Target cores: every ARMv8-A core (the dot-product and i8mm backends use these too).
//! Tolerance: the int8 epilogue's dequantize, bias and residual are bit-identical to the scalar
//! twin (`RowQuant::dequantize` and `generic::epilogue_at`, lane by lane in their order,
//! separate multiplies and adds: no FMA contraction); erf within 2e-7 absolute of
//! `generic::erf_f32` (GELU ≤ 1e-6); exp within 2 ulp on [-87, 88], exactly 0 below -87.3
//! (masked softmax entries are exactly 0); softmax 1e-6 absolute.

use crate::arch::aarch64::Neon;
use crate::arch::{ERF_P, ERF_Q};
use crate::frame::int8::Sink;
use crate::linear::Epilogue;
use crate::packed::{PackedI8, PANEL};
use core::arch::aarch64::*;

/// All-ones lanes for the indices `j..min(j + 4, n)`.
#[inline]
#[target_feature(enable = "neon")]
fn mask4(j: usize, n: usize) -> uint32x4_t {
    let valid = n.saturating_sub(j).min(4) as u32;
    let lanes = [0u32, 1, 2, 3];
    // SAFETY: `lanes` holds the 16 bytes read.
    vcltq_u32(unsafe { vld1q_u32(lanes.as_ptr()) }, vdupq_n_u32(valid))
}

/// `s[j..j + 4]`; lanes past the end of `s` are `fill`.
#[inline]
#[target_feature(enable = "neon")]
fn load4(s: &[f32], j: usize, fill: f32) -> float32x4_t {
    if j + 4 <= s.len() {
        // SAFETY: `s` holds the 4 floats read (checked).
        unsafe { vld1q_f32(s.as_ptr().add(j)) }
    } else {
        let mut t = [fill; 4];
        let tail = s.get(j..).unwrap_or(&[]);
        t[..tail.len()].copy_from_slice(tail);
        // SAFETY: `t` holds the 16 bytes read.
        unsafe { vld1q_f32(t.as_ptr()) }
    }
}

/// Stores the lanes of `v` that fall inside `s`, at `s[j..]`.
#[inline]
#[target_feature(enable = "neon")]
fn store4(s: &mut [f32], j: usize, v: float32x4_t) {
    if j + 4 <= s.len() {
        // SAFETY: `s` holds the 4 floats written (checked).
        unsafe { vst1q_f32(s.as_mut_ptr().add(j), v) }
    } else {
        let mut t = [0f32; 4];
        // SAFETY: `t` holds the 16 bytes written.
        unsafe { vst1q_f32(t.as_mut_ptr(), v) };
        let len = s.len().saturating_sub(j);
        s[j..j + len].copy_from_slice(&t[..len]);
    }
}

/// erf on 4 lanes (x · P(x²) / Q(x²) on [-4, 4], ±1 from |x| = 3.9 on, as the AVX2 twin).
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn erf(x: float32x4_t) -> float32x4_t {
    let x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(4.0)), vdupq_n_f32(-4.0));
    let x2 = vmulq_f32(x, x);
    let mut p = vdupq_n_f32(ERF_P[0]);
    for c in &ERF_P[1..] {
        p = vfmaq_f32(vdupq_n_f32(*c), p, x2);
    }
    let mut q = vdupq_n_f32(ERF_Q[0]);
    for c in &ERF_Q[1..] {
        q = vfmaq_f32(vdupq_n_f32(*c), q, x2);
    }
    let saturated = vcageq_f32(x, vdupq_n_f32(3.9));
    // ±1 with the sign of x.
    let one = vbslq_f32(vdupq_n_u32(0x8000_0000), x, vdupq_n_f32(1.0));
    vbslq_f32(saturated, one, vdivq_f32(vmulq_f32(x, p), q))
}

/// GELU (erf form) on 4 lanes.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn gelu(x: float32x4_t) -> float32x4_t {
    let e = erf(vmulq_n_f32(x, std::f32::consts::FRAC_1_SQRT_2));
    let half_x = vmulq_n_f32(x, 0.5);
    vfmaq_f32(half_x, half_x, e)
}

/// exp on 4 lanes; inputs below -87.3 (including -inf) give exactly 0.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn exp(x: float32x4_t) -> float32x4_t {
    let tiny = vcltq_f32(x, vdupq_n_f32(-87.3));
    let x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(88.3)), vdupq_n_f32(-87.3));
    let n = vrndnq_f32(vmulq_n_f32(x, std::f32::consts::LOG2_E));
    let r = vfmsq_f32(x, n, vdupq_n_f32(0.693_145_75));
    let r = vfmsq_f32(r, n, vdupq_n_f32(1.428_606_8e-6));
    let mut p = vdupq_n_f32(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = vfmaq_f32(vdupq_n_f32(c), p, r);
    }
    // n is integral, so the truncating conversion is exact.
    let pow2n = vshlq_n_s32::<23>(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)));
    let e = vmulq_f32(p, vreinterpretq_f32_s32(pow2n));
    vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(e), tiny))
}

/// Finishes 4 outputs `y` of row `i`, columns `j..j + 4` (clipped to `n`): bias, GELU,
/// residual (`generic::epilogue_at`'s order), stored into `out` (`[m, n]` row-major).
#[inline]
#[target_feature(enable = "neon")]
fn store_epilogue(mut y: float32x4_t, i: usize, j: usize, n: usize, ep: &Epilogue<'_>, out: &mut [f32]) {
    if let Some(b) = ep.bias {
        y = vaddq_f32(y, load4(b, j, 0.0));
    }
    if ep.gelu {
        y = gelu(y);
    }
    if let Some(r) = ep.residual {
        y = vaddq_f32(y, load4(&r[i * n..(i + 1) * n], j, 0.0));
    }
    store4(&mut out[i * n..(i + 1) * n], j, y);
}

/// Finishes one tile row of 16 f32 values at row `i`, columns `j0..` (clipped to `n`), by the
/// vector epilogue (the NEON f32 GEMM's; `frame::int8::finish_f32` is the scalar twin).
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn finish_f32(
    vals: &[f32; 16],
    i: usize,
    j0: usize,
    n: usize,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    for c in (0..16).step_by(4).take_while(|c| j0 + c < n) {
        store_epilogue(load4(vals, c, 0.0), i, j0 + c, n, ep, out);
    }
}

/// Finishes one tile row of 16 i32 dot products at row `i`, columns `j0..` (`j0` a multiple of
/// 16, clipped to `n`): raw, or dequantized (`RowQuant::dequantize`, lane by lane in its order)
/// then the vector epilogue. The aarch64 int8 tiles' epilogue; `frame::int8::finish_i32` is the
/// scalar twin.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) fn finish_i32(acc: &[i32; 16], i: usize, j0: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let Sink::F32 { out, rows, ep } = sink else {
        return crate::frame::int8::finish_i32(acc, i, j0, w, sink);
    };
    let (n, q) = (w.n(), rows[i]);
    // The per-column arrays are padded to whole panels (PackedI8::new checks their lengths).
    let (scales, sums) = (&w.scales()[j0..j0 + PANEL], &w.col_sums()[j0..j0 + PANEL]);
    for c in (0..16).step_by(4).take_while(|c| j0 + c < n) {
        // SAFETY: `acc`, `scales` and `sums` hold 16 values each, of which 4 are read from c < 16.
        let (a, ws, cs) = unsafe {
            (
                vld1q_s32(acc.as_ptr().add(c)),
                vld1q_f32(scales.as_ptr().add(c)),
                vld1q_s32(sums.as_ptr().add(c)),
            )
        };
        // acc as f32 * w_scale * scale + offset * (w_scale * col_sum as f32)
        let y = vaddq_f32(
            vmulq_n_f32(vmulq_f32(vcvtq_f32_s32(a), ws), q.scale),
            vmulq_n_f32(vmulq_f32(ws, vcvtq_f32_s32(cs)), q.offset),
        );
        store_epilogue(y, i, j0 + c, n, ep, out);
    }
}

/// The int8 epilogue slot (`KernelSlots::dequantize_i8`) through [`finish_i32`], the function
/// the tiles call.
pub(crate) fn dequantize_i8(
    _t: Neon,
    acc: &[i32],
    rows: &[crate::RowQuant],
    w: &PackedI8<'_>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    // SAFETY: the token proves NEON.
    crate::frame::int8::dequantize_by_tiles(acc, rows, w, ep, out, |t, i, j0, w, sink| unsafe {
        finish_i32(t, i, j0, w, sink)
    });
}

/// GELU (erf form) in place over a slice.
pub(crate) fn gelu_erf_slice(_t: Neon, x: &mut [f32]) {
    // SAFETY: the token proves NEON.
    unsafe { gelu_erf_slice_impl(x) }
}

#[target_feature(enable = "neon")]
fn gelu_erf_slice_impl(x: &mut [f32]) {
    for j in (0..x.len()).step_by(4) {
        let v = gelu(load4(x, j, 0.0));
        store4(x, j, v);
    }
}

/// See `generic::softmax_rows_f32`.
pub(crate) fn softmax_rows_f32(_t: Neon, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
    // SAFETY: the token proves NEON.
    crate::frame::rows::softmax_rows(x, cols, bias, |row| unsafe { softmax_row(row, scale, bias) });
}

#[target_feature(enable = "neon")]
fn softmax_row(row: &mut [f32], scale: f32, bias: Option<&[f32]>) {
    let n = row.len();
    let mut vmax = vdupq_n_f32(f32::NEG_INFINITY);
    for j in (0..n).step_by(4) {
        let mut y = vmulq_n_f32(load4(row, j, 0.0), scale);
        if let Some(b) = bias {
            y = vaddq_f32(y, load4(b, j, 0.0));
        }
        store4(row, j, y);
        // Lanes past the row do not count.
        vmax = vmaxq_f32(vmax, vbslq_f32(mask4(j, n), y, vdupq_n_f32(f32::NEG_INFINITY)));
    }
    let max = vmaxvq_f32(vmax);
    if !max.is_finite() {
        row.fill(0.0);
        return;
    }
    let mut vsum = vdupq_n_f32(0.0);
    for j in (0..n).step_by(4) {
        // Lanes past the row load as -inf: exp gives exactly 0.
        let e = exp(vsubq_f32(load4(row, j, f32::NEG_INFINITY), vdupq_n_f32(max)));
        store4(row, j, e);
        vsum = vaddq_f32(vsum, e);
    }
    let inv = 1.0 / vaddvq_f32(vsum);
    for j in (0..n).step_by(4) {
        let v = vmulq_n_f32(load4(row, j, 0.0), inv);
        store4(row, j, v);
    }
}
