//! Fused multi-head attention with int8 products (`vpdpbusd`): four times the multiply-adds per
//! instruction of f32 FMA. Semantics: `generic::attention_i8` (the module documentation there).
//!
//! Target cores: Ice Lake / Sapphire Rapids, Zen 4.
//! Same loop nest as the f32 kernel (`avx512::attention`): per head, keys and values are
//! quantized and packed once, then query rows go in blocks of [`RB`]: quantized query rows,
//! scores, softmax (two phases over the block: all maxima, then all exponentials), quantized
//! probabilities, context.
//! Layouts (i32 words = four bytes side by side, the group `vpdpbusd` multiplies):
//! keys `kq[j / 16][t / 4][j % 16]` (16-key panels by channel group), values
//! `vq[t / 16][j / 4][t % 16]` (16-channel panels by key group); query rows (shifted to u8, as
//! `vpdpbusd` wants one unsigned operand) and probability rows (u8 already) stay row-major and
//! are broadcast a word at a time. The shift's `128 · Σ_t k` is the score accumulators' start
//! value, so the i32 scores are exact.
//! Score tile 6 rows × 64 keys, context tile 12 rows × 32 channels or 6 × 64 (24 accumulators).
//! Each row's arithmetic is independent of the block it falls in (bit-identical thread splits).
//! Tolerance: integer sums exact; the exponential differs from the twin's by ulps, which can move
//! a quantized probability by one step (1/255 of the row's largest).

use crate::arch::x86::v4::math::col_mask;
use crate::arch::x86::V4Vnni;
use crate::attention::AttentionShape;
use crate::generic::{exponent_factor, ATT_Q_MAX};
use crate::linear::{grow, Scratch};
use crate::packed::PANEL;
use core::arch::x86_64::*;

/// Query rows per block.
const RB: usize = 12;

/// Rows per score tile.
const MR: usize = 6;
/// Key panels per score tile (64 keys).
const NP: usize = 4;

/// The per-call geometry shared by the helpers.
#[derive(Clone, Copy)]
struct Dims {
    l: usize,
    d: usize,
    ld: usize,
    /// Keys rounded up to whole panels.
    l16: usize,
    /// Channel groups of four and key groups of four.
    dg: usize,
    lg: usize,
}

/// See `Kernels::attention_i8`; shapes are checked and the empty cases finished by the caller
/// (`attention_slot!`).
pub(crate) fn attention_i8(
    _t: V4Vnni,
    qkv: [&[f32]; 3],
    shape: &AttentionShape,
    ctx: &mut [f32],
    scratch: &mut Scratch,
) {
    // SAFETY: the token proves AVX-512F/BW/VL/VNNI.
    unsafe { attention_i8_with_features(qkv, shape, ctx, scratch) }
}

