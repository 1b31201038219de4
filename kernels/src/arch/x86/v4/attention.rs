//! Fused multi-head attention on zmm: for a block of query rows, scores, softmax and context
//! in one pass per head, without materialising `[heads, l, l]` probabilities.
//!
//! Target cores: Skylake-SP, Ice Lake, Zen 4.
//! Per head, the keys are transposed once into 16-key panels (`kt[j / 16][t][j % 16]`, the
//! packed f32 layout), then query rows go in blocks of [`RB`]: scores for the block (`RB × l`
//! floats, in L1 for the usual lengths), row softmax in place (the scale folded into its
//! exponent), then `P · V` with V read straight from its strided rows (a head's 16 consecutive
//! channels already form one zmm; no packing).
//! Score tile: 6 rows × 64 keys (24 zmm accumulators; per channel 4 key loads and 6 broadcasts
//! feed 24 FMAs), as the f32 GEMM. Context tile: 12 rows × 32 channels (d ≤ 32) or 6 × 64.
//! The softmax's `1 / Σ` is applied to the context rows rather than to the probabilities.
//! Each row's arithmetic is the same whatever block or thread it falls in, so splitting query
//! rows across threads gives bit-identical results.
//! Tolerance: f32 relative error ≤ 1e-5 against the generic twin (vector exp, summation order).

use super::math::col_mask;
use crate::arch::x86::V4;
use crate::attention::AttentionShape;
use crate::linear::{grow, Scratch};
use crate::packed::PANEL;
use core::arch::x86_64::*;

/// Query rows per block.
const RB: usize = 12;
/// Rows per score tile.
const MR: usize = 6;
/// Key panels per score tile (64 keys).
const NP: usize = 4;

/// See `Kernels::attention_f32`; shapes are checked and the empty cases finished by the caller
/// (`attention_slot!`).
pub(crate) fn attention_f32(
    _t: V4,
    [q, k, v]: [&[f32]; 3],
    shape: &AttentionShape,
    ctx: &mut [f32],
    scratch: &mut Scratch,
) {
    let AttentionShape { m, l, heads, d, ld, scale } = *shape;
    let np = l.div_ceil(PANEL);
    let l16 = np * PANEL;
    let kt = grow(&mut scratch.attn_w, l16 * d);
    let s = grow(&mut scratch.attn_o, RB * l16 + RB);
    let (s, inv) = s.split_at_mut(RB * l16);
    // Padding keys stay zero: their scores are computed but masked out of the softmax.
    kt[(np - 1) * PANEL * d..].fill(0.0);
    for h in 0..heads {
        for j in 0..l {
            let (panel, lane) = (&mut kt[(j / PANEL) * PANEL * d..], j % PANEL);
            for (t, &x) in k[j * ld + h * d..j * ld + h * d + d].iter().enumerate() {
                panel[t * PANEL + lane] = x;
            }
        }
        for i0 in (0..m).step_by(RB) {
            let rows = (m - i0).min(RB);
            scores(&q[i0 * ld + h * d..], rows, ld, kt, d, np, s);
            // SAFETY: the V4 token proves AVX-512F.
            unsafe { softmax_block(s, rows, l16, l, scale, inv) };
            context(s, l16, rows, &inv[..rows], &v[h * d..], l, d, ld, &mut ctx[i0 * ld + h * d..]);
        }
    }
}

/// `s[r][j] = q_r · k_j` (unscaled: the softmax folds the scale into its exponent) for `rows`
/// query rows (row `r` at `q[r · ld..]`, `d` values) and all `16 · np` (padded) keys of `kt`.
fn scores(q: &[f32], rows: usize, ld: usize, kt: &[f32], d: usize, np: usize, s: &mut [f32]) {
    let l16 = np * PANEL;
    assert!(q.len() >= (rows - 1) * ld + d && kt.len() >= l16 * d && s.len() >= rows * l16);
    for r0 in (0..rows).step_by(MR) {
        for p0 in (0..np).step_by(NP) {
            let (qp, kp) = (q[r0 * ld..].as_ptr(), kt[p0 * PANEL * d..].as_ptr());
            let sp = s[r0 * l16 + p0 * PANEL..].as_mut_ptr();
            // SAFETY: the V4 token proves AVX-512F; rows r0..r0+R of `q` hold d values each, panels
            // p0..p0+P of `kt` exist and `s` has rows · l16 floats (asserted above).
            unsafe {
                score_tiles!(((rows - r0).min(MR), (np - p0).min(NP)), score_tile(qp, ld, kp, d, sp, l16))
            };
        }
    }
}

