//! int8 GEMM with the ARMv8.6 int8 matrix-multiply extension (`smmla`): Cortex-A510/A710/X2
//! and later, Neoverse V1/N2, Apple M2+. f32/f16 GEMM is the plain NEON one.
//!
//! `smmla acc.4s, a.16b, b.16b` multiplies a 2 × 8 i8 block of A (two rows, 8 inputs each) by
//! an 8 × 2 block of B (two columns, given as 2 × 8) into a 2 × 2 i32 block (32 multiply-adds,
//! twice `sdot`'s 16). Tile: 4 rows × 16 columns (one panel) as 2 row pairs × 8 column pairs,
//! 16 accumulators.
//!
//! Weights keep the shared `PackedI8` layout (the blob does not change): per group of 4 inputs
//! a panel holds 4 registers of 4 columns × 4 inputs. Two consecutive groups `lo`, `hi` become
//! `smmla`'s B operands in registers: `zip1.4s(lo, hi)` = columns 0, 1 × 8 inputs,
//! `zip2.4s(lo, hi)` = columns 2, 3 (an odd last group zips with zeros). Activations stay i8
//! (the layout and the blocking are `frame::int8::PlainRows`'); each row pair's 8 bytes are
//! combined into one register, a missing second row (odd tail) is zeros.
//! `smmla` goes through `asm!` (its intrinsic is unstable) inside a
//! `#[target_feature(enable = "i8mm")]` function so the assembler accepts it.
//! Epilogue: NEON (`neon::math::finish_i32`). Tolerance: i32 exact.

use crate::arch::aarch64::neon::math::finish_i32;
use crate::arch::aarch64::{asm_plain_tiles, NeonI8mm};
use crate::frame::int8::Sink;
use crate::packed::{k4, PackedI8, PANEL};
use core::arch::aarch64::*;

asm_plain_tiles!(NeonI8mm:
    /// `acc += a · bᵀ` with `a`, `b` 2 × 8 i8 blocks and `acc` 2 × 2 i32, row-major.
    smmla = "smmla", "neon,i8mm"
);

/// One R × 16 tile (R ≤ 4): two row pairs, each `smmla`'d against 8 column pairs.
#[target_feature(enable = "neon,i8mm")]
fn tile<const R: usize>(q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let k4 = k4(w.k());
    assert!(R <= 4 && q.len() >= (i0 + R) * k4 && p * PANEL < w.n());
    let pairs = R.div_ceil(2);
    let ap = q[i0 * k4..].as_ptr();
    let wp = w.data()[p * PANEL * k4..].as_ptr();
    let groups = k4 / 4;
    let mut acc = [[vdupq_n_s32(0); 8]; 2];
    // One step of 8 inputs from group `g`: `two` when group g + 1 exists, else its half is 0.
    let step = |acc: &mut [[int32x4_t; 8]; 2], g: usize, two: bool| {
        let mut b = [vdupq_n_s8(0); 8];
        for c in 0..4 {
            // SAFETY: panel p holds `groups` groups of 64 bytes (asserted; PackedI8's lengths).
            let lo = unsafe { vld1q_s32(wp.add(g * 64 + c * 16) as *const i32) };
            let hi = if two {
                // SAFETY: as above, group g + 1 exists when `two`.
                unsafe { vld1q_s32(wp.add((g + 1) * 64 + c * 16) as *const i32) }
            } else {
                vdupq_n_s32(0)
            };
            b[2 * c] = vreinterpretq_s8_s32(vzip1q_s32(lo, hi));
            b[2 * c + 1] = vreinterpretq_s8_s32(vzip2q_s32(lo, hi));
        }
        let row = |r: usize| -> u64 {
            if r >= R {
                return 0;
            }
            // SAFETY: rows i0..i0+R of `q` hold k4 bytes each (asserted); group g (and g + 1
            // when `two`) lie inside the row.
            unsafe {
                let at = ap.add(r * k4 + g * 4);
                if two {
                    (at as *const u64).read_unaligned()
                } else {
                    u64::from((at as *const u32).read_unaligned())
                }
            }
        };
        for (pr, acc_p) in acc.iter_mut().enumerate().take(pairs) {
            let av =
                vreinterpretq_s8_u64(vcombine_u64(vcreate_u64(row(2 * pr)), vcreate_u64(row(2 * pr + 1))));
            for (a, bv) in acc_p.iter_mut().zip(&b) {
                *a = smmla(*a, av, *bv);
            }
        }
    };
    // One call site, so LLVM inlines `step` (with two, the 3- and 4-row tiles called it out of
    // line, their 16 accumulators going through memory each step).
    for g in (0..groups).step_by(2) {
        step(&mut acc, g, g + 2 <= groups);
    }
    // acc[pr][j] = [r0·c2j, r0·c2j+1, r1·c2j, r1·c2j+1] for rows 2pr, 2pr + 1.
    for (pr, acc_p) in acc.iter().enumerate().take(pairs) {
        let mut blocks = [[0i32; 4]; 8];
        for (v, out) in acc_p.iter().zip(blocks.iter_mut()) {
            // SAFETY: `out` holds the 4 i32 written.
            unsafe { vst1q_s32(out.as_mut_ptr(), *v) };
        }
        for half in 0..2 {
            let r = 2 * pr + half;
            if r < R {
                let vals: [i32; 16] = core::array::from_fn(|c| blocks[c / 2][2 * half + c % 2]);
                finish_i32(&vals, i0 + r, p * PANEL, w, sink);
            }
        }
    }
}