/// [`attention_i8`] compiled for its features, so the per-row helpers (quantization, softmax)
/// inline into the loops instead of being called across a feature boundary.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
fn attention_i8_with_features(
    [q, k, v]: [&[f32]; 3],
    shape: &AttentionShape,
    ctx: &mut [f32],
    scratch: &mut Scratch,
) {
    let AttentionShape { m, l, heads, d, ld, scale } = *shape;
    let np = l.div_ceil(PANEL);
    let z = Dims { l, d, ld, l16: np * PANEL, dg: d.div_ceil(4), lg: l.div_ceil(4) };
    let vpanels = d.div_ceil(PANEL);
    let words = grow(&mut scratch.attn_i32, np * z.dg * PANEL + vpanels * z.lg * PANEL + z.l16);
    let (kq, rest) = words.split_at_mut(np * z.dg * PANEL);
    let (vq, kcomp) = rest.split_at_mut(vpanels * z.lg * PANEL);
    // Query rows: 4·dg bytes each (padding 128: it meets zero key bytes); probability rows:
    // 4·lg bytes (padding 0); one row of 16·⌈d/16⌉ bytes for a key being quantized.
    let dq = 4 * z.dg;
    let bytes = grow(&mut scratch.u8s, RB * dq + RB * 4 * z.lg + vpanels * PANEL + PANEL * 32);
    let (qq, rest) = bytes.split_at_mut(RB * dq);
    let (pq, rest) = rest.split_at_mut(RB * 4 * z.lg);
    let (tmp, stage) = rest.split_at_mut(vpanels * PANEL);
    let floats = grow(&mut scratch.attn_o, RB * z.l16 + 2 * RB + z.l16 + vpanels * PANEL);
    let (s, rest) = floats.split_at_mut(RB * z.l16);
    let (inv, rest) = rest.split_at_mut(RB);
    let (cq, rest) = rest.split_at_mut(RB);
    let (sk, sv) = rest.split_at_mut(z.l16);
    // Padding keys stay zero: their scores are computed but masked out of the softmax.
    kq[(np - 1) * z.dg * PANEL..].fill(0);
    sk[l..].fill(0.0);
    for h in 0..heads {
        if z.dg == 8 {
            // 32 channels: 16 keys' quantized rows are staged row-major, then transposed into
            // the panel by permutes.
            for p in 0..np {
                for r in 0..PANEL {
                    let (j, row) = (p * PANEL + r, &mut stage[r * 32..(r + 1) * 32]);
                    if j < l {
                        sk[j] = quantize_row(&k[j * ld + h * d..j * ld + h * d + d], row, 0);
                    } else {
                        row.fill(0);
                    }
                }
                transpose_16x8(stage, &mut kq[p * 8 * PANEL..(p + 1) * 8 * PANEL]);
            }
        } else {
            for j in 0..l {
                let row = &k[j * ld + h * d..j * ld + h * d + d];
                sk[j] = quantize_row(row, tmp, 0);
                let panel = &mut kq[(j / PANEL) * z.dg * PANEL..];
                for (g, w) in tmp[..dq].chunks_exact(4).enumerate() {
                    panel[g * PANEL + j % PANEL] = i32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                }
            }
        }
        key_compensation(kq, np, z.dg, kcomp);
        for p in 0..vpanels {
            let vh = &v[h * d + p * PANEL..];
            pack_values(vh, z, p, &mut vq[p * z.lg * PANEL..(p + 1) * z.lg * PANEL], &mut sv[p * PANEL..]);
        }
        for i0 in (0..m).step_by(RB) {
            let rows = (m - i0).min(RB);
            for r in 0..rows {
                let row = &q[(i0 + r) * ld + h * d..(i0 + r) * ld + h * d + d];
                let sq = quantize_row(row, &mut qq[r * dq..(r + 1) * dq], 128);
                cq[r] = exponent_factor(sq, scale);
            }
            scores(qq, rows, kq, kcomp, sk, z, s);
            softmax_block(s, rows, z, &cq[..rows], pq, inv);
            context(pq, &inv[..rows], rows, vq, sv, z, &mut ctx[i0 * ld + h * d..]);
        }
    }
}

