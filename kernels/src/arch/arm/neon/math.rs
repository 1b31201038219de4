//! NEON f32 row kernels for 32-bit ARM: GELU (erf form) and the masked row softmax, the same
//! functions as the aarch64 backends' (`aarch64::neon::math`) in `asm!` (see `arch::arm`: no
//! stable NEON intrinsics or `target_feature` on arm).
//!
//! Target cores: every armv7 core with NEON (Cortex-A7/A8/A9/A15/A17, ARMv8 cores in 32-bit
//! mode). Each kernel is one loop over blocks of 4 lanes in one `asm!` block, using only q0–q7
//! (the registers the target's VFPv3-D16 unit shares with NEON, declared as clobbers); the last
//! `len % 4` elements run as one more block in a padded copy, or in scalar code with the same
//! arithmetic where a padded lane would change the result.
//!
//! Arithmetic, with the coefficients of the other backends: erf is `x · P(x²) / Q(x²)` on
//! [-4, 4] with `arch::ERF_P` / `ERF_Q` and ±1 from |x| = 3.9 on, as `aarch64::neon::math::erf`;
//! armv7 NEON has neither a fused multiply-add (Horner steps are `vmla`, rounded twice) nor a
//! vector divide (`vrecpe` + two `vrecps` steps + one residual correction of the quotient);
//! GELU is `(0.5 · x) · (1 + erf)` like the scalar twin. exp is aarch64's (range reduction by
//! `n = round(x · log2 e)` in two parts of ln 2, degree-6 Taylor polynomial, `2ⁿ` from the
//! exponent bits; rounding to nearest by adding and subtracting 1.5 · 2²³), exactly 0 below
//! -87.3, so masked softmax entries are exactly 0. NEON on armv7 flushes subnormals to zero.
//! Tolerance: the suite's GELU (1e-6 relative to max(1, |GELU|)) and softmax (1e-6 absolute).

use crate::arch::arm::ArmNeon;
use crate::arch::{ERF_P, ERF_Q};

/// Constants of the 16-byte aligned tables the kernels load from.
#[repr(C, align(16))]
pub(crate) struct Table<const N: usize>(pub(crate) [f32; N]);

/// GELU's constants: `[1/√2, 4, -4, 3.9, 0.5, 1, 0, 0]`, `ERF_P` and `ERF_Q[0]`, then
/// `ERF_Q[1..]` (the order the kernel loads them in).
static GELU: Table<20> = Table([
    core::f32::consts::FRAC_1_SQRT_2,
    4.0,
    -4.0,
    3.9,
    0.5,
    1.0,
    0.0,
    0.0,
    ERF_P[0],
    ERF_P[1],
    ERF_P[2],
    ERF_P[3],
    ERF_P[4],
    ERF_P[5],
    ERF_P[6],
    ERF_Q[0],
    ERF_Q[1],
    ERF_Q[2],
    ERF_Q[3],
    ERF_Q[4],
]);

/// Runs `blocks(ptr, count)` on the whole blocks of 4 of `x`, then on a copy of the last
/// `x.len() % 4` elements padded with `fill` (written back); returns the sum of what the calls
/// return.
#[inline(always)]
pub(crate) fn by_blocks(x: &mut [f32], fill: f32, mut blocks: impl FnMut(&mut [f32]) -> f32) -> f32 {
    let whole = x.len() / 4;
    let mut total = blocks(&mut x[..4 * whole]);
    let tail = &mut x[4 * whole..];
    if !tail.is_empty() {
        let mut t = Table([fill; 4]);
        t.0[..tail.len()].copy_from_slice(tail);
        total += blocks(&mut t.0);
        tail.copy_from_slice(&t.0[..tail.len()]);
    }
    total
}

/// GELU (erf form) in place over a slice (the `gelu_erf` slot).
pub(crate) fn gelu_erf_slice(t: ArmNeon, x: &mut [f32]) {
    by_blocks(x, 0.0, |b| {
        gelu_blocks(t, b);
        0.0
    });
}