/// # Safety
/// AVX-512F; `q` points at R rows of `d` values `ld` apart, `kt` at P panels of `16 · d`
/// floats, `s` at R rows of at least `16 · P` floats, `l16` apart.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn score_tile<const R: usize, const P: usize>(
    q: *const f32,
    ld: usize,
    kt: *const f32,
    d: usize,
    s: *mut f32,
    l16: usize,
) {
    // SAFETY: the caller upholds the pointer contract above; AVX-512F is enabled.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); P]; R];
        for t in 0..d {
            let mut wv = [_mm512_setzero_ps(); P];
            for (p, w) in wv.iter_mut().enumerate() {
                *w = _mm512_loadu_ps(kt.add(p * PANEL * d + t * PANEL));
            }
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let a = _mm512_set1_ps(*q.add(r * ld + t));
                for (acc_rp, w) in acc_r.iter_mut().zip(&wv) {
                    *acc_rp = _mm512_fmadd_ps(*w, a, *acc_rp);
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            for (p, acc_rp) in acc_r.iter().enumerate() {
                _mm512_storeu_ps(s.add(r * l16 + p * PANEL), *acc_rp);
            }
        }
    }
}

/// Replaces the first `l` raw scores `x` of each of `rows` rows (`l16` apart) by
/// `exp(scale · x - max_j scale · x_j)` and sets `inv[r]` to `1 / Σ` (0 when the row has no
/// finite maximum, which then contributes zeros, as `generic::softmax_f32`).
/// In two phases over the block, all maxima first, then all exponentials: row by row, each
/// exponential pass waited for its row's horizontal max reduction, a latency chain that made
/// the softmax cost as much as half a score GEMM. The scale and `log2 e` fold into one FMA per
/// score, and the exponent is a power of two of a non-positive argument
/// ([`exp2_nonpositive`]). Rows of `s` are `l16` apart (`l ≤ l16`, a multiple of 16).
#[target_feature(enable = "avx512f")]
fn softmax_block(s: &mut [f32], rows: usize, l16: usize, l: usize, scale: f32, inv: &mut [f32]) {
    assert!(
        s.len() >= rows * l16 && l <= l16 && l16.is_multiple_of(PANEL) && inv.len() >= rows && rows <= RB
    );
    let mut top = [0.0f32; RB];
    for (r, top) in top.iter_mut().enumerate().take(rows) {
        let p = s[r * l16..(r + 1) * l16].as_ptr();
        let (mut vmax, mut vmin) = (_mm512_set1_ps(f32::NEG_INFINITY), _mm512_set1_ps(f32::INFINITY));
        for j0 in (0..l).step_by(PANEL) {
            // SAFETY: j0 + 16 ≤ l16 (l ≤ l16, a multiple of 16): inside the row.
            let (mask, x) = (col_mask(j0, l), unsafe { _mm512_loadu_ps(p.add(j0)) });
            vmax = _mm512_mask_max_ps(vmax, mask, vmax, x);
            vmin = _mm512_mask_min_ps(vmin, mask, vmin, x);
        }
        // The largest scaled score: a negative scale flips the order.
        *top = if scale >= 0.0 { _mm512_reduce_max_ps(vmax) } else { _mm512_reduce_min_ps(vmin) };
    }
    let c = scale * std::f32::consts::LOG2_E;
    let vc = _mm512_set1_ps(c);
    for (r, inv) in inv.iter_mut().enumerate().take(rows) {
        if !(scale * top[r]).is_finite() {
            s[r * l16..r * l16 + l].fill(0.0);
            *inv = 0.0;
            continue;
        }
        let p = s[r * l16..(r + 1) * l16].as_mut_ptr();
        let (vm, mut vsum) = (_mm512_set1_ps(c * top[r]), _mm512_setzero_ps());
        for j0 in (0..l).step_by(PANEL) {
            let mask = col_mask(j0, l);
            // SAFETY: j0 + 16 ≤ l16 (l ≤ l16, a multiple of 16): inside the row.
            let x = unsafe { _mm512_loadu_ps(p.add(j0)) };
            let e = exp2_nonpositive(_mm512_fmsub_ps(x, vc, vm));
            // SAFETY: as the load.
            unsafe { _mm512_storeu_ps(p.add(j0), e) };
            vsum = _mm512_mask_add_ps(vsum, mask, vsum, e);
        }
        *inv = 1.0 / _mm512_reduce_add_ps(vsum);
    }
}