/// `generic::quantize_sym_i8` of `x` plus `shift` into `dst` (`dst.len()` bytes, a multiple of
/// 4 and ≥ `x.len()`; padding bytes get `shift`); returns the scale. Whole 16-value chunks go
/// unmasked (a head of 32 or 64 channels has no tail).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn quantize_row(x: &[f32], dst: &mut [u8], shift: i32) -> f32 {
    // SAFETY: loads read x[..full] whole and its tail masked to x.len(); stores write dst[..full] whole and its tail masked to dst.len() ≥ x.len() (asserted).
    unsafe {
        let (n, nd) = (x.len(), dst.len());
        assert!(nd >= n, "quantize_row: dst shorter than x");
        let full = n / PANEL * PANEL;
        let (xp, dp) = (x.as_ptr(), dst.as_mut_ptr());
        let mut mx = _mm512_setzero_ps();
        for j0 in (0..full).step_by(PANEL) {
            mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_loadu_ps(xp.add(j0))));
        }
        if full < n {
            mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps(col_mask(full, n), xp.add(full))));
        }
        let max = _mm512_reduce_max_ps(mx);
        let inv = _mm512_set1_ps(if max == 0.0 { 0.0 } else { ATT_Q_MAX / max });
        let (lo, hi, sh) = (_mm512_set1_epi32(-127), _mm512_set1_epi32(127), _mm512_set1_epi32(shift));
        let quant = |xv: __m512| {
            _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(xv, inv)), lo), hi)
        };
        for j0 in (0..full).step_by(PANEL) {
            let b = _mm512_cvtepi32_epi8(_mm512_add_epi32(quant(_mm512_loadu_ps(xp.add(j0))), sh));
            _mm_storeu_si128(dp.add(j0) as *mut __m128i, b);
        }
        for j0 in (full..nd).step_by(PANEL) {
            let valid = col_mask(j0, n);
            let q = _mm512_maskz_mov_epi32(valid, quant(_mm512_maskz_loadu_ps(valid, xp.add(j0))));
            let b = _mm512_cvtepi32_epi8(_mm512_add_epi32(q, sh));
            _mm_mask_storeu_epi8(dp.add(j0) as *mut i8, col_mask(j0, nd), b);
        }
        if max == 0.0 {
            0.0
        } else {
            max / ATT_Q_MAX
        }
    }
}

/// `-128 · Σ_t k[j][t]` for the keys of the packed panels (the u8 shift's compensation): one
/// `vpdpbusd` against bytes of 1 per channel group gives 16 keys' sums at once.
#[target_feature(enable = "avx512f,avx512vnni")]
fn key_compensation(kq: &[i32], np: usize, dg: usize, kcomp: &mut [i32]) {
    // SAFETY: every load reads word (p · dg + g) · 16 .. +16 < np · dg · 16 ≤ kq.len(), every store panel p of kcomp (asserted).
    unsafe {
        assert!(kq.len() >= np * dg * PANEL && kcomp.len() >= np * PANEL);
        let ones = _mm512_set1_epi32(0x0101_0101);
        for p in 0..np {
            let mut sum = _mm512_setzero_si512();
            for g in 0..dg {
                sum = _mm512_dpbusd_epi32(
                    sum,
                    ones,
                    _mm512_loadu_si512(kq.as_ptr().add((p * dg + g) * PANEL) as *const _),
                );
            }
            let comp = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32::<7>(sum));
            _mm512_storeu_si512(kcomp.as_mut_ptr().add(p * PANEL) as *mut _, comp);
        }
    }
}

/// `round(255 · 2^t)` before the rounding, for `t ≤ 0` (tiny positive `t` from rounding are
/// fine): `2^n · 255·2^f` with `n` the nearest integer, `f ∈ [-½, ½]` and a degree-4 fit of
/// `255 · 2^f` (relative error 2.7e-6, so 7e-4 of a probability step: the twin's exact `exp2`
/// rounds differently only within that distance of a half step).
#[inline]
#[target_feature(enable = "avx512f")]
fn exp2_times_255(t: __m512) -> __m512 {
    const C: [f32; 5] = [2.440_376, 14.259_055, 61.263_1, 176.746_06, 254.999_82];
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(t);
    let f = _mm512_sub_ps(t, n);
    let mut y = _mm512_set1_ps(C[0]);
    for c in &C[1..] {
        y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(*c));
    }
    _mm512_scalef_ps(y, n)
}

