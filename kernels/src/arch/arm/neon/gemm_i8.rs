//! int8 GEMM by widening multiply-accumulate for 32-bit ARM NEON (Cortex-A7/A8/A9/A15, and
//! ARMv8 cores in 32-bit mode).
//!
//! Tile: 1 row × 16 columns (one panel), as two asm calls of 8 columns. Per group of 4 inputs
//! the panel holds 4 registers of 4 columns × 4 inputs (`PackedI8`'s layout, shared with
//! aarch64); a half panel is 2 of them (d8–d11). `vmull.s8` of each d register (2 columns × 4
//! inputs) with the row's 4 activation bytes replicated (d14) gives 8 exact i16 products
//! (|q · w| ≤ 128²), `vpadal.s16` adds adjacent pairs into 4 i32 lanes (q0–q3), folded by
//! `vpadd.i32` at the end. The layout and the blocking are `frame::int8::PlainRows`'.
//! Epilogue: dequantize, bias and residual scalar (`frame::int8::finish_i32`'s arithmetic, bit
//! for bit), GELU by the NEON kernel (`arm::neon::math`) on the tile row's 16 values.
//! Activation rows are quantized by `arm::neon::rows` (the twin's integers).
//! Tolerance: i32 exact; after the epilogue the suite's GELU tolerance.

use crate::arch::arm::neon::math::{gelu_blocks, Table};
use crate::arch::arm::ArmNeon;
use crate::frame::int8::{PlainTiles, Sink};
use crate::linear::RowQuant;
use crate::packed::{k4, PackedI8, PANEL};

impl PlainTiles for ArmNeon {
    const MR: usize = 1;

    fn tile(self, rows: usize, q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
        let k4 = k4(w.k());
        assert!(rows <= 1 && q.len() >= (i0 + rows) * k4 && p * PANEL < w.n());
        let panel = &w.data()[p * PANEL * k4..(p + 1) * PANEL * k4];
        for i in i0..i0 + rows {
            let row = &q[i * k4..(i + 1) * k4];
            let mut vals = [0i32; 16];
            // k = 0: no groups, the sums stay 0.
            for (half, out) in vals.chunks_exact_mut(8).enumerate().filter(|_| k4 > 0) {
                // SAFETY: a token exists, so NEON is present; `row` holds `k4 / 4` groups of
                // 4 bytes and `panel` `k4 / 4` groups of 64, of which each call reads bytes
                // `32 · half .. 32 · half + 32`; `out` holds the 8 i32 written.
                unsafe { half_panel(row.as_ptr(), panel[32 * half..].as_ptr(), k4 / 4, out.as_mut_ptr()) };
            }
            finish_i32(self, &vals, i, p * PANEL, w, sink);
        }
    }

    fn quantize_row(self, x: &[f32], q: &mut [i8]) -> RowQuant {
        crate::arch::arm::neon::rows::quantize_row_i8(self, x, q)
    }
}

/// `frame::int8::finish_i32` (raw, or dequantized then the epilogue) with the epilogue's GELU
/// on 4 lanes: `y = dequantize + bias` per column as the twin, GELU of the 16 values by
/// `gelu_blocks`, then the residual.
pub(crate) fn finish_i32(
    t: ArmNeon,
    acc: &[i32; 16],
    i: usize,
    j0: usize,
    w: &PackedI8<'_>,
    sink: &mut Sink<'_, '_>,
) {
    let Sink::F32 { out, rows, ep } = sink else {
        return crate::frame::int8::finish_i32(acc, i, j0, w, sink);
    };
    if !ep.gelu {
        return crate::frame::int8::finish_i32(acc, i, j0, w, sink);
    }
    let n = w.n();
    let valid = n.saturating_sub(j0).min(PANEL);
    let mut y = Table([0f32; 16]);
    for (c, v) in y.0.iter_mut().enumerate().take(valid) {
        *v = rows[i].dequantize(acc[c], w.scales()[j0 + c], w.col_sums()[j0 + c]);
        if let Some(b) = ep.bias {
            *v += b[j0 + c];
        }
    }
    gelu_blocks(t, &mut y.0);
    for (c, &v) in y.0.iter().enumerate().take(valid) {
        out[i * n + j0 + c] = match ep.residual {
            Some(r) => v + r[i * n + j0 + c],
            None => v,
        };
    }
}

/// `out[c] = Σ_t w[c][t] · a[t]` for the 8 columns of a half panel at `w` (groups 64 bytes
/// apart) over `groups` groups of 4 inputs at `a`.
///
/// # Safety
/// NEON must be present; `a` must be readable for `4 · groups` bytes, `w` for
/// `64 · (groups - 1) + 32` bytes (nothing when `groups` is 0), `out` writable for 8 i32.
unsafe fn half_panel(a: *const i8, w: *const i8, groups: usize, out: *mut i32) {
    // SAFETY: the caller's contract; the asm reads and writes only those bytes and the
    // clobbered registers.
    unsafe {
        neon_blocks!(
            setup [
                "vmov.i32 q0, #0",
                "vmov.i32 q1, #0",
                "vmov.i32 q2, #0",
                "vmov.i32 q3, #0",
            ]
            body [
                "vld1.32 {{d14[]}}, [{a}]!",
                "vld1.8 {{d8-d11}}, [{w}], {stride}",
                "vmull.s8 q6, d8, d14",
                "vpadal.s16 q0, q6",
                "vmull.s8 q6, d9, d14",
                "vpadal.s16 q1, q6",
                "vmull.s8 q6, d10, d14",
                "vpadal.s16 q2, q6",
                "vmull.s8 q6, d11, d14",
                "vpadal.s16 q3, q6",
            ]
            finish [
                "vpadd.i32 d0, d0, d1",
                "vpadd.i32 d1, d2, d3",
                "vpadd.i32 d2, d4, d5",
                "vpadd.i32 d3, d6, d7",
                "vst1.32 {{d0-d3}}, [{out}]",
            ]
            n = groups, advance [a, w],
            stride = in(reg) 64usize,
            out = in(reg) out,
        );
    }
}
