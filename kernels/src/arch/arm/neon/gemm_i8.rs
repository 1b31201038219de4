//! int8 GEMM by widening multiply-accumulate for 32-bit ARM NEON (Cortex-A7/A8/A9/A15, and
//! ARMv8 cores in 32-bit mode).
//!
//! Tile: 1 row × 16 columns (one panel), as two asm calls of 8 columns. Per group of 4 inputs
//! the panel holds 4 registers of 4 columns × 4 inputs (`PackedI8`'s layout, shared with
//! aarch64); a half panel is 2 of them (d8–d11). `vmull.s8` of each d register (2 columns × 4
//! inputs) with the row's 4 activation bytes replicated (d14) gives 8 exact i16 products
//! (|q · w| ≤ 128²), `vpadal.s16` adds adjacent pairs into 4 i32 lanes (q0–q3), folded by
//! `vpadd.i32` at the end. The layout and the blocking are `frame::int8::PlainRows`'.
//! Epilogue: scalar (`frame::int8::finish_i32`). Tolerance: i32 exact.

use crate::arch::arm::ArmNeon;
use crate::frame::int8::{finish_i32, PlainTiles, Sink};
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::asm;

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
            finish_i32(&vals, i, p * PANEL, w, sink);
        }
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
        asm!(
            ".fpu neon",
            "vmov.i32 q0, #0",
            "vmov.i32 q1, #0",
            "vmov.i32 q2, #0",
            "vmov.i32 q3, #0",
            "cmp {n}, #0",
            "beq 2f",
            "1:",
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
            "subs {n}, {n}, #1",
            "bne 1b",
            "2:",
            "vpadd.i32 d0, d0, d1",
            "vpadd.i32 d1, d2, d3",
            "vpadd.i32 d2, d4, d5",
            "vpadd.i32 d3, d6, d7",
            "vst1.32 {{d0-d3}}, [{out}]",
            a = inout(reg) a => _,
            w = inout(reg) w => _,
            n = inout(reg) groups => _,
            stride = in(reg) 64usize,
            out = in(reg) out,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _, out("d4") _, out("d5") _,
            out("d6") _, out("d7") _, out("d8") _, out("d9") _, out("d10") _, out("d11") _,
            out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            options(nostack),
        );
    }
}
