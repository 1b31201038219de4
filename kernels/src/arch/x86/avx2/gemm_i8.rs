//! Exact int8 GEMM on AVX2 through i16 `vpmaddwd`, never `vpmaddubsw`.
//!
//! `vpmaddubsw` adds two u8 × i8 products into a *saturating* i16: 255 · 127 · 2 = 64 770
//! overflows, which silently corrupts other engines' int8 on AVX2-only CPUs. Here both operands
//! are sign-extended to i16 first (activations once per call into scratch, weights per load)
//! and `vpmaddwd` sums pairs into i32: |q · w| ≤ 127 · 127, so every step is exact. On Zen 4
//! this costs the same multiply-pipe slots per 32 products as the sign trick
//! (`vpsignb` + `vpmaddubsw` + `vpmaddwd`), with fewer instructions.
//!
//! Target cores: Haswell…Raptor Lake, Zen 1–4; also the int8 path of AVX-512 CPUs without VNNI.
//! Tile: 6 rows × 8 columns (half a panel). Per group of 4 inputs: 2 weight loads widened to
//! i16 (`vpmovsxbw`: 4 columns × 4 inputs each), 6 eight-byte activation broadcasts, 12
//! `vpmaddwd` into 12 accumulators holding (column, input-pair) sums, folded by `vphaddd`.
//! Tolerance: i32 exact; f32 outputs within 1e-6 relative of the generic twin.

use super::math::store_epilogue;
use crate::arch::x86::V3;
use crate::arch::Sink;
use crate::linear::{check_linear, grow, Epilogue, Scratch};
use crate::packed::{k4, panels, PackedI8, PANEL};
use core::arch::x86_64::*;

const MR: usize = 6;

/// Widens i8 rows `[m, k]` into i16 rows of `k4` (zero padding).
fn widen_rows(q: &[i8], m: usize, k: usize, dst: &mut [i16]) {
    let k4 = k4(k);
    if k4 == 0 {
        return;
    }
    for (i, d) in dst.chunks_exact_mut(k4).take(m).enumerate() {
        for (x, s) in d.iter_mut().zip(&q[i * k..(i + 1) * k]) {
            *x = *s as i16;
        }
        d[k..].fill(0);
    }
}

/// int8 linear layer (see `Kernels::linear_i8`).
pub(crate) fn linear_i8(
    t: V3,
    a: &[f32],
    m: usize,
    w: &PackedI8<'_>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    scratch: &mut Scratch,
) {
    let (k, n) = (w.k(), w.n());
    check_linear(a.len(), m, k, n, out.len(), ep);
    let q = grow(&mut scratch.i8s, m * k);
    let a_scales = grow(&mut scratch.f32s, m);
    crate::generic::quantize_rows_i8(a, m, k, q, a_scales);
    let wide = grow(&mut scratch.i16s, m * k4(k));
    widen_rows(q, m, k, wide);
    run(t, wide, m, w, Sink::F32 { out, a_scales, ep });
}

/// Exact i32 GEMM of i8 activations `q` (`[m, k]`) with `w`.
pub(crate) fn gemm_i8_i32(
    t: V3,
    q: &[i8],
    m: usize,
    w: &PackedI8<'_>,
    out: &mut [i32],
    scratch: &mut Scratch,
) {
    let (k, n) = (w.k(), w.n());
    assert_eq!(q.len(), m * k, "gemm_i8_i32: q must be [m, k]");
    assert_eq!(out.len(), m * n, "gemm_i8_i32: out must be [m, n]");
    let wide = grow(&mut scratch.i16s, m * k4(k));
    widen_rows(q, m, k, wide);
    run(t, wide, m, w, Sink::I32(out));
}

fn run(_t: V3, a: &[i16], m: usize, w: &PackedI8<'_>, mut sink: Sink<'_, '_>) {
    assert_eq!(a.len(), m * k4(w.k()));
    for half in 0..2 * panels(w.n()) {
        if half * 8 >= w.n() {
            break;
        }
        for i0 in (0..m).step_by(MR) {
            macro_rules! call {
                ($($r:literal)*) => {
                    match (m - i0).min(MR) {
                        $(
                            // SAFETY: the V3 token proves AVX2; `run` checked `a` is [m, k4]
                            // and `PackedI8` holds np·16·k4 weight bytes, so rows i0..i0+R and
                            // half-panel `half` are in bounds.
                            $r => unsafe { tile::<$r>(a, i0, half, w, &mut sink) },
                        )*
                        _ => unreachable!(),
                    }
                };
            }
            call!(1 2 3 4 5 6);
        }
    }
}

/// One R × 8 tile: rows `i0..i0+R`, columns `8·half..8·half+8`.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `a` must be `[m, k4]` i16 with `i0 + R ≤ m`; the
/// half-panel must exist in `w`; the sink must be `[m, n]`.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const R: usize>(a: &[i16], i0: usize, half: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let (n, k4) = (w.n(), k4(w.k()));
    let ap = a.as_ptr().add(i0 * k4);
    let wp = w.data().as_ptr().add((half / 2) * PANEL * k4 + (half % 2) * 32);
    let mut acc = [[_mm256_setzero_si256(); 2]; R];
    for g in 0..k4 / 4 {
        let w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(wp.add(g * 64) as *const __m128i));
        let w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(wp.add(g * 64 + 16) as *const __m128i));
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = _mm256_set1_epi64x((ap.add(r * k4 + g * 4) as *const i64).read_unaligned());
            acc_r[0] = _mm256_add_epi32(acc_r[0], _mm256_madd_epi16(w0, av));
            acc_r[1] = _mm256_add_epi32(acc_r[1], _mm256_madd_epi16(w1, av));
        }
    }
    let j0 = half * 8;
    let wscale = _mm256_loadu_ps(w.scales().as_ptr().add(j0));
    let mask = super::math::col_mask(j0, n);
    for (r, acc_r) in acc.iter().enumerate() {
        // Lanes of acc_r[0]: (c0,k01) (c0,k23) (c1,k01) (c1,k23) | (c2,..) (c3,..); acc_r[1]
        // likewise for c4..c7. hadd gives [c0 c1 c4 c5 | c2 c3 c6 c7]; the permute restores
        // column order.
        let v = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_hadd_epi32(acc_r[0], acc_r[1]));
        match sink {
            Sink::I32(out) => _mm256_maskstore_epi32(out.as_mut_ptr().add((i0 + r) * n + j0), mask, v),
            Sink::F32 { out, a_scales, ep } => {
                let y = _mm256_mul_ps(
                    _mm256_mul_ps(_mm256_cvtepi32_ps(v), wscale),
                    _mm256_set1_ps(a_scales[i0 + r]),
                );
                store_epilogue(y, i0 + r, j0, n, ep, out.as_mut_ptr());
            }
        }
    }
}
