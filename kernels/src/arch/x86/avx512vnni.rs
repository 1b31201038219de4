//! int8 GEMM on AVX-512 VNNI: `vpdpbusd` (u8 × i8, four products summed into each i32 lane).
//!
//! Target cores: Ice Lake / Sapphire Rapids, Zen 4 (where a zmm `vpdpbusd` issues once per
//! cycle, so 16 independent accumulators hide its latency).
//! Tile: 8 rows × 32 columns (two 16-column panels, one zmm each), 16 zmm accumulators. Per group
//! of 4 inputs: 2 weight loads, 8 four-byte broadcasts, 16 `vpdpbusd`.
//! Activations are quantized to i8 and shifted to u8 (`q + 128`) since `vpdpbusd` wants one
//! unsigned operand; `128 · col_sums[j]` is subtracted after the loop, so the i32 result equals
//! `Σ q · w` exactly (no saturation: |Σ| ≤ 255 · 127 · k < 2³¹ for k < 66 000).
//! Tolerance: i32 exact; f32 outputs within 1e-6 relative of the generic twin (GELU: 1e-6 abs).

use super::avx512::math::store_epilogue;
use super::V4Vnni;
use crate::arch::Sink;
use crate::linear::{check_linear, grow, Epilogue, Scratch};
use crate::packed::{k4, panels, PackedI8, PANEL};
use core::arch::x86_64::*;

const MR: usize = 8;

/// Quantizes `a` (`[m, k]`) into u8-shifted rows of `k4` bytes (padding 128, which meets zero
/// weights) and row scales: the same integers as `generic::quantize_rows_i8`, plus 128.
pub(crate) fn quantize_rows_u8(
    a: &[f32],
    m: usize,
    k: usize,
    q: &mut [u8],
    scales: &mut [f32],
    tmp: &mut [i8],
) {
    crate::generic::quantize_rows_i8(a, m, k, tmp, scales);
    shift_rows(tmp, k, q);
}

/// `q + 128` row by row into rows of `k4` bytes, padding 128.
fn shift_rows(q: &[i8], k: usize, dst: &mut [u8]) {
    let k4 = k4(k);
    if k4 == 0 {
        return;
    }
    for (d, s) in dst.chunks_exact_mut(k4).zip(q.chunks_exact(k)) {
        for (d, s) in d.iter_mut().zip(s) {
            *d = (*s as i32 + 128) as u8;
        }
        d[k..].fill(128);
    }
}

/// int8 linear layer (see `Kernels::linear_i8`).
pub(crate) fn linear_i8(
    t: V4Vnni,
    a: &[f32],
    m: usize,
    w: &PackedI8<'_>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    scratch: &mut Scratch,
) {
    let (k, n) = (w.k(), w.n());
    check_linear(a.len(), m, k, n, out.len(), ep);
    let q = grow(&mut scratch.u8s, m * k4(k));
    let a_scales = grow(&mut scratch.f32s, m);
    quantize_rows_u8(a, m, k, q, a_scales, grow(&mut scratch.i8s, m * k));
    run(t, q, m, w, Sink::F32 { out, a_scales, ep });
}

/// Exact i32 GEMM of i8 activations `q` (`[m, k]`) with `w`.
pub(crate) fn gemm_i8_i32(
    t: V4Vnni,
    q: &[i8],
    m: usize,
    w: &PackedI8<'_>,
    out: &mut [i32],
    scratch: &mut Scratch,
) {
    let (k, n, k4) = (w.k(), w.n(), k4(w.k()));
    assert_eq!(q.len(), m * k, "gemm_i8_i32: q must be [m, k]");
    assert_eq!(out.len(), m * n, "gemm_i8_i32: out must be [m, n]");
    let qu = grow(&mut scratch.u8s, m * k4);
    shift_rows(q, k, qu);
    run(t, qu, m, w, Sink::I32(out));
}

fn run(_t: V4Vnni, q: &[u8], m: usize, w: &PackedI8<'_>, mut sink: Sink<'_, '_>) {
    let (n, k4) = (w.n(), k4(w.k()));
    assert_eq!(q.len(), m * k4);
    let np = panels(n);
    for p0 in (0..np).step_by(2) {
        let two = p0 + 1 < np;
        for i0 in (0..m).step_by(MR) {
            let rows = (m - i0).min(MR);
            macro_rules! call {
                ($($r:literal)*) => {
                    match (rows, two) {
                        $(
                            // SAFETY: the V4Vnni token proves the CPU features; `run` checked
                            // `q` is [m, k4] and `PackedI8` guarantees np·16·k4 weight bytes,
                            // so rows i0..i0+R and panels p0..p0+P are in bounds.
                            ($r, true) => unsafe { tile::<$r, 2>(q, i0, p0, w, &mut sink) },
                            // SAFETY: as above, with one panel.
                            ($r, false) => unsafe { tile::<$r, 1>(q, i0, p0, w, &mut sink) },
                        )*
                        _ => unreachable!(),
                    }
                };
            }
            call!(1 2 3 4 5 6 7 8);
        }
    }
}

/// One R × (16·P) tile: rows `i0..i0+R`, panels `p0..p0+P`.
///
/// # Safety
/// The CPU must support AVX-512F/BW/VL/VNNI; `q` must be `[m, k4]` with `i0 + R ≤ m`, and
/// panels `p0..p0+P` must exist in `w`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn tile<const R: usize, const P: usize>(
    q: &[u8],
    i0: usize,
    p0: usize,
    w: &PackedI8<'_>,
    sink: &mut Sink<'_, '_>,
) {
    let (n, k4) = (w.n(), k4(w.k()));
    let a = q.as_ptr().add(i0 * k4);
    let wp = w.data().as_ptr().add(p0 * PANEL * k4);
    let mut acc = [[_mm512_setzero_si512(); P]; R];
    for g in 0..k4 / 4 {
        let mut wv = [_mm512_setzero_si512(); P];
        for (p, v) in wv.iter_mut().enumerate() {
            *v = _mm512_loadu_si512(wp.add(p * PANEL * k4 + g * 64) as *const _);
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_epi32((a.add(r * k4 + g * 4) as *const i32).read_unaligned());
            for (acc_rp, wvp) in acc_r.iter_mut().zip(&wv) {
                *acc_rp = _mm512_dpbusd_epi32(*acc_rp, av, *wvp);
            }
        }
    }
    let shift = _mm512_set1_epi32(128);
    for p in 0..P {
        let j0 = (p0 + p) * PANEL;
        if j0 >= n {
            break;
        }
        let sums = _mm512_loadu_si512(w.col_sums().as_ptr().add(j0) as *const _);
        let comp = _mm512_mullo_epi32(sums, shift);
        let wscale = _mm512_loadu_ps(w.scales().as_ptr().add(j0));
        let mask = super::avx512::math::col_mask(j0, n);
        for (r, acc_r) in acc.iter().enumerate() {
            let v = _mm512_sub_epi32(acc_r[p], comp);
            match sink {
                Sink::I32(out) => {
                    _mm512_mask_storeu_epi32(out.as_mut_ptr().add((i0 + r) * n + j0) as *mut _, mask, v)
                }
                Sink::F32 { out, a_scales, ep } => {
                    let y = _mm512_mul_ps(
                        _mm512_mul_ps(_mm512_cvtepi32_ps(v), wscale),
                        _mm512_set1_ps(a_scales[i0 + r]),
                    );
                    store_epilogue(y, i0 + r, j0, n, ep, out.as_mut_ptr());
                }
            }
        }
    }
}