/// `2^t` for `t ≤ 0` (tiny positive `t` from rounding are fine): `2^n · 2^f` with `n` the
/// nearest integer and `f ∈ [-½, ½]`, `2^f` from Cephes' `exp2f` polynomial (relative error
/// ~2e-7); `vscalefps` gives 0 once `n` is below the subnormals, including `t = -inf`.
#[inline]
#[target_feature(enable = "avx512f")]
fn exp2_nonpositive(t: __m512) -> __m512 {
    const P: [f32; 6] =
        [1.535_336_2e-4, 1.339_887_4e-3, 9.618_437e-3, 5.550_332_5e-2, 2.402_264_8e-1, 6.931_472e-1];
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(t);
    let f = _mm512_sub_ps(t, n);
    let mut y = _mm512_set1_ps(P[0]);
    for c in &P[1..] {
        y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(*c));
    }
    _mm512_scalef_ps(_mm512_fmadd_ps(y, f, _mm512_set1_ps(1.0)), n)
}

/// `ctx[r][t] = inv[r] · Σ_j e[r][j] · v[j][t]` for `rows` rows, `t < d`.
#[allow(clippy::too_many_arguments)]
fn context(
    e: &[f32],
    l16: usize,
    rows: usize,
    inv: &[f32],
    v: &[f32],
    l: usize,
    d: usize,
    ld: usize,
    ctx: &mut [f32],
) {
    let dp = d.div_ceil(PANEL);
    assert!(e.len() >= rows * l16 && inv.len() >= rows);
    assert!(v.len() >= (l - 1) * ld + d && ctx.len() >= (rows - 1) * ld + d);
    for p0 in (0..dp).step_by(NP) {
        let pn = (dp - p0).min(NP);
        // 24 accumulators: 12 rows of ≤ 2 panels, or 6 rows of 3-4.
        let mr = if pn <= 2 { RB } else { MR };
        for r0 in (0..rows).step_by(mr) {
            let (ep, vp) = (e[r0 * l16..].as_ptr(), v[p0 * PANEL..].as_ptr());
            let op = ctx[r0 * ld + p0 * PANEL..].as_mut_ptr();
            let inv = &inv[r0..];
            let dn = d - p0 * PANEL;
            // SAFETY: the V4 token proves AVX-512F; rows r0..r0+R of `e` hold l values, v rows 0..l
            // hold the dn ≥ channels of panels p0..p0+P (masked past d), and ctx rows r0..r0+R hold
            // them too (asserted).
            unsafe {
                context_tiles!(((rows - r0).min(mr), pn), context_tile(ep, l16, inv, vp, l, dn, ld, op))
            };
        }
    }
}

/// # Safety
/// AVX-512F; `e` points at R rows of `l` values `l16` apart, `inv` has R values, `v` at `l`
/// rows `ld` apart holding `min(dn, 16 · P)` readable channels, `out` at R rows likewise.
#[allow(clippy::too_many_arguments)]
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn context_tile<const R: usize, const P: usize>(
    e: *const f32,
    l16: usize,
    inv: &[f32],
    v: *const f32,
    l: usize,
    dn: usize,
    ld: usize,
    out: *mut f32,
) {
    // SAFETY: the caller upholds the pointer contract above; AVX-512F is enabled.
    unsafe {
        let mut masks = [0 as __mmask16; P];
        for (p, m) in masks.iter_mut().enumerate() {
            *m = col_mask(p * PANEL, dn);
        }
        let mut acc = [[_mm512_setzero_ps(); P]; R];
        for j in 0..l {
            let mut wv = [_mm512_setzero_ps(); P];
            for (p, w) in wv.iter_mut().enumerate() {
                *w = _mm512_maskz_loadu_ps(masks[p], v.add(j * ld + p * PANEL));
            }
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let a = _mm512_set1_ps(*e.add(r * l16 + j));
                for (acc_rp, w) in acc_r.iter_mut().zip(&wv) {
                    *acc_rp = _mm512_fmadd_ps(*w, a, *acc_rp);
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            let s = _mm512_set1_ps(inv[r]);
            for (p, acc_rp) in acc_r.iter().enumerate() {
                _mm512_mask_storeu_ps(out.add(r * ld + p * PANEL), masks[p], _mm512_mul_ps(*acc_rp, s));
            }
        }
    }
}
