//! NEON row passes for 32-bit ARM: LayerNorm and the int8 row quantization, in `asm!` (see
//! `arch::arm`), on blocks of 4 (quantization: 8) f32 with a scalar tail of the same
//! arithmetic.
//!
//! Target cores: as `arm::neon::math`. LayerNorm: the mean and the variance are sums in 4 lanes
//! (a different order than the scalar twin's; the suite's LayerNorm tolerance, 1e-5 relative),
//! the normalisation `((x - mean) · inv) · gamma + beta` the twin's operations in its order.
//! Quantization: the row's range by `vmin`/`vmax` (exact), then the twin's
//! `round_ties_even((x - offset) · inv)` clamped to ±127 (`vsub`, `vmul`, rounding by adding
//! and subtracting 1.5 · 2²³, `vmin`/`vmax`, exact conversion and narrowing): the same integers
//! and [`RowQuant`] as `generic::quantize_row_i8` for every finite input that is not subnormal
//! (NEON on armv7 flushes those to zero); a row with a NaN is left to the twin.

use crate::arch::arm::ArmNeon;
use crate::linear::RowQuant;

/// LayerNorm over each row in place (see `generic::layer_norm_f32`).
pub(crate) fn layer_norm_f32(t: ArmNeon, x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let h = gamma.len();
    crate::frame::rows::layer_norm_rows(x, gamma, beta, |row| {
        let whole = h / 4;
        let tail = 4 * whole..h;
        let sum = sum_blocks(t, &row[..4 * whole]) + row[tail.clone()].iter().sum::<f32>();
        let mean = sum / h as f32;
        let sq = squares_blocks(t, &row[..4 * whole], mean)
            + row[tail.clone()].iter().map(|v| (v - mean) * (v - mean)).sum::<f32>();
        let inv = 1.0 / (sq / h as f32 + eps).sqrt();
        normalize_blocks(t, &mut row[..4 * whole], gamma, beta, mean, inv);
        for c in tail {
            row[c] = (row[c] - mean) * inv * gamma[c] + beta[c];
        }
    });
}

/// `Σ x` over the blocks of 4 of `x` (its length a multiple of 4), in 4 lanes summed pairwise
/// at the end.
fn sum_blocks(_t: ArmNeon, x: &[f32]) -> f32 {
    let sum: u32;
    // SAFETY: the token proves NEON; the asm reads the whole blocks of 4 of `x` and touches only
    // the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vmov.i32 q2, #0",
            ]
            body [
                "vld1.32 {{d0-d1}}, [{x}]!",
                "vadd.f32 q2, q2, q0",
            ]
            finish [
                "vpadd.f32 d4, d4, d5",
                "vpadd.f32 d4, d4, d4",
                "vmov {sum}, s8",
            ]
            n = x.len() / 4, advance [x],
            sum = lateout(reg) sum,
        );
    }
    f32::from_bits(sum)
}

/// `Σ (x - mean)²` over the blocks of 4 of `x`, in 4 lanes summed pairwise at the end.
fn squares_blocks(_t: ArmNeon, x: &[f32], mean: f32) -> f32 {
    let sum: u32;
    // SAFETY: the token proves NEON; the asm reads the whole blocks of 4 of `x` and touches only
    // the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vmov.i32 q2, #0",
                "vdup.32 q1, {mean}",
            ]
            body [
                "vld1.32 {{d0-d1}}, [{x}]!",
                "vsub.f32 q0, q0, q1",
                "vmla.f32 q2, q0, q0",
            ]
            finish [
                "vpadd.f32 d4, d4, d5",
                "vpadd.f32 d4, d4, d4",
                "vmov {sum}, s8",
            ]
            n = x.len() / 4, advance [x],
            mean = in(reg) mean.to_bits(),
            sum = lateout(reg) sum,
        );
    }
    f32::from_bits(sum)
}

/// `x ← ((x - mean) · inv) · g + b` over the blocks of 4 of `x` (`g` and `b` at least as long).
fn normalize_blocks(_t: ArmNeon, x: &mut [f32], g: &[f32], b: &[f32], mean: f32, inv: f32) {
    assert!(g.len() >= x.len() && b.len() >= x.len(), "normalize_blocks: gamma/beta too short");
    // SAFETY: the token proves NEON; the asm reads and writes the whole blocks of 4 of `x`, reads
    // as many of `g` and `b` (checked above), and touches only the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vdup.32 q4, {mean}",
                "vdup.32 q5, {inv}",
            ]
            body [
                "vld1.32 {{d0-d1}}, [{x}]",
                "vld1.32 {{d2-d3}}, [{g}]!",
                "vld1.32 {{d4-d5}}, [{b}]!",
                "vsub.f32 q0, q0, q4",
                "vmul.f32 q0, q0, q5",
                "vmul.f32 q0, q0, q1",
                "vadd.f32 q0, q0, q2",
                "vst1.32 {{d0-d1}}, [{x}]!",
            ]
            finish []
            n = x.len() / 4, advance [x, g, b],
            mean = in(reg) mean.to_bits(),
            inv = in(reg) inv.to_bits(),
        );
    }
}