/// Transposes 16 keys' rows of 8 words (`stage`, row-major: key r's channel group g at word
/// `8r + g`) into a key panel (`out[g][r]`), in three rounds of 8 two-source permutes: rows 4
/// at a time by half of the groups, then 8 at a time by quarter, then all 16 by group.
#[target_feature(enable = "avx512f")]
fn transpose_16x8(stage: &[u8], out: &mut [i32]) {
    // SAFETY: the loads read stage[..512], the stores out[..128] (asserted).
    unsafe {
        assert!(stage.len() >= 512 && out.len() >= 128);
        let mut z = [_mm512_setzero_si512(); 8];
        for (i, v) in z.iter_mut().enumerate() {
            *v = _mm512_loadu_si512(stage.as_ptr().add(64 * i) as *const _);
        }
        // Round 1: zmm i holds keys 2i, 2i+1; out lane 4g + r = key r of the pair of zmms, group g
        // (groups 0-3, then 4-7).
        let idx1 = [
            _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27),
            _mm512_setr_epi32(4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31),
        ];
        // Round 2: lane 8g + r, r < 4 from the first source (4g + r), else from the second.
        let idx2 = [
            _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23),
            _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31),
        ];
        // Round 3: keys 0-7 from the first source, 8-15 from the second.
        let idx3 = [
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
            _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31),
        ];
        let mut a = [[_mm512_setzero_si512(); 2]; 4];
        for (i, ai) in a.iter_mut().enumerate() {
            for (half, v) in ai.iter_mut().enumerate() {
                *v = _mm512_permutex2var_epi32(z[2 * i], idx1[half], z[2 * i + 1]);
            }
        }
        let mut b = [[[_mm512_setzero_si512(); 2]; 2]; 2];
        for (i, bi) in b.iter_mut().enumerate() {
            for (half, bh) in bi.iter_mut().enumerate() {
                for (quarter, v) in bh.iter_mut().enumerate() {
                    *v = _mm512_permutex2var_epi32(a[2 * i][half], idx2[quarter], a[2 * i + 1][half]);
                }
            }
        }
        for (half, (low, high)) in b[0].iter().zip(&b[1]).enumerate() {
            for (quarter, (x, y)) in low.iter().zip(high).enumerate() {
                for (pair, idx) in idx3.iter().enumerate() {
                    let g = 4 * half + 2 * quarter + pair;
                    let w = _mm512_permutex2var_epi32(*x, *idx, *y);
                    _mm512_storeu_si512(out.as_mut_ptr().add(g * PANEL) as *mut _, w);
                }
            }
        }
    }
}

/// Quantizes channel panel `p` of the values (`l` rows of `v`, `ld` apart) per channel into
/// `vq[j / 4][t % 16]` words and their scales into `sv[..16]`.
#[target_feature(enable = "avx512f,avx512bw")]
fn pack_values(v: &[f32], z: Dims, p: usize, vq: &mut [i32], sv: &mut [f32]) {
    assert!(p * PANEL < z.d && vq.len() >= z.lg * PANEL && sv.len() >= PANEL);
    assert!(z.l > 0 && v.len() >= (z.l - 1) * z.ld + (z.d - p * PANEL).min(PANEL));
    // SAFETY: the masked loads read channels p · 16.. < d of rows j < l, `ld` apart, inside `v` (asserted); the stores write vq[..lg · 16] and sv[..16] (asserted).
    unsafe {
        let mask = col_mask(p * PANEL, z.d);
        let row = |j: usize| _mm512_maskz_loadu_ps(mask, v.as_ptr().add(j * z.ld));
        let mut vmax = _mm512_setzero_ps();
        for j in 0..z.l {
            vmax = _mm512_max_ps(vmax, _mm512_abs_ps(row(j)));
        }
        let zero = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(vmax, _mm512_setzero_ps());
        let qmax = _mm512_set1_ps(ATT_Q_MAX);
        let inv = _mm512_maskz_div_ps(!zero, qmax, vmax);
        _mm512_storeu_ps(sv.as_mut_ptr(), _mm512_maskz_div_ps(!zero, vmax, qmax));
        let (lo, hi, byte) = (_mm512_set1_epi32(-127), _mm512_set1_epi32(127), _mm512_set1_epi32(0xff));
        let quant = |j: usize| {
            if j >= z.l {
                return _mm512_setzero_si512();
            }
            let q =
                _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(row(j), inv)), lo), hi);
            _mm512_and_si512(q, byte)
        };
        for g in 0..z.lg {
            let j = 4 * g;
            let w = _mm512_or_si512(
                _mm512_or_si512(quant(j), _mm512_slli_epi32::<8>(quant(j + 1))),
                _mm512_or_si512(_mm512_slli_epi32::<16>(quant(j + 2)), _mm512_slli_epi32::<24>(quant(j + 3))),
            );
            _mm512_storeu_si512(vq.as_mut_ptr().add(g * PANEL) as *mut _, w);
        }
    }
}

