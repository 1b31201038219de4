//! The int4 cases of the standard suite (`backend_suite!` stamps them): every backend's
//! `gemm_i4_f32` is bit-identical to the generic twin (exact i32 per group, one fused
//! multiply-add per group in group order), and `linear_i4` too up to the vector GELU.

use super::{epilogues, tol, Rng, SHAPES};
use edgebert_kernels::packed_i4::pack_i4_quantized;
use edgebert_kernels::{generic, pack_i4, Kernels, LinearI4, PackedI4Buf, Scratch};
use half::f16;

/// Random int4 weights in [-7, 7] with random f16 scales (some groups all zero).
fn random_i4(rng: &mut Rng, n: usize, k: usize) -> PackedI4Buf {
    let q: Vec<i8> = (0..n * k).map(|_| (rng.next() % 15) as i8 - 7).collect();
    let groups = k.div_ceil(32);
    let scales: Vec<f16> = (0..n * groups)
        .map(|i| if i % 11 == 3 { f16::ZERO } else { f16::from_f32((rng.next() % 1000) as f32 / 3e4 + 1e-3) })
        .collect();
    pack_i4_quantized(&q, &scales, n, k)
}

pub fn check_core(k: &Kernels, q: &[i8], p: &PackedI4Buf, m: usize, offset: usize) {
    let (kd, n) = (p.k, p.n);
    let mut qbuf = vec![99i8; offset];
    qbuf.extend_from_slice(q);
    let q = &qbuf[offset..];
    let mut want = vec![0.0f32; m * n];
    generic::gemm_i4_f32(q, m, &p.view(), &mut want);
    let mut got = vec![f32::NAN; m * n];
    k.gemm_i4_f32(q, m, &p.view(), &mut got, &mut Scratch::default());
    let (gb, wb): (Vec<u32>, Vec<u32>) =
        (got.iter().map(|v| v.to_bits()).collect(), want.iter().map(|v| v.to_bits()).collect());
    assert_eq!(gb, wb, "{} gemm_i4_f32 m={m} k={kd} n={n}", k.backend());
}

/// Fixed shapes, ragged k (not a multiple of 32) included: bit for bit.
pub fn gemm_i4_exact_on_fixed_shapes(k: Kernels) {
    let mut rng = Rng(31);
    for (s, &(m, kd, n)) in SHAPES.iter().chain(&[(6, 70, 33), (13, 33, 17), (128, 384, 40)]).enumerate() {
        let p = random_i4(&mut rng, n, kd);
        check_core(&k, &rng.i8s(m * kd), &p, m, s % 3);
    }
}

/// ±127 activations against ±7 weights (scale 1): the group sums are the exact integers.
pub fn gemm_i4_exact_on_extremes(k: Kernels) {
    for &(m, kd, n) in &[(3, 4096, 17), (7, 385, 33), (1, 64, 1), (8, 31, 16)] {
        for (qa, wa, wb) in [(127i8, 7i8, -7i8), (-127, 7, -7), (127, -7, -7), (-127, -7, -7)] {
            let q = vec![qa; m * kd];
            let w: Vec<i8> = (0..n * kd).map(|i| if (i / kd) % 2 == 0 { wa } else { wb }).collect();
            let p = pack_i4_quantized(&w, &vec![f16::ONE; n * kd.div_ceil(32)], n, kd);
            check_core(&k, &q, &p, m, 1);
            let mut out = vec![0.0; m * n];
            k.gemm_i4_f32(&q, m, &p.view(), &mut out, &mut Scratch::default());
            assert_eq!(out[0], (qa as i32 * wa as i32 * kd as i32) as f32, "{} extreme value", k.backend());
        }
        let q: Vec<i8> = (0..m * kd).map(|i| if i % 2 == 0 { 127 } else { -127 }).collect();
        let w: Vec<i8> = (0..n * kd).map(|i| if i % 3 == 0 { -7 } else { 7 }).collect();
        check_core(&k, &q, &pack_i4_quantized(&w, &vec![f16::ONE; n * kd.div_ceil(32)], n, kd), m, 0);
    }
}

/// The whole layer: quantization, core, the rows' scale and offset, epilogue.
pub fn linear_i4_matches_generic(k: Kernels) {
    let mut rng = Rng(37);
    let mut scratch = Scratch::default();
    for &(m, kd, n) in SHAPES.iter().chain(&[(6, 70, 33), (128, 384, 40)]) {
        let (a, w) = (rng.f32s(m * kd + 1), rng.f32s(n * kd));
        let a = &a[1..]; // unaligned
        let (bias, res) = (rng.f32s(n), rng.f32s(m * n));
        let p = pack_i4(&w, n, kd);
        for ep in epilogues(&bias, &res) {
            let mut want = vec![0.0; m * n];
            generic::linear_i4(a, m, LinearI4 { w: p.view(), ep, out: &mut want }, &mut Scratch::default());
            let mut got = vec![f32::NAN; m * n];
            k.linear_i4(a, m, &p.view(), &ep, &mut got, &mut scratch);
            for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
                let t = if ep.gelu { tol::I8_OUT_REL * (1.0 + w.abs()) + tol::GELU_ABS } else { 0.0 };
                assert!(
                    (g - w).abs() <= t,
                    "{} linear_i4 m={m} k={kd} n={n} @{idx}: {g} vs {w}",
                    k.backend()
                );
            }
        }
    }
}