/// `generic::quantize_row_i8` of `x` into `q` (the same integers and [`RowQuant`]; see the
/// module docs).
pub(crate) fn quantize_row_i8(t: ArmNeon, x: &[f32], q: &mut [i8]) -> RowQuant {
    assert_eq!(x.len(), q.len(), "quantize_row_i8: length mismatch");
    let whole = x.len() / 8;
    let (mut lo, mut hi) = range_blocks(t, &x[..8 * whole]);
    for &v in &x[8 * whole..] {
        (lo, hi) = (lo.min(v), hi.max(v));
    }
    if lo.is_nan() || hi.is_nan() {
        // `vmin`/`vmax` propagate NaN where `f32::min`/`max` skip it: the twin's range.
        return crate::generic::quantize_row_i8(x, q);
    }
    let (row, inv) = crate::generic::row_quant(lo, hi);
    quantize_blocks(t, &x[..8 * whole], &mut q[..8 * whole], row.offset, inv);
    for (d, v) in q[8 * whole..].iter_mut().zip(&x[8 * whole..]) {
        *d = ((v - row.offset) * inv).round_ties_even().clamp(-127.0, 127.0) as i8;
    }
    row
}

/// `(min(0, x…), max(0, x…))` over the blocks of 8 of `x`.
fn range_blocks(_t: ArmNeon, x: &[f32]) -> (f32, f32) {
    let (lo, hi): (u32, u32);
    // SAFETY: the token proves NEON; the asm reads the whole blocks of 8 of `x` and touches only
    // the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vmov.i32 q2, #0",
                "vmov.i32 q3, #0",
            ]
            body [
                "vld1.32 {{d0-d3}}, [{x}]!",
                "vmin.f32 q2, q2, q0",
                "vmax.f32 q3, q3, q0",
                "vmin.f32 q2, q2, q1",
                "vmax.f32 q3, q3, q1",
            ]
            finish [
                "vpmin.f32 d4, d4, d5",
                "vpmin.f32 d4, d4, d4",
                "vpmax.f32 d6, d6, d7",
                "vpmax.f32 d6, d6, d6",
                "vmov {lo}, s8",
                "vmov {hi}, s12",
            ]
            n = x.len() / 8, advance [x],
            lo = lateout(reg) lo,
            hi = lateout(reg) hi,
        );
    }
    (f32::from_bits(lo), f32::from_bits(hi))
}

/// `q[i] = clamp(round_ties_even((x[i] - offset) · inv), ±127)` over the blocks of 8 of `x`
/// (`q` at least as long).
fn quantize_blocks(_t: ArmNeon, x: &[f32], q: &mut [i8], offset: f32, inv: f32) {
    assert!(q.len() >= x.len(), "quantize_blocks: output too short");
    // SAFETY: the token proves NEON; the asm reads the whole blocks of 8 of `x`, writes as many
    // bytes of `q` (checked above), and touches only the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vdup.32 q4, {off}",
                "vdup.32 q5, {inv}",
                "vdup.32 q6, {magic}",
                "vdup.32 q7, {max}",
                "vneg.f32 q3, q7",
            ]
            body [
                "vld1.32 {{d0-d3}}, [{x}]!",
                "vsub.f32 q0, q0, q4",
                "vsub.f32 q1, q1, q4",
                "vmul.f32 q0, q0, q5",
                "vmul.f32 q1, q1, q5",
                "vadd.f32 q0, q0, q6",
                "vadd.f32 q1, q1, q6",
                "vsub.f32 q0, q0, q6",
                "vsub.f32 q1, q1, q6", // rounded to the nearest integer, ties to even
                "vmin.f32 q0, q0, q7",
                "vmin.f32 q1, q1, q7",
                "vmax.f32 q0, q0, q3",
                "vmax.f32 q1, q1, q3",
                "vcvt.s32.f32 q0, q0",
                "vcvt.s32.f32 q1, q1",
                "vmovn.i32 d4, q0",
                "vmovn.i32 d5, q1",
                "vmovn.i16 d4, q2",
                "vst1.8 {{d4}}, [{q}]!",
            ]
            finish []
            n = x.len() / 8, advance [x, q],
            off = in(reg) offset.to_bits(),
            inv = in(reg) inv.to_bits(),
            magic = in(reg) 12_582_912f32.to_bits(),
            max = in(reg) 127f32.to_bits(),
        );
    }
}
