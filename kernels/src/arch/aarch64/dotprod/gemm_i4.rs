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
//! Tolerance: bit-identical to the twin.

use crate::arch::aarch64::NeonDot;
use crate::frame::int4::{Finish, Int4Gemm};
use crate::linear::{RowQuant, Scratch};
use crate::packed::{panels, PANEL};
use crate::packed_i4::{PackedI4, GROUP};
use core::arch::aarch64::*;

crate::arch::aarch64::accumulate_asm!(
    /// `acc += sdot(w, a)` lane-wise (four i8 products per i32 lane).
    sdot = "sdot", "neon,dotprod"
);

const MR: usize = 2;

impl Int4Gemm for NeonDot {
    type Act = i8;

    fn buffers(s: &mut Scratch) -> (&mut Vec<i8>, &mut Vec<RowQuant>, &mut Vec<i32>) {
        (&mut s.i8s, &mut s.rows, &mut s.i32s)
    }

    fn quantize_row(self, x: &[f32], row: &mut [i8]) -> RowQuant {
        crate::generic::quantize_row_i8(x, &mut row[..x.len()])
    }

    fn from_i8(v: i8) -> i8 {
        v
    }

    fn to_i8(a: i8) -> i8 {
        a
    }

    /// Every tile (panels outside, row tiles inside) into the group-scaled sums; a linear layer
    /// then finishes with `generic::finish_i4` (scalar, bit-identical to the twin).
    fn run(self, act: &[i8], sums: &[i32], m: usize, w: &PackedI4<'_>, fin: Finish<'_, '_>) {
        let (out, finish) = match fin {
            Finish::Raw(out) => (out, None),
            Finish::Linear { out, rows, ep } => (out, Some((rows, ep))),
        };
        for p in 0..panels(w.n()) {
            for i0 in (0..m).step_by(MR) {
                // SAFETY: a value of the token exists and its constructor checked NEON and dotprod.
                unsafe { tiles!(rows (m - i0).min(MR), tile (act, sums, i0, p, w, out); 1 2) }
            }
        }
        if let Some((rows, ep)) = finish {
            crate::generic::finish_i4(out, rows, w, ep);
        }
    }
}

/// `fcvtl`: four f16 (as raw bits) widened to f32, exactly.
#[inline]
#[target_feature(enable = "neon")]
fn widen_f16(bits: uint16x4_t) -> float32x4_t {
    let out: float32x4_t;
    // SAFETY: the instruction only reads and writes the declared vector registers.
    unsafe {
        core::arch::asm!("fcvtl {o:v}.4s, {i:v}.4h", o = lateout(vreg) out, i = in(vreg) bits,
            options(pure, nomem, nostack));
    }
    out
}

/// One R × 16 tile (panel `p`) over the whole depth.
#[target_feature(enable = "neon,dotprod")]
fn tile<const R: usize>(act: &[i8], sums: &[i32], i0: usize, p: usize, w: &PackedI4<'_>, out: &mut [f32]) {
    let (n, g) = (w.n(), w.groups());
    let kp = GROUP * g;
    assert!(act.len() >= (i0 + R) * kp && sums.len() >= (i0 + R) * g && p * PANEL < n);
    assert!(out.len() >= (i0 + R) * n);
    let a = act[i0 * kp..].as_ptr();
    let wd = w.data()[p * 256 * g..].as_ptr();
    let sc = w.scales()[p * PANEL * g..].as_ptr() as *const u16;
    let nib = vdupq_n_u8(0x0F);
    let mut facc = [[vdupq_n_f32(0.0); 4]; R];
    for gi in 0..g {
        let mut acc = [[vdupq_n_s32(0); 4]; R];
        for (r, acc_r) in acc.iter_mut().enumerate() {
            *acc_r = [vdupq_n_s32(sums[(i0 + r) * g + gi]); 4];
        }
        for t in 0..4 {
            let (mut lo, mut hi) = ([vdupq_n_s8(0); 4], [vdupq_n_s8(0); 4]);
            for c in 0..4 {
                // SAFETY: panel p holds g groups of 256 bytes (PackedI4's lengths; p < panels(n)).
                let v = unsafe { vld1q_u8(wd.add(gi * 256 + t * 64 + c * 16)) };
                lo[c] = vreinterpretq_s8_u8(vandq_u8(v, nib));
                hi[c] = vreinterpretq_s8_u8(vshrq_n_u8::<4>(v));
            }
            for (r, acc_r) in acc.iter_mut().enumerate() {
                // SAFETY: rows i0..i0+R hold kp bytes each (asserted), read below 32 · g = kp.
                let (wl, wh) = unsafe {
                    let ap = a.add(r * kp + gi * GROUP + t * 8);
                    ((ap as *const u32).read_unaligned(), (ap.add(4) as *const u32).read_unaligned())
                };
                let (al, ah) = (vreinterpretq_s8_u32(vdupq_n_u32(wl)), vreinterpretq_s8_u32(vdupq_n_u32(wh)));
                for c in 0..4 {
                    acc_r[c] = sdot(acc_r[c], lo[c], al);
                    acc_r[c] = sdot(acc_r[c], hi[c], ah);
                }
            }
        }
        for c in 0..4 {
            // SAFETY: panel p holds 16 · g scales; group gi's 16 start at gi · 16.
            let scale = widen_f16(unsafe { vld1_u16(sc.add(gi * PANEL + c * 4)) });
            for r in 0..R {
                facc[r][c] = vfmaq_f32(facc[r][c], vcvtq_f32_s32(acc[r][c]), scale);
            }
        }
    }
    let valid = (n - p * PANEL).min(PANEL);
    for (r, facc_r) in facc.iter().enumerate() {
        let mut vals = [0f32; PANEL];
        for (v, o) in facc_r.iter().zip(vals.chunks_exact_mut(4)) {
            // SAFETY: `o` holds the 4 f32 written.
            unsafe { vst1q_f32(o.as_mut_ptr(), *v) };
        }
        let at = (i0 + r) * n + p * PANEL;
        out[at..at + valid].copy_from_slice(&vals[..valid]);
    }
}
