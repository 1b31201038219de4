//! int4 GEMM with the ARMv8.2 dot-product extension (`sdot`): Cortex-A55/A75/A76/A78/X1,
//! Neoverse N1/V1, Apple M1+.
//!
//! The same operands as the AVX-512 VNNI kernel: a 64-byte block of packed nibbles is four q
//! registers; `and 0x0F` gives the 4-input quad `2t` and `ushr 4` the quad `2t + 1`, each already
//! in the int8 panel order (4 columns × 4 inputs per register, `sdot`'s shape). The nibbles are
//! offset binary (`q_w + 8`, 0..15, positive as i8), so instead of subtracting 8 from every byte
//! each group's accumulators start from `-8 · Σ_group q_a`, computed once per row and group.
//! Each group's exact i32 sums are added into f32 by one fused multiply-add (`fmla`) with the
//! panel's 16 f16 scales widened by `fcvtl` (through `asm!`: the f16 vector types are unstable),
//! in group order: bit-identical to `generic::gemm_i4_f32`. The rows' scale and offset and the
//! epilogue are `generic::finish_i4` (scalar; bit-identical, GELU included).
//! Tile: 2 rows × 16 columns: 8 i32 group accumulators, 8 f32 sums, 8 unpacked weight registers.
//! The loop nest, the scales and the stores are `neon::gemm_i4`'s (`i4_tile`), shared with the
//! plain NEON int4 GEMM; only the accumulation (`sdot`) is this file's.
//! Tolerance: bit-identical to the twin.

use crate::arch::aarch64::neon::gemm_i4::{i4_tile, neon_int4_gemm};
use crate::arch::aarch64::NeonDot;
use crate::packed_i4::PackedI4;
use core::arch::aarch64::*;

crate::arch::aarch64::accumulate_asm!(
    /// `acc += sdot(w, a)` lane-wise (four i8 products per i32 lane).
    sdot = "sdot", "neon,dotprod"
);

neon_int4_gemm!(NeonDot, 2: 1 2);

/// One R × 16 tile (panel `p`) over the whole depth: `sdot` into 4 i32 accumulators per row
/// and group, which start from the group's offset.
#[target_feature(enable = "neon,dotprod")]
fn tile<const R: usize>(act: &[i8], sums: &[i32], i0: usize, p: usize, w: &PackedI4<'_>, out: &mut [f32]) {
    let mac =
        |acc: &mut [int32x4_t; 4], lo: &[int8x16_t; 4], hi: &[int8x16_t; 4], al: int8x16_t, ah: int8x16_t| {
            for c in 0..4 {
                acc[c] = sdot(acc[c], lo[c], al);
                acc[c] = sdot(acc[c], hi[c], ah);
            }
        };
    i4_tile::<R, _>(act, sums, i0, p, w, out, |offset| [vdupq_n_s32(offset); 4], mac, |acc, _| *acc)
}
