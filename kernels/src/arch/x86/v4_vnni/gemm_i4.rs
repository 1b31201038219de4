//! int4 GEMM on AVX-512 VNNI (`PackedI4`: nibbles `q + 8`, groups of 32 inputs, f16 scales).
//!
//! Target cores: Ice Lake / Sapphire Rapids, Zen 4/5 (as the int8 GEMM).
//! Operands: `vpdpbusd` multiplies an unsigned byte by a signed one. Here the *weights* are the
//! unsigned operand: a 64-byte load of packed nibbles, `and 0x0F` and `srl 4 + and 0x0F` give two
//! registers of offset-binary weights (`q_w + 8`, 0..15) already in the int8 panel order, and the
//! activations stay signed int8 (`generic::quantize_row_i8`'s integers, no u8 shift). The offset
//! is corrected per row and group, not per column: `Σ (q_w + 8) · q_a = Σ q_w · q_a + 8 · Σ q_a`,
//! and `-8 · Σ_group q_a` is computed once per activation row and group and is where each
//! group's accumulators start. (The int8 path's alternative, u8-shifted activations with signed
//! weights, would need a column sum per column *and group*, and a sign extension of every nibble.)
//! Each group's exact i32 sums are converted and added with one fused multiply-add by the 16
//! widened f16 scales of the panel, in group order: bit-identical to `generic::gemm_i4_f32`.
//! Tiles: from 16 rows on, 16 rows × 1 panel (16 i32 group accumulators, 16 f32 sums, 2
//! unpacked weight registers), reading a copy of the activations in slabs of 16 rows
//! ([`Slabs`], made by `prepare`) so that each `vpdpbusd` takes its broadcast activation from
//! base + displacement; fewer rows run 6 rows × 2 panels on the frame's row-major rows. Per group
//! of 32 inputs and panel, the tall tile issues 8 `vpdpbusd` per row, one `vcvtdq2ps` and one
//! FMA per row (bit-identity to the twin needs both, per group: the scales differ), and 4 loads,
//! 8 ands and 4 shifts shared by the 16 rows: 128 of 174 vector uops are `vpdpbusd`, a ceiling
//! of 74 % of the `vpdpbusd` peak (llvm-mca -mcpu=sapphirerapids on the group loop: 95 cycles per
//! 128 `vpdpbusd`, 67 %; the 6 × 32 tile it replaced: 77 cycles per 96, 62 %). The FMA and the
//! conversion alone cap any tile of this format at 8 / 10 = 80 %.
//! Depth is not blocked (the f32 sums live in registers over all groups); a panel's weights
//! (`8 · k` bytes) stay in L1 while every row tile passes over them.
//! Tolerance: bit-identical to the twin before the epilogue; GELU as the vector GELU (1e-6 abs).

use crate::arch::x86::v4::math::{store_epilogue, Span16};
use crate::arch::x86::V4Vnni;
use crate::frame::int4::{drive_tiles, Finish, Int4Gemm, TileInputs, TileOperands};
use crate::linear::RowQuant;
use crate::packed::{k4, panels, PANEL};
use crate::packed_i4::{PackedI4, GROUP};
use core::arch::x86_64::*;

/// Rows of a tall tile (one panel): from this many rows on, the layer runs tall tiles.
const TALL: usize = 16;
/// Rows and panels of a wide tile (short inputs: fewer rows, two panels).
const MR: usize = 6;
const NP: usize = 2;

impl Int4Gemm for V4Vnni {
    type Act = u8;

    fn quantize_row(self, x: &[f32], row: &mut [u8]) -> RowQuant {
        // Shift 0: the u8s are the int8 values' bits (the nibbles are the unsigned operand).
        // SAFETY: the V4Vnni token proves AVX-512F/BW/VL.
        unsafe { super::gemm_i8::quantize_row_shifted(x, &mut row[..k4(x.len())], 0) }
    }

    fn extra_len(m: usize, kp: usize) -> usize {
        if m >= TALL {
            m.div_ceil(TALL) * TALL * kp
        } else {
            0
        }
    }

    /// From [`TALL`] rows on, a copy of the rows in [`Slabs`] after them.
    fn prepare(self, act: &mut [u8], m: usize, kp: usize) {
        if m < TALL {
            return;
        }
        let (rows, slabs) = act.split_at_mut(m * kp);
        for (i, row) in rows.chunks_exact(kp).enumerate() {
            let slab = &mut slabs[(i / TALL) * TALL * kp..];
            for (c, eight) in row.chunks_exact(8).enumerate() {
                let at = c * TALL * 8 + (i % TALL) * 8;
                slab[at..at + 8].copy_from_slice(eight);
            }
        }
    }

    /// Every tile of the `m` × `n` output: panels (or panel pairs) outside, row tiles inside.
    fn run(self, act: &[u8], sums: &[i32], m: usize, w: &PackedI4<'_>, mut fin: Finish<'_, '_>) {
        let np = panels(w.n());
        if m >= TALL {
            let slabs = &act[m * GROUP * w.groups()..];
            drive_tiles(m, np, TALL, 1, |rr, _, i0, p0| {
                // SAFETY: the V4Vnni token proves AVX-512F/BW/VL/VNNI.
                unsafe {
                    tiles!((rr, 1), tile [Slabs] (TileInputs { act: slabs, sums, w }, i0, p0, &mut fin);
                        (1, 1)(2, 1)(3, 1)(4, 1)(5, 1)(6, 1)(7, 1)(8, 1)(9, 1)(10, 1)(11, 1)(12, 1)
                        (13, 1)(14, 1)(15, 1)(16, 1))
                }
            });
        } else {
            drive_tiles(m, np, MR, NP, |rr, pp, i0, p0| {
                // SAFETY: the V4Vnni token proves AVX-512F/BW/VL/VNNI.
                unsafe {
                    tiles!((rr, pp), tile [Rows] (TileInputs { act, sums, w }, i0, p0, &mut fin);
                        (1, 1)(1, 2)(2, 1)(2, 2)(3, 1)(3, 2)(4, 1)(4, 2)(5, 1)(5, 2)(6, 1)(6, 2))
                }
            });
        }
    }
}