/// GELU in place on the blocks of 4 f32 of `x` (its length a multiple of 4).
pub(crate) fn gelu_blocks(_t: ArmNeon, x: &mut [f32]) {
    let c = GELU.0.as_ptr();
    // SAFETY: the token proves NEON; the asm reads the 80-byte table and the 16 bytes of each
    // block, writes each block back, and touches only the clobbered registers.
    unsafe {
        neon_blocks!(
            setup []
            body [
                "vld1.32 {{d0-d1}}, [{x}]",
                "vld1.32 {{d8-d11}}, [{c}]", // d8 {1/√2, 4}, d9 {-4, 3.9}, d10 {0.5, 1}
                "vmul.f32 q1, q0, d8[0]",
                "vdup.32 q2, d8[1]",
                "vmin.f32 q1, q1, q2",
                "vdup.32 q2, d9[0]",
                "vmax.f32 q1, q1, q2", // q1: x/√2 clamped to [-4, 4]
                "vmul.f32 q2, q1, q1", // q2: its square
                "vld1.32 {{d12-d15}}, [{cp}]", // P0..P6, Q0
                "vdup.32 q3, d12[0]",
                "vdup.32 q0, d12[1]",
                "vmla.f32 q0, q3, q2",
                "vdup.32 q3, d13[0]",
                "vmla.f32 q3, q0, q2",
                "vdup.32 q0, d13[1]",
                "vmla.f32 q0, q3, q2",
                "vdup.32 q3, d14[0]",
                "vmla.f32 q3, q0, q2",
                "vdup.32 q0, d14[1]",
                "vmla.f32 q0, q3, q2",
                "vdup.32 q3, d15[0]",
                "vmla.f32 q3, q0, q2", // q3: P(x²)
                "vmul.f32 q3, q1, q3", // numerator x · P
                "vdup.32 q0, d15[1]",
                "vld1.32 {{d12-d13}}, [{cq}]", // Q1..Q4
                "vdup.32 q7, d12[0]",
                "vmla.f32 q7, q0, q2",
                "vdup.32 q0, d12[1]",
                "vmla.f32 q0, q7, q2",
                "vdup.32 q7, d13[0]",
                "vmla.f32 q7, q0, q2",
                "vdup.32 q0, d13[1]",
                "vmla.f32 q0, q7, q2", // q0: Q(x²), the denominator
                "vrecpe.f32 q7, q0",
                "vrecps.f32 q6, q0, q7",
                "vmul.f32 q7, q7, q6",
                "vrecps.f32 q6, q0, q7",
                "vmul.f32 q7, q7, q6", // q7: 1 / Q
                "vmul.f32 q6, q3, q7",
                "vmls.f32 q3, q6, q0",
                "vmla.f32 q6, q3, q7", // q6: x · P / Q, corrected by its residual
                "vdup.32 q0, d9[1]",
                "vacge.f32 q0, q1, q0", // |x| ≥ 3.9: erf is ±1
                "vmov.i32 q3, #0x80000000",
                "vdup.32 q7, d10[1]",
                "vbsl q3, q1, q7", // ±1 with the sign of x
                "vbsl q0, q3, q6", // q0: erf(x/√2)
                "vld1.32 {{d2-d3}}, [{x}]",
                "vadd.f32 q0, q0, q7",
                "vmul.f32 q1, q1, d10[0]",
                "vmul.f32 q0, q1, q0", // (0.5 · x) · (1 + erf)
                "vst1.32 {{d0-d1}}, [{x}]!",
            ]
            finish []
            n = x.len() / 4, advance [x],
            c = in(reg) c,
            cp = in(reg) c.add(8),
            cq = in(reg) c.add(16),
        );
    }
}

/// See `generic::softmax_rows_f32`.
pub(crate) fn softmax_rows_f32(t: ArmNeon, x: &mut [f32], cols: usize, scale: f32, bias: Option<&[f32]>) {
    crate::frame::rows::softmax_rows(x, cols, bias, |row| softmax_row(t, row, scale, bias));
}

/// One row: `y = x · scale + bias` and its maximum, `e = exp(y - max)` and its sum, `e / sum`.
fn softmax_row(t: ArmNeon, row: &mut [f32], scale: f32, bias: Option<&[f32]>) {
    let whole = row.len() / 4;
    let zeros = Table([0f32; 4]);
    // No bias: every block adds the same 4 zeros (stride 0).
    let (b, stride) = bias.map_or((&zeros.0[..], 0), |b| (b, 16));
    let mut max = scale_bias_max(t, &mut row[..4 * whole], b, stride, scale);
    // The tail in scalar code: a padded lane could raise the maximum.
    for (c, v) in row.iter_mut().enumerate().skip(4 * whole) {
        *v = *v * scale + bias.map_or(0.0, |b| b[c]);
        max = max.max(*v);
    }
    if !max.is_finite() {
        row.fill(0.0);
        return;
    }
    let k = exp_constants(max);
    // Padded lanes are -inf: exp gives exactly 0 to the sum.
    let sum = by_blocks(row, f32::NEG_INFINITY, |b| exp_sum_blocks(t, b, &k));
    let inv = 1.0 / sum;
    scale_blocks(t, &mut row[..4 * whole], inv);
    row[4 * whole..].iter_mut().for_each(|v| *v *= inv);
}

/// `x[i] ← x[i] · scale + b[i]` over `blocks` blocks of 4 (`b` advancing by `stride` bytes, 16
/// or 0), returning the maximum of the results (-inf for no blocks).
/// `b` must be at least as long as `x` with `stride` 16, at least 4 long with `stride` 0.
fn scale_bias_max(_t: ArmNeon, x: &mut [f32], b: &[f32], stride: usize, scale: f32) -> f32 {
    let need = if stride == 0 { 4 } else { x.len() };
    assert!((stride == 0 || stride == 16) && b.len() >= need, "scale_bias_max: bias too short");
    let max: u32;
    // SAFETY: the token proves NEON; the asm reads and writes the whole blocks of 4 of `x`, reads
    // as many of `b` (or its first 4 again and again, stride 0; checked above), and touches only
    // the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vdup.32 q2, {s}",
                "vdup.32 q3, {ninf}",
            ]
            body [
                "vld1.32 {{d0-d1}}, [{x}]",
                "vld1.32 {{d2-d3}}, [{b}], {stride}",
                "vmul.f32 q0, q0, q2",
                "vadd.f32 q0, q0, q1",
                "vst1.32 {{d0-d1}}, [{x}]!",
                "vmax.f32 q3, q3, q0",
            ]
            finish [
                "vpmax.f32 d6, d6, d7",
                "vpmax.f32 d6, d6, d6",
                "vmov {m}, s12",
            ]
            n = x.len() / 4, advance [x, b],
            stride = in(reg) stride,
            s = in(reg) scale.to_bits(),
            ninf = in(reg) f32::NEG_INFINITY.to_bits(),
            m = lateout(reg) max,
        );
    }
    f32::from_bits(max)
}