/// `s[r][j] = (Σ q·k) as f32 · sk[j]` for `rows` quantized query rows and all (padded) keys.
fn scores(qq: &[u8], rows: usize, kq: &[i32], kcomp: &[i32], sk: &[f32], z: Dims, s: &mut [f32]) {
    let np = z.l16 / PANEL;
    let dq = 4 * z.dg;
    assert!(qq.len() >= rows * dq && kq.len() >= np * z.dg * PANEL);
    assert!(kcomp.len() >= z.l16 && sk.len() >= z.l16 && s.len() >= rows * z.l16);
    for r0 in (0..rows).step_by(MR) {
        for p0 in (0..np).step_by(NP) {
            let (qp, kp) = (qq[r0 * dq..].as_ptr(), kq[p0 * z.dg * PANEL..].as_ptr());
            let (cp, skp) = (kcomp[p0 * PANEL..].as_ptr(), sk[p0 * PANEL..].as_ptr());
            let sp = s[r0 * z.l16 + p0 * PANEL..].as_mut_ptr();
            // SAFETY: AVX-512 VNNI (token); rows r0..r0+R of `qq` hold dq bytes, panels p0..p0+P of
            // `kq`/`kcomp`/`sk` exist, `s` holds the rows (asserted above).
            unsafe {
                score_tiles!(((rows - r0).min(MR), (np - p0).min(NP)), score_tile(qp, kp, cp, skp, z, sp))
            };
        }
    }
}

/// The product both tiles share: `acc[r][p] += Σ_g` row `r`'s u8 word `g` (rows `stride` bytes
/// apart, broadcast) times panel `p`'s i8 words of group `g` (panels `groups · 16` words apart),
/// by `vpdpbusd`.
///
/// # Safety
/// AVX-512F/VNNI; `rows` readable for R rows of `4 · groups` bytes, `stride` apart; `panels` for
/// P panels of `groups · 16` words.
#[inline]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn dot_tile<const R: usize, const P: usize>(
    acc: &mut [[__m512i; P]; R],
    rows: *const u8,
    stride: usize,
    panels: *const i32,
    groups: usize,
) {
    // SAFETY: the caller upholds the pointer contract above; the features are enabled.
    unsafe {
        for g in 0..groups {
            let mut wv = [_mm512_setzero_si512(); P];
            for (p, w) in wv.iter_mut().enumerate() {
                *w = _mm512_loadu_si512(panels.add((p * groups + g) * PANEL) as *const _);
            }
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let a = _mm512_set1_epi32((rows.add(r * stride + 4 * g) as *const i32).read_unaligned());
                for (acc_rp, w) in acc_r.iter_mut().zip(&wv) {
                    *acc_rp = _mm512_dpbusd_epi32(*acc_rp, a, *w);
                }
            }
        }
    }
}