/// Where a tile's activation bytes are: input `kk` of tile row `r` at `r · row + (kk / 32) ·
/// group + (kk % 32 / 8) · eight + kk % 8` from the tile's first row.
trait Layout {
    /// `(row, group, eight)` for rows of `kp` bytes.
    fn strides(kp: usize) -> (usize, usize, usize);
}

/// The frame's rows (`kp` bytes each, row-major): wide tiles of few rows.
struct Rows;
impl Layout for Rows {
    fn strides(kp: usize) -> (usize, usize, usize) {
        (kp, GROUP, 8)
    }
}

/// Slabs of [`TALL`] rows, `slab[kk / 8][row][8]`: a tall tile's broadcasts are one stream at
/// constant offsets (`vpdpbusd` with an embedded broadcast from base + displacement stays one
/// fused micro-op; the row-major base + index form is split in two at rename, which made the
/// front end the limit).
struct Slabs;
impl Layout for Slabs {
    fn strides(_: usize) -> (usize, usize, usize) {
        (8, GROUP * TALL, 8 * TALL)
    }
}

/// One R × (16·P) tile over the whole depth: rows `i0..i0+R`, panels `p0..p0+P`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
fn tile<L: Layout, const R: usize, const P: usize>(
    t: TileInputs<'_, u8>,
    i0: usize,
    p0: usize,
    fin: &mut Finish<'_, '_>,
) {
    let (w, n) = (t.w, t.w.n());
    let TileOperands { a, sums: s, data: wd, scales: sc, kp, g } = t.operands(i0, R, p0, P);
    let (rs, gs, ts) = L::strides(kp);
    let nib = _mm512_set1_epi8(0x0F);
    let mut facc = [[_mm512_setzero_ps(); P]; R];
    // SAFETY: TileInputs::operands checked rows i0..i0+R (kp bytes each, read 4 at a time below
    // kp; g group sums each) and panels p0..p0+P (256 · g data bytes, 16 · g scales each).
    unsafe {
        for gi in 0..g {
            let mut acc = [[_mm512_setzero_si512(); P]; R];
            for (r, acc_r) in acc.iter_mut().enumerate() {
                *acc_r = [_mm512_set1_epi32(*s.add(r * g + gi)); P];
            }
            for t in 0..4 {
                let (mut lo, mut hi) = ([_mm512_setzero_si512(); P], [_mm512_setzero_si512(); P]);
                for p in 0..P {
                    let v = _mm512_loadu_si512(wd.add(p * 256 * g + gi * 256 + t * 64) as *const _);
                    lo[p] = _mm512_and_si512(v, nib);
                    hi[p] = _mm512_and_si512(_mm512_srli_epi16::<4>(v), nib);
                }
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let ap = a.add(r * rs + gi * gs + t * ts);
                    let al = _mm512_set1_epi32((ap as *const i32).read_unaligned());
                    let ah = _mm512_set1_epi32((ap.add(4) as *const i32).read_unaligned());
                    for p in 0..P {
                        acc_r[p] = _mm512_dpbusd_epi32(acc_r[p], lo[p], al);
                        acc_r[p] = _mm512_dpbusd_epi32(acc_r[p], hi[p], ah);
                    }
                }
            }
            for p in 0..P {
                let scale =
                    _mm512_cvtph_ps(_mm256_loadu_si256(sc.add(p * PANEL * g + gi * PANEL) as *const _));
                for r in 0..R {
                    facc[r][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][p]), scale, facc[r][p]);
                }
            }
        }
    }
    // Spill once to a plain array: indexing the sums by a run-time `p` below would otherwise keep
    // them in memory inside the hot loop.
    let mut f = [[0f32; PANEL]; TALL];
    for (r, facc_r) in facc.iter().enumerate() {
        for (p, v) in facc_r.iter().enumerate() {
            // SAFETY: each `f` row holds 16 f32.
            unsafe { _mm512_storeu_ps(f[r * P + p].as_mut_ptr(), *v) };
        }
    }
    for p in 0..P {
        let j0 = (p0 + p) * PANEL;
        if j0 >= n {
            break;
        }
        let cols = Span16::new(j0, n);
        let wsum = &w.w_sums()[j0..j0 + PANEL];
        // SAFETY: `wsum` holds the 64 bytes read.
        let wsum = unsafe { _mm512_loadu_ps(wsum.as_ptr()) };
        for r in 0..R {
            let i = i0 + r;
            // SAFETY: each `f` row holds 16 f32.
            let v = unsafe { _mm512_loadu_ps(f[r * P + p].as_ptr()) };
            match fin {
                Finish::Raw(out) => cols.store(&mut out[i * n..(i + 1) * n], v),
                Finish::Linear { out, rows, ep } => {
                    // generic::finish_i4, lane by lane, in its order (two products, one sum).
                    let y = _mm512_add_ps(
                        _mm512_mul_ps(v, _mm512_set1_ps(rows[i].scale)),
                        _mm512_mul_ps(_mm512_set1_ps(rows[i].offset), wsum),
                    );
                    store_epilogue(y, i, cols, ep, out);
                }
            }
        }
    }
}