/// exp's constants for a row of maximum `max`, in the order `exp_sum_blocks` loads them.
fn exp_constants(max: f32) -> Table<16> {
    Table([
        max,
        core::f32::consts::LOG2_E,
        12_582_912.0, // 1.5 · 2²³: adding and subtracting it rounds to the nearest integer
        0.693_145_75,
        1.428_606_8e-6,
        -87.3,
        88.3,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        0.0,
        0.0,
        0.0,
    ])
}

/// `x[i] ← exp(x[i] - max)` over the blocks of 4 of `x`, returning the sum of the results; `k` is
/// [`exp_constants`]`(max)`.
fn exp_sum_blocks(_t: ArmNeon, x: &mut [f32], k: &Table<16>) -> f32 {
    let sum: u32;
    // SAFETY: the token proves NEON; the asm reads `k` (64 bytes) and the blocks, writes the
    // blocks, and touches only the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vmov.i32 q7, #0",
            ]
            body [
                "vld1.32 {{d0-d1}}, [{x}]",
                "vld1.32 {{d8-d11}}, [{k0}]", // d8 {max, log2 e}, d9 {1.5·2²³, ln2 hi}, d10 {ln2 lo, -87.3}, d11 {88.3, 1/720}
                "vdup.32 q1, d8[0]",
                "vsub.f32 q0, q0, q1",
                "vdup.32 q1, d10[1]",
                "vclt.f32 q6, q0, q1", // below -87.3 (-inf included): exactly 0
                "vmax.f32 q0, q0, q1",
                "vdup.32 q1, d11[0]",
                "vmin.f32 q0, q0, q1",
                "vmul.f32 q1, q0, d8[1]",
                "vdup.32 q2, d9[0]",
                "vadd.f32 q1, q1, q2",
                "vsub.f32 q1, q1, q2", // q1: n = round(x · log2 e)
                "vmls.f32 q0, q1, d9[1]",
                "vmls.f32 q0, q1, d10[0]", // q0: r = x - n · ln 2
                "vdup.32 q2, d11[1]",
                "vld1.32 {{d8-d10}}, [{k8}]", // 1/120, 1/24, 1/6, 1/2, 1, 0
                "vdup.32 q3, d8[0]",
                "vmla.f32 q3, q2, q0",
                "vdup.32 q2, d8[1]",
                "vmla.f32 q2, q3, q0",
                "vdup.32 q3, d9[0]",
                "vmla.f32 q3, q2, q0",
                "vdup.32 q2, d9[1]",
                "vmla.f32 q2, q3, q0",
                "vdup.32 q3, d10[0]",
                "vmla.f32 q3, q2, q0",
                "vdup.32 q2, d10[0]",
                "vmla.f32 q2, q3, q0", // q2: exp(r)
                "vcvt.s32.f32 q1, q1", // n is integral: exact
                "vmov.i32 q3, #127",
                "vadd.i32 q1, q1, q3",
                "vshl.i32 q1, q1, #23", // 2ⁿ
                "vmul.f32 q2, q2, q1",
                "vbic q2, q2, q6",
                "vst1.32 {{d4-d5}}, [{x}]!",
                "vadd.f32 q7, q7, q2",
            ]
            finish [
                "vpadd.f32 d14, d14, d15",
                "vpadd.f32 d14, d14, d14",
                "vmov {sum}, s28",
            ]
            n = x.len() / 4, advance [x],
            k0 = in(reg) k.0.as_ptr(),
            k8 = in(reg) k.0[8..].as_ptr(),
            sum = lateout(reg) sum,
        );
    }
    f32::from_bits(sum)
}

/// `x[i] ← x[i] · s` over the blocks of 4 of `x`.
pub(crate) fn scale_blocks(_t: ArmNeon, x: &mut [f32], s: f32) {
    // SAFETY: the token proves NEON; the asm reads and writes the whole blocks of 4 of `x` and
    // touches only the clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vdup.32 q1, {s}",
            ]
            body [
                "vld1.32 {{d0-d1}}, [{x}]",
                "vmul.f32 q0, q0, q1",
                "vst1.32 {{d0-d1}}, [{x}]!",
            ]
            finish []
            n = x.len() / 4, advance [x],
            s = in(reg) s.to_bits(),
        );
    }
}