/// # Safety
/// AVX-512F/VNNI; `q` at R rows of `4·dg` bytes, `kq` at P panels of `dg · 16` words, `kcomp`
/// and `sk` at `16·P` values, `s` at R rows of `16·P` floats `l16` apart.
#[inline]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn score_tile<const R: usize, const P: usize>(
    q: *const u8,
    kq: *const i32,
    kcomp: *const i32,
    sk: *const f32,
    z: Dims,
    s: *mut f32,
) {
    // SAFETY: the caller upholds the pointer contract above; the features are enabled.
    unsafe {
        let mut start = [_mm512_setzero_si512(); P];
        for (p, c) in start.iter_mut().enumerate() {
            *c = _mm512_loadu_si512(kcomp.add(p * PANEL) as *const _);
        }
        let mut acc = [start; R];
        dot_tile(&mut acc, q, 4 * z.dg, kq, z.dg);
        for (r, acc_r) in acc.iter().enumerate() {
            for (p, acc_rp) in acc_r.iter().enumerate() {
                let y = _mm512_mul_ps(_mm512_cvtepi32_ps(*acc_rp), _mm512_loadu_ps(sk.add(p * PANEL)));
                _mm512_storeu_ps(s.add(r * z.l16 + p * PANEL), y);
            }
        }
    }
}

/// Replaces the scores of each of `rows` rows by their quantized exponentials
/// `round(255 · 2^(s·c - top·c))` (u8, row `r` at `pq[r · 4·lg..]`, zeros past `l`) and sets
/// `inv[r]` to `1 / Σ` of them (0, with zero probabilities, when the row's factor or largest
/// score is not finite). Maxima first for the whole block, then the exponentials, so no pass
/// waits on its own row's horizontal reduction (as the f32 kernel).
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
fn softmax_block(s: &[f32], rows: usize, z: Dims, cq: &[f32], pq: &mut [u8], inv: &mut [f32]) {
    // SAFETY: row r of s is read at r · l16 + j0 .. +16 ≤ (r + 1) · l16 and row r of pq written within r · 4lg .. (r + 1) · 4lg (masked past it), r < rows (asserted).
    unsafe {
        let (l, l16, lb) = (z.l, z.l16, 4 * z.lg);
        assert!(
            s.len() >= rows * l16
                && l16.is_multiple_of(PANEL)
                && pq.len() >= rows * lb
                && cq.len() >= rows
                && inv.len() >= rows
                && rows <= RB
        );
        // Whole 16-key chunks unmasked; the last, partial one masked.
        let full = l / PANEL * PANEL;
        let mut top = [0.0f32; RB];
        for (r, top) in top.iter_mut().enumerate().take(rows) {
            let p = s.as_ptr().add(r * l16);
            // The largest scaled score: a negative factor flips the order (min = -max(-x)).
            let sign = _mm512_set1_epi32(if cq[r] >= 0.0 { 0 } else { i32::MIN });
            let signed = |x: __m512| _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), sign));
            let mut vmax = _mm512_set1_ps(f32::NEG_INFINITY);
            for j0 in (0..full).step_by(PANEL) {
                vmax = _mm512_max_ps(vmax, signed(_mm512_loadu_ps(p.add(j0))));
            }
            if full < l {
                let x = signed(_mm512_loadu_ps(p.add(full)));
                vmax = _mm512_mask_max_ps(vmax, col_mask(full, l), vmax, x);
            }
            *top = _mm512_reduce_max_ps(vmax) * if cq[r] >= 0.0 { 1.0 } else { -1.0 };
        }
        for r in 0..rows {
            let (c, ct) = (cq[r], cq[r] * top[r]);
            let out = pq.as_mut_ptr().add(r * lb);
            if !ct.is_finite() || !c.is_finite() {
                pq[r * lb..(r + 1) * lb].fill(0);
                inv[r] = 0.0;
                continue;
            }
            let p = s.as_ptr().add(r * l16);
            let (vc, vm, mut vsum) = (_mm512_set1_ps(c), _mm512_set1_ps(ct), _mm512_setzero_si512());
            let quantized = |j0: usize| {
                _mm512_cvtps_epi32(exp2_times_255(_mm512_fmsub_ps(_mm512_loadu_ps(p.add(j0)), vc, vm)))
            };
            for j0 in (0..full).step_by(PANEL) {
                let qv = quantized(j0);
                vsum = _mm512_add_epi32(vsum, qv);
                _mm_storeu_si128(out.add(j0) as *mut __m128i, _mm512_cvtepi32_epi8(qv));
            }
            if full < lb {
                let qv = _mm512_maskz_mov_epi32(col_mask(full, l), quantized(full));
                vsum = _mm512_add_epi32(vsum, qv);
                _mm_mask_storeu_epi8(out.add(full) as *mut i8, col_mask(full, lb), _mm512_cvtepi32_epi8(qv));
            }
            inv[r] = 1.0 / _mm512_reduce_add_epi32(vsum) as f32;
        }
    }
}

/// `ctx[r][t] = (Σ_j pq[r][j] · vq[j][t]) as f32 · sv[t] · inv[r]` for `rows` rows.
fn context(pq: &[u8], inv: &[f32], rows: usize, vq: &[i32], sv: &[f32], z: Dims, ctx: &mut [f32]) {
    let dpn = z.d.div_ceil(PANEL);
    let lb = 4 * z.lg;
    assert!(pq.len() >= rows * lb && inv.len() >= rows);
    assert!(vq.len() >= dpn * z.lg * PANEL && sv.len() >= dpn * PANEL);
    assert!(ctx.len() >= (rows - 1) * z.ld + z.d);
    for p0 in (0..dpn).step_by(NP) {
        let pn = (dpn - p0).min(NP);
        // 24 accumulators: 12 rows of ≤ 2 panels, or 6 rows of 3-4.
        let mr = if pn <= 2 { RB } else { MR };
        for r0 in (0..rows).step_by(mr) {
            let (pp, vp, svp) =
                (pq[r0 * lb..].as_ptr(), vq[p0 * z.lg * PANEL..].as_ptr(), sv[p0 * PANEL..].as_ptr());
            let (invr, op) = (&inv[r0..], ctx[r0 * z.ld + p0 * PANEL..].as_mut_ptr());
            let dn = z.d - p0 * PANEL;
            // SAFETY: AVX-512 VNNI (token); rows r0..r0+R of `pq` hold 4·lg bytes, panels p0..p0+P
            // of `vq`/`sv` exist, ctx rows r0..r0+R hold the panels' channels (masked past d;
            // asserted above).
            unsafe { context_tiles!(((rows - r0).min(mr), pn), context_tile(pp, invr, vp, svp, z, dn, op)) };
        }
    }
}

/// # Safety
/// AVX-512F/VNNI; `pq` at R rows of `4·lg` bytes, `inv` has R values, `vq` at P panels of
/// `lg · 16` words, `sv` at `16·P` floats, `out` at R rows (`ld` apart) of `min(dn, 16·P)`
/// writable floats.
#[inline]
#[target_feature(enable = "avx512f,avx512vnni")]
unsafe fn context_tile<const R: usize, const P: usize>(
    pq: *const u8,
    inv: &[f32],
    vq: *const i32,
    sv: *const f32,
    z: Dims,
    dn: usize,
    out: *mut f32,
) {
    // SAFETY: the caller upholds the pointer contract above; the features are enabled.
    unsafe {
        let mut acc = [[_mm512_setzero_si512(); P]; R];
        dot_tile(&mut acc, pq, 4 * z.lg, vq, z.lg);
        for (r, acc_r) in acc.iter().enumerate() {
            let s = _mm512_set1_ps(inv[r]);
            for (p, acc_rp) in acc_r.iter().enumerate() {
                let y = _mm512_mul_ps(_mm512_cvtepi32_ps(*acc_rp), _mm512_loadu_ps(sv.add(p * PANEL)));
                _mm512_mask_storeu_ps(
                    out.add(r * z.ld + p * PANEL),
                    col_mask(p * PANEL, dn),
                    _mm512_mul_ps(y, s),
                );
            }
        }
    }
}
