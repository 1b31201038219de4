//! The standard suite, stamped on every backend by `backend_suite!` and held to `generic`.
//!
//! A backend this CPU lacks prints "skipped <backend>: CPU lacks <feature>" and returns; with
//! `EDGEBERT_KERNELS_NO_SKIP=1` (CI on x86 sets it) that is a failure for backends of this
//! machine's own architecture (the others cannot run here and still print "skipped").
//! Slots a backend leaves to the generic twin are listed in its stamp line (`twins [..]`): for
//! those the suite asserts bit-identical results, i.e. that the twin is what runs.
//! Tolerances live in `tol` below, the one table for the whole suite. ARM backends run under
//! qemu user mode (recipe in benches/RESULTS.md).

use edgebert_kernels::{
    generic, pack_f16, pack_f32, pack_i8, pack_i8_quantized, AttentionShape, Backend, Epilogue, Kernels,
    LinearI8, RowQuant, Scratch,
};
use proptest::prelude::*;

mod int4;

/// The one tolerance table.
mod tol {
    /// f32 GEMM: |got - want| ≤ F32_REL · √k · (1 + |want| + √k) for inputs in [-1, 1].
    pub const F32_REL: f32 = 1e-6;
    /// Elementwise math (GELU from a table or a rational erf fit, exp): absolute.
    pub const GELU_ABS: f32 = 1e-6;
    /// Softmax (vector exp): absolute, on probabilities in [0, 1].
    pub const SOFTMAX_ABS: f32 = 1e-6;
    /// LayerNorm: relative to the output (different summation order for mean and variance).
    pub const LAYER_NORM_REL: f32 = 1e-5;
    /// Fused attention context (weighted means of values in [-1, 1]): absolute.
    pub const ATTENTION_ABS: f32 = 1e-5;
    /// int8 attention (integer sums exact): an exponential a few ulps apart can move one
    /// quantized probability by a step, moving a context value by at most about
    /// `2 · max |v| / 255` (values in [-3, 3] here); most elements must match to 1e-5.
    pub const ATTENTION_I8_ABS: f32 = 0.025;
    pub const ATTENTION_I8_EXACT_SHARE: f32 = 0.99;
    /// int8 linear after an exact i32 core: relative to the output plus the GELU error.
    pub const I8_OUT_REL: f32 = 1e-6;

    pub fn gemm_f32(k: usize, want: f32) -> f32 {
        let sk = (k as f32).sqrt();
        F32_REL * sk * (1.0 + want.abs() + sk)
    }
}

/// Deterministic xorshift data so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn f32s(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| (self.next() % 20_001) as f32 / 10_000.0 - 1.0).collect()
    }
    fn i8s(&mut self, len: usize) -> Vec<i8> {
        (0..len).map(|_| (self.next() % 255) as i8 as i16 as i8).map(|v| v.max(-127)).collect()
    }
}

/// Shapes (m, k, n): 0 (also k = 0 with m > 1), 1, tile ± 1 for every backend's tiles (rows: 2/4/6/8; columns: 8/16
/// per panel, 48 for VNNI, 64 for AVX-512 f32), odd k, n = 1, k up to 4096 (several depth
/// blocks).
const SHAPES: &[(usize, usize, usize)] = &[
    (0, 4, 4),
    (1, 1, 1),
    (1, 0, 3),
    // k = 0 with several rows: row 1's slab offset equals the empty slab's length (AVX2 once
    // sliced past it).
    (7, 0, 3),
    (2, 3, 1),
    (1, 384, 1),
    (5, 7, 15),
    (6, 8, 16),
    (7, 9, 17),
    (8, 31, 31),
    (9, 33, 32),
    (12, 65, 33),
    (13, 64, 48),
    (17, 129, 64),
    (8, 40, 47),
    (9, 20, 49),
    (6, 24, 63),
    (5, 12, 65),
    (16, 1030, 96),
    (3, 4096, 33),
];

/// The backends `EDGEBERT_KERNELS_NO_SKIP` requires to run: `1` means every backend of the
/// host's architecture; a comma-separated list of names means those (`.ci/run` lists what the
/// CPU's flags in /proc/cpuinfo promise, so a machine without AVX-512 can still fail on a
/// backend it should run). Unset or empty: none (a skip is printed). An unknown name panics.
fn required_backends() -> Vec<Backend> {
    let raw = std::env::var("EDGEBERT_KERNELS_NO_SKIP").unwrap_or_default();
    match raw.trim() {
        "" => Vec::new(),
        "1" => Backend::ALL.into_iter().filter(|b| b.arch() == std::env::consts::ARCH).collect(),
        list => list
            .split(',')
            .map(|name| {
                Backend::from_name(name).unwrap_or_else(|| {
                    panic!(
                        "EDGEBERT_KERNELS_NO_SKIP={raw:?}: {name:?} is not a backend (expected `1` or names)"
                    )
                })
            })
            .collect(),
    }
}

fn kernels(b: Backend) -> Option<Kernels> {
    match Kernels::new(b) {
        Ok(k) => Some(k),
        Err(e) => {
            assert!(!required_backends().contains(&b), "EDGEBERT_KERNELS_NO_SKIP requires {b} but {e}");
            eprintln!("skipped {}: CPU lacks {}", e.backend, e.missing);
            None
        }
    }
}

fn check_gemm_i32(k: &Kernels, q: &[i8], w8: &[i8], m: usize, kd: usize, n: usize, offset: usize) {
    let packed = pack_i8_quantized(w8, &vec![1.0; n], n, kd);
    // Unaligned activations: copy behind `offset` junk bytes and slice past them.
    let mut qbuf = vec![99i8; offset];
    qbuf.extend_from_slice(q);
    let q = &qbuf[offset..];
    let mut want = vec![0i32; m * n];
    generic::gemm_i8_i32(q, m, &packed.view(), &mut want);
    let mut got = vec![i32::MIN; m * n];
    k.gemm_i8_i32(q, m, &packed.view(), &mut got, &mut Scratch::default());
    assert_eq!(got, want, "{} gemm_i8_i32 m={m} k={kd} n={n}", k.backend());
}

fn gemm_i32_exact_on_fixed_shapes(k: Kernels) {
    let mut rng = Rng(7);
    for (s, &(m, kd, n)) in SHAPES.iter().enumerate() {
        let (q, w) = (rng.i8s(m * kd), rng.i8s(n * kd));
        check_gemm_i32(&k, &q, &w, m, kd, n, s % 3);
    }
}

fn gemm_i32_exact_on_extremes(k: Kernels) {
    // 127 is u8 255 after the x86 shift: the case that saturates vpmaddubsw elsewhere.
    for &(m, kd, n) in &[(3, 4096, 17), (7, 385, 33), (1, 64, 1)] {
        for (qa, wa, wb) in [(127i8, 127i8, -127i8), (-127, 127, -127), (127, -127, -127), (-127, -127, -127)]
        {
            let q = vec![qa; m * kd];
            let w: Vec<i8> = (0..n * kd).map(|i| if (i / kd) % 2 == 0 { wa } else { wb }).collect();
            check_gemm_i32(&k, &q, &w, m, kd, n, 1);
            let mut out = vec![0; m * n];
            let p = pack_i8_quantized(&w, &vec![1.0; n], n, kd);
            k.gemm_i8_i32(&q, m, &p.view(), &mut out, &mut Scratch::default());
            assert_eq!(out[0], qa as i32 * wa as i32 * kd as i32, "{} extreme value", k.backend());
        }
        // Alternating signs inside each group of 4 (pairs that would cancel or add in i16).
        let q: Vec<i8> = (0..m * kd).map(|i| if i % 2 == 0 { 127 } else { -127 }).collect();
        let w: Vec<i8> = (0..n * kd).map(|i| if i % 3 == 0 { -127 } else { 127 }).collect();
        check_gemm_i32(&k, &q, &w, m, kd, n, 0);
    }
}

fn epilogues<'a>(bias: &'a [f32], res: &'a [f32]) -> [Epilogue<'a>; 4] {
    [
        Epilogue::none(),
        Epilogue::bias(bias),
        Epilogue { bias: Some(bias), gelu: true, residual: None },
        Epilogue { bias: Some(bias), gelu: true, residual: Some(res) },
    ]
}

fn linear_i8_matches_generic(k: Kernels) {
    let mut rng = Rng(11);
    let mut scratch = Scratch::default();
    for &(m, kd, n) in SHAPES {
        let (a, w) = (rng.f32s(m * kd + 1), rng.f32s(n * kd));
        let a = &a[1..]; // unaligned
        let (bias, res) = (rng.f32s(n), rng.f32s(m * n));
        let p = pack_i8(&w, n, kd);
        for ep in epilogues(&bias, &res) {
            let mut want = vec![0.0; m * n];
            generic::linear_i8(a, m, LinearI8 { w: p.view(), ep, out: &mut want }, &mut Scratch::default());
            let mut got = vec![f32::NAN; m * n];
            k.linear_i8(a, m, &p.view(), &ep, &mut got, &mut scratch);
            for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
                let t = tol::I8_OUT_REL * (1.0 + w.abs()) + tol::GELU_ABS;
                assert!(
                    (g - w).abs() <= t,
                    "{} linear_i8 m={m} k={kd} n={n} @{idx}: {g} vs {w}",
                    k.backend()
                );
            }
        }
    }
}

/// Several layers of one input (quantized once) give bit for bit what each layer gives alone.
fn linear_i8_shared_matches_linear_i8(k: Kernels) {
    let mut rng = Rng(23);
    let mut scratch = Scratch::default();
    for &(m, kd, n) in SHAPES {
        let a = rng.f32s(m * kd);
        let ws: Vec<_> = [n, n + 5, 1].iter().map(|&n| (n, pack_i8(&rng.f32s(n * kd), n, kd))).collect();
        let bias = rng.f32s(n + 5);
        let eps: Vec<Epilogue> = ws
            .iter()
            .enumerate()
            .map(|(i, (n, _))| Epilogue { bias: Some(&bias[..*n]), gelu: i == 1, residual: None })
            .collect();
        let mut outs: Vec<Vec<f32>> = ws.iter().map(|(n, _)| vec![f32::NAN; m * n]).collect();
        let mut layers: Vec<LinearI8> = ws
            .iter()
            .zip(&eps)
            .zip(outs.iter_mut())
            .map(|(((_, p), ep), out)| LinearI8 { w: p.view(), ep: *ep, out })
            .collect();
        k.linear_i8_shared(&a, m, &mut layers, &mut scratch);
        for (((n, p), ep), got) in ws.iter().zip(&eps).zip(&outs) {
            let mut want = vec![0.0; m * n];
            k.linear_i8(&a, m, &p.view(), ep, &mut want, &mut Scratch::default());
            assert!(
                got.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits()),
                "{} linear_i8_shared m={m} k={kd} n={n}",
                k.backend()
            );
        }
    }
}

/// The int8 epilogue slot against its twin, on i32 sums of a real GEMM's size: dequantize, bias
/// and residual bit for bit on every backend; with GELU within the GELU tolerance (bit for bit
/// when the backend runs the twin).
fn dequantize_i8_matches_generic(k: Kernels, twin: bool) {
    let mut rng = Rng(37);
    for &(m, kd, n) in SHAPES {
        let p = pack_i8(&rng.f32s(n * kd), n, kd);
        let acc: Vec<i32> = (0..m * n).map(|_| (rng.next() % 2_000_001) as i32 - 1_000_000).collect();
        let rows: Vec<RowQuant> = (0..m)
            .map(|_| {
                let v = rng.f32s(2);
                RowQuant { scale: v[0].abs() / 127.0, offset: v[1] }
            })
            .collect();
        let (bias, res) = (rng.f32s(n), rng.f32s(m * n));
        for ep in epilogues(&bias, &res) {
            let (mut want, mut got) = (vec![0.0; m * n], vec![f32::NAN; m * n]);
            generic::dequantize_i8(&acc, &rows, &p.view(), &ep, &mut want);
            k.dequantize_i8(&acc, &rows, &p.view(), &ep, &mut got);
            let t = if ep.gelu { tol_or_twin(twin, tol::GELU_ABS) } else { 0.0 };
            for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
                let ok =
                    if t == 0.0 { g.to_bits() == w.to_bits() } else { (g - w).abs() <= t * (1.0 + w.abs()) };
                assert!(ok, "{} dequantize_i8 m={m} n={n} gelu={} @{idx}: {g} vs {w}", k.backend(), ep.gelu);
            }
        }
    }
}

/// Ties (x · 127/max = n + ½) must round the same way (to even) on every backend: with an
/// identity weight, the output is the quantized activation itself.
fn quantization_ties_match_generic(k: Kernels) {
    let n = 37;
    let mut row: Vec<f32> = (0..n).map(|j| (j as f32 - 18.0) + 0.5).collect();
    row[5] = 127.0;
    row[6] = -127.0;
    let a: Vec<f32> =
        row.iter().chain(row.iter().map(|v| v * 0.25).collect::<Vec<_>>().iter()).copied().collect();
    let eye: Vec<f32> = (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect();
    let p = pack_i8(&eye, n, n);
    let (mut want, mut got) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
    generic::linear_i8(
        &a,
        2,
        LinearI8 { w: p.view(), ep: Epilogue::none(), out: &mut want },
        &mut Scratch::default(),
    );
    k.linear_i8(&a, 2, &p.view(), &Epilogue::none(), &mut got, &mut Scratch::default());
    assert_eq!(got, want, "{} rounds activations differently", k.backend());
    assert_eq!(want[0], -18.0, "ties go to even: -17.5 -> -18");
}

/// Rows whose range is far from symmetric (GELU outputs) are quantized around their midpoint:
/// every backend produces the generic twin's integers and dequantization bit for bit, and with
/// an identity weight each output is within half a step (plus the weight's rounding) of its
/// input, with k not a multiple of 4 so the depth padding must stay 0.
fn skewed_rows_match_generic(k: Kernels) {
    let n = 37;
    let row: Vec<f32> =
        (0..n).map(|j| -0.17 + 0.25 * j as f32 + if j % 3 == 0 { 0.125 } else { 0.0 }).collect();
    let a: Vec<f32> =
        row.iter().chain(row.iter().map(|v| 3.0 - v).collect::<Vec<_>>().iter()).copied().collect();
    let eye: Vec<f32> = (0..n * n).map(|i| if i / n == i % n { 1.0 } else { 0.0 }).collect();
    let p = pack_i8(&eye, n, n);
    let (mut want, mut got) = (vec![0.0; 2 * n], vec![0.0; 2 * n]);
    generic::linear_i8(
        &a,
        2,
        LinearI8 { w: p.view(), ep: Epilogue::none(), out: &mut want },
        &mut Scratch::default(),
    );
    k.linear_i8(&a, 2, &p.view(), &Epilogue::none(), &mut got, &mut Scratch::default());
    assert_eq!(got, want, "{} quantizes skewed rows differently", k.backend());
    for (i, x) in a.chunks(n).enumerate() {
        let (lo, hi) = x.iter().fold((0.0f32, 0.0f32), |(l, h), &v| (l.min(v), h.max(v)));
        let step = (hi - lo) / 254.0;
        for (g, v) in got[i * n..(i + 1) * n].iter().zip(x) {
            assert!((g - v).abs() <= 0.5 * step + 1e-5, "{} row {i}: {g} for {v} (step {step})", k.backend());
        }
    }
}

/// The row-quantization slot gives the generic twin's integers and `RowQuant`s bit for bit:
/// random rows (k around the 4- and 8-lane blocks), ties, skewed and all-zero rows.
fn quantize_rows_match_generic(k: Kernels) {
    let mut rng = Rng(41);
    for &(m, kd, _) in SHAPES.iter().chain(&[(3, 5, 0), (2, 15, 0), (4, 17, 0)]) {
        let mut a: Vec<f32> = rng.f32s(m * kd).iter().map(|v| v * 7.0).collect();
        if m > 1 && kd > 0 {
            // Row 0: ties (x · 127 / max = n + 1/2); row 1: all zeros; the last row: skewed.
            for (j, v) in a[..kd].iter_mut().enumerate() {
                *v = (j % 40) as f32 - 19.5;
            }
            a[0] = 127.0;
            a[kd..2 * kd].fill(0.0);
            a[(m - 1) * kd..].iter_mut().for_each(|v| *v = 2.5 + v.abs());
        }
        let (mut want_q, mut got_q) = (vec![0i8; m * kd], vec![99i8; m * kd]);
        let (mut want_r, mut got_r) =
            (vec![RowQuant::default(); m], vec![RowQuant { scale: 9.0, offset: 9.0 }; m]);
        generic::quantize_rows_i8(&a, m, kd, &mut want_q, &mut want_r);
        k.quantize_rows_i8(&a, m, kd, &mut got_q, &mut got_r);
        assert_eq!(got_q, want_q, "{} quantize_rows_i8 m={m} k={kd}", k.backend());
        let bits =
            |r: &[RowQuant]| r.iter().map(|q| (q.scale.to_bits(), q.offset.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(&got_r), bits(&want_r), "{} quantize_rows_i8 m={m} k={kd}: RowQuant", k.backend());
    }
}

/// Splitting a GEMV by panel ranges (what threads do at m = 1) gives the full layer's columns.
fn panel_ranges_split_a_gemv(k: Kernels) {
    let (kd, n) = (100, 70);
    let mut rng = Rng(29);
    let (a, w, bias) = (rng.f32s(kd), rng.f32s(n * kd), rng.f32s(n));
    let (p8, p32) = (pack_i8(&w, n, kd), pack_f32(&w, n, kd));
    let mut s = Scratch::default();
    let (mut full8, mut full32) = (vec![0.0; n], vec![0.0; n]);
    k.linear_i8(&a, 1, &p8.view(), &Epilogue::bias(&bias), &mut full8, &mut s);
    k.linear_f32(&a, 1, &p32.view(), &Epilogue::bias(&bias), &mut full32, &mut s);
    for (first, count) in [(0, 2), (2, 3)] {
        let (j0, j1) = (16 * first, n.min(16 * (first + count)));
        let (mut part8, mut part32) = (vec![0.0; j1 - j0], vec![0.0; j1 - j0]);
        let ep = Epilogue::bias(&bias[j0..j1]);
        k.linear_i8(&a, 1, &p8.view().panel_range(first, count), &ep, &mut part8, &mut s);
        k.linear_f32(&a, 1, &p32.view().panel_range(first, count), &ep, &mut part32, &mut s);
        assert_eq!(part8, full8[j0..j1], "{} int8 panel range", k.backend());
        assert_eq!(part32, full32[j0..j1], "{} f32 panel range", k.backend());
    }
}

fn linear_float_matches_generic(k: Kernels) {
    let mut rng = Rng(13);
    for &(m, kd, n) in SHAPES {
        let (a, w) = (rng.f32s(m * kd + 3), rng.f32s(n * kd));
        let a = &a[3..];
        let (bias, res) = (rng.f32s(n), rng.f32s(m * n));
        let (p32, p16) = (pack_f32(&w, n, kd), pack_f16(&w, n, kd));
        for ep in epilogues(&bias, &res) {
            let (mut want, mut got) = (vec![0.0; m * n], vec![f32::NAN; m * n]);
            generic::linear_f32_packed(a, m, &p32.view(), &ep, &mut want);
            k.linear_f32(a, m, &p32.view(), &ep, &mut got, &mut Scratch::default());
            for (g, w) in got.iter().zip(&want) {
                let t = tol::gemm_f32(kd, *w) + tol::GELU_ABS;
                assert!((g - w).abs() <= t, "{} linear_f32 m={m} k={kd} n={n}: {g} vs {w}", k.backend());
            }
            generic::linear_f16(a, m, &p16.view(), &ep, &mut want);
            k.linear_f16(a, m, &p16.view(), &ep, &mut got, &mut Scratch::default());
            for (g, w) in got.iter().zip(&want) {
                let t = tol::gemm_f32(kd, *w) + tol::GELU_ABS;
                assert!((g - w).abs() <= t, "{} linear_f16 m={m} k={kd} n={n}: {g} vs {w}", k.backend());
            }
        }
    }
}

/// The allowed error of a slot: `tol`, or 0 (bit-identical) when the backend runs the twin.
fn tol_or_twin(twin: bool, tol: f32) -> f32 {
    if twin {
        0.0
    } else {
        tol
    }
}

fn gelu_matches_generic(k: Kernels, twin: bool) {
    let mut x: Vec<f32> = (-4000..=4000).map(|i| i as f32 / 500.0).collect();
    x.extend([f32::INFINITY, f32::NEG_INFINITY, -0.0, 1e-30, -1e-30, 30.0, -30.0]);
    let want: Vec<f32> = x.iter().map(|&v| generic::gelu_erf_f32(v)).collect();
    let mut got = x.clone();
    k.gelu_erf(&mut got[1..]); // unaligned, odd length
    got[0] = generic::gelu_erf_f32(x[0]);
    let (mut worst, mut at) = (0.0f32, 0.0f32);
    for ((g, w), xv) in got.iter().zip(&want).zip(&x) {
        let err = (g - w).abs() / w.abs().max(1.0);
        if !xv.is_infinite() && err > worst {
            (worst, at) = (err, *xv);
        }
    }
    eprintln!("{} gelu: worst error {worst:e} at x = {at} (generic twin: {twin})", k.backend());
    let t = tol_or_twin(twin, tol::GELU_ABS);
    assert!(worst <= t, "{} gelu: worst error {worst:e} at x = {at}", k.backend());
}

fn softmax_matches_generic(k: Kernels, twin: bool) {
    let mut rng = Rng(17);
    for cols in [1usize, 7, 16, 17, 33, 128, 129] {
        let rows = 3;
        let x: Vec<f32> = rng.f32s(rows * cols).iter().map(|v| v * 30.0).collect();
        let mut mask = vec![0.0f32; cols];
        mask.iter_mut().skip(cols / 2 + 1).for_each(|m| *m = f32::NEG_INFINITY);
        let all_masked = vec![f32::NEG_INFINITY; cols];
        for bias in [None, Some(&mask[..]), Some(&all_masked[..])] {
            let (mut want, mut got) = (x.clone(), x.clone());
            generic::softmax_rows_f32(&mut want, cols, 0.125, bias);
            k.softmax_rows(&mut got, cols, 0.125, bias);
            for (g, w) in got.iter().zip(&want) {
                let t = tol_or_twin(twin, tol::SOFTMAX_ABS);
                assert!((g - w).abs() <= t, "{} softmax cols={cols}: {g} vs {w}", k.backend());
                assert!(*w != 0.0 || *g == 0.0, "{} masked entries must be exactly 0", k.backend());
            }
        }
    }
}

fn layer_norm_matches_generic(k: Kernels, twin: bool) {
    let mut rng = Rng(19);
    for h in [1usize, 15, 16, 17, 384, 385] {
        let x: Vec<f32> = rng.f32s(3 * h).iter().map(|v| v * 5.0 + 2.0).collect();
        let (g, b) = (rng.f32s(h), rng.f32s(h));
        let (mut want, mut got) = (x.clone(), x.clone());
        generic::layer_norm_f32(&mut want, &g, &b, 1e-12);
        k.layer_norm(&mut got, &g, &b, 1e-12);
        for (gv, wv) in got.iter().zip(&want) {
            assert!(
                (gv - wv).abs() <= tol_or_twin(twin, tol::LAYER_NORM_REL) * (1.0 + wv.abs()),
                "{} layer_norm h={h}: {gv} vs {wv}",
                k.backend()
            );
        }
    }
}

fn attention_matches_generic(k: Kernels) {
    let mut rng = Rng(23);
    let mut scratch = Scratch::default();
    // (l, heads, d, ld, offset): offset/ld mimic q, k, v as slices of one fused QKV row.
    for &(l, heads, d, ld, off) in
        &[(1, 1, 4, 4, 0), (7, 2, 8, 48, 16), (33, 3, 32, 96, 0), (17, 2, 5, 30, 10)]
    {
        let qkv = rng.f32s(l * ld + off);
        let (q, kk, v) = (&qkv[..], &qkv[off..], &qkv[off..]);
        let (mut want, mut got) = (vec![0.0; heads * l * l], vec![0.0; heads * l * l]);
        let shape = AttentionShape { m: l, l, heads, d, ld, scale: 0.3 };
        generic::attention_scores_f32(q, kk, &shape, &mut want);
        k.attention_scores(q, kk, l, heads, d, ld, 0.3, &mut got, &mut scratch);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= tol::gemm_f32(d, *w), "{} scores l={l} d={d}: {g} vs {w}", k.backend());
        }
        let p = rng.f32s(heads * l * l);
        let (mut want, mut got) = (vec![9.0; l * ld + off], vec![9.0; l * ld + off]);
        generic::attention_context_f32(&p, v, &shape, &mut want);
        k.attention_context(&p, v, l, heads, d, ld, &mut got, &mut scratch);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= tol::gemm_f32(l, *w), "{} context l={l} d={d}: {g} vs {w}", k.backend());
        }
    }
}

/// (m, l, heads, d, ld, off): m query rows (the last m of the l keys' rows), tiles ± 1 (6/12
/// rows, 16/64 keys, 16/32/64 channels), d not a multiple of 4 or 16, fused QKV strides (values
/// `off` columns after the keys).
const ATTENTION_SHAPES: &[(usize, usize, usize, usize, usize, usize)] = &[
    (1, 1, 1, 4, 4, 0),
    (7, 7, 2, 8, 48, 16),
    (13, 33, 3, 32, 96, 0),
    (17, 17, 2, 5, 30, 10),
    (12, 65, 2, 64, 128, 0),
    (25, 128, 4, 32, 128, 0),
    (6, 63, 1, 48, 48, 0),
    (5, 130, 3, 17, 60, 3),
    (0, 9, 2, 8, 16, 0),
];

/// The signatures the fused attentions share: a backend's kernel and its scalar twin.
type AttentionKernel = fn(&Kernels, &[f32], &[f32], &[f32], &AttentionShape, &mut [f32], &mut Scratch);
type AttentionTwin = fn(&[f32], &[f32], &[f32], &AttentionShape, &mut [f32]);

/// Runs `kernel` and its `twin` on every shape of [`ATTENTION_SHAPES`] (inputs in [-3, 3]),
/// hands both outputs to `check` with `(m, l, d)`, and asserts that query rows split in two
/// calls give the same bits as one call.
fn attention_cases(
    k: Kernels,
    mut rng: Rng,
    name: &str,
    kernel: AttentionKernel,
    twin: AttentionTwin,
    mut check: impl FnMut(&[f32], &[f32], (usize, usize, usize)),
) {
    let mut scratch = Scratch::default();
    for &(m, l, heads, d, ld, off) in ATTENTION_SHAPES {
        let qkv: Vec<f32> = rng.f32s(l * ld + off).iter().map(|x| x * 3.0).collect();
        let (kk, v) = (&qkv[..], &qkv[off..]);
        let q = &qkv[(l - m) * ld..];
        let shape = AttentionShape { m, l, heads, d, ld, scale: 0.4 };
        let (mut want, mut got) = (vec![9.0; m * ld], vec![9.0; m * ld]);
        twin(q, kk, v, &shape, &mut want);
        kernel(&k, q, kk, v, &shape, &mut got, &mut scratch);
        check(&got, &want, (m, l, d));
        let split = m / 3;
        let mut parts = vec![9.0; m * ld];
        let (a, b) = parts.split_at_mut(split * ld);
        kernel(&k, &q[..split * ld], kk, v, &shape.with_rows(split), a, &mut scratch);
        kernel(&k, &q[split * ld..], kk, v, &shape.with_rows(m - split), b, &mut scratch);
        assert_eq!(parts, got, "{} {name} m={m} l={l}: split rows differ", k.backend());
    }
}

fn fused_attention_matches_generic(k: Kernels) {
    attention_cases(
        k,
        Rng(29),
        "attention",
        |k, q, kk, v, s, c, sc| k.attention_f32(q, kk, v, s, c, sc),
        generic::attention_f32,
        |got, want, (m, l, d)| {
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() <= tol::ATTENTION_ABS,
                    "{} attention m={m} l={l} d={d}: {g} vs {w}",
                    k.backend()
                );
            }
        },
    );
}

fn int8_attention_matches_generic(k: Kernels, twin: bool) {
    assert_eq!(
        k.has_fast_attention_i8(),
        !twin,
        "{}: has_fast_attention_i8 disagrees with the stamp",
        k.backend()
    );
    let (abs, share) = if twin { (0.0, 1.0) } else { (tol::ATTENTION_I8_ABS, tol::ATTENTION_I8_EXACT_SHARE) };
    attention_cases(
        k,
        Rng(31),
        "int8 attention",
        |k, q, kk, v, s, c, sc| k.attention_i8(q, kk, v, s, c, sc),
        generic::attention_i8,
        |got, want, (m, l, d)| {
            let mut exact = 0;
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() <= abs, "{} int8 attention m={m} l={l} d={d}: {g} vs {w}", k.backend());
                exact += usize::from((g - w).abs() <= if twin { 0.0 } else { 1e-5 });
            }
            assert!(
                got.is_empty() || exact as f32 / got.len() as f32 >= share,
                "{} int8 attention m={m} l={l} d={d}: only {exact} of {} outputs match",
                k.backend(),
                got.len()
            );
        },
    );
}

macro_rules! backend_suite {
    ($($module:ident => $backend:expr, twins [$($twin:ident)*];)*) => {
        /// Every backend stamped below, for the test that none is missing.
        const STAMPED: &[Backend] = &[$($backend),*];
        $(
        mod $module {
            use super::*;
            /// The slots this backend leaves to the generic twin.
            const TWINS: &[&str] = &[$(stringify!($twin)),*];
            fn run(f: fn(Kernels)) {
                if let Some(k) = kernels($backend) {
                    f(k)
                }
            }
            fn run_slot(f: fn(Kernels, bool), slot: &str) {
                if let Some(k) = kernels($backend) {
                    f(k, TWINS.contains(&slot))
                }
            }
            #[test] fn gemm_i32_exact_on_fixed_shapes() { run(super::gemm_i32_exact_on_fixed_shapes) }
            #[test] fn gemm_i32_exact_on_extremes() { run(super::gemm_i32_exact_on_extremes) }
            #[test] fn linear_i8_matches_generic() { run(super::linear_i8_matches_generic) }
            #[test] fn linear_i8_shared_matches_linear_i8() { run(super::linear_i8_shared_matches_linear_i8) }
            #[test] fn dequantize_i8_matches_generic() { run_slot(super::dequantize_i8_matches_generic, "dequantize_i8") }
            #[test] fn quantization_ties_match_generic() { run(super::quantization_ties_match_generic) }
            #[test] fn skewed_rows_match_generic() { run(super::skewed_rows_match_generic) }
            #[test] fn quantize_rows_match_generic() { run(super::quantize_rows_match_generic) }
            #[test] fn panel_ranges_split_a_gemv() { run(super::panel_ranges_split_a_gemv) }
            #[test] fn linear_float_matches_generic() { run(super::linear_float_matches_generic) }
            #[test] fn softmax_matches_generic() { run_slot(super::softmax_matches_generic, "softmax") }
            #[test] fn layer_norm_matches_generic() { run_slot(super::layer_norm_matches_generic, "layer_norm") }
            #[test] fn attention_matches_generic() { run(super::attention_matches_generic) }
            #[test] fn fused_attention_matches_generic() { run(super::fused_attention_matches_generic) }
            #[test] fn int8_attention_matches_generic() { run_slot(super::int8_attention_matches_generic, "attention_i8") }
            #[test] fn gelu_matches_generic() { run_slot(super::gelu_matches_generic, "gelu") }
            #[test] fn gemm_i4_exact_on_fixed_shapes() { run(super::int4::gemm_i4_exact_on_fixed_shapes) }
            #[test] fn gemm_i4_exact_on_extremes() { run(super::int4::gemm_i4_exact_on_extremes) }
            #[test] fn linear_i4_matches_generic() { run(super::int4::linear_i4_matches_generic) }
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(32))]
                #[test]
                fn gemm_i32_exact_on_random_shapes(m in 0usize..20, kd in 0usize..300, n in 1usize..70,
                                                   seed in any::<u64>(), offset in 0usize..4) {
                    if let Some(k) = kernels($backend) {
                        let mut rng = Rng(seed | 1);
                        let (q, w) = (rng.i8s(m * kd), rng.i8s(n * kd));
                        check_gemm_i32(&k, &q, &w, m, kd, n, offset);
                    }
                }

                #[test]
                fn gemm_i4_exact_on_random_shapes(m in 0usize..20, kd in 0usize..300, n in 1usize..70,
                                                  seed in any::<u64>(), offset in 0usize..4) {
                    if let Some(k) = kernels($backend) {
                        let mut rng = Rng(seed | 1);
                        let w = rng.f32s(n * kd);
                        let q = rng.i8s(m * kd);
                        super::int4::check_core(&k, &q, &edgebert_kernels::pack_i4(&w, n, kd), m, offset);
                    }
                }

                #[test]
                fn linear_layers_match_generic_on_random_shapes(m in 0usize..20, kd in 0usize..200,
                                                                n in 1usize..70, seed in any::<u64>(),
                                                                gelu in any::<bool>()) {
                    if let Some(k) = kernels($backend) {
                        let mut rng = Rng(seed | 1);
                        let (a, w, bias, res) = (rng.f32s(m * kd), rng.f32s(n * kd), rng.f32s(n), rng.f32s(m * n));
                        let ep = Epilogue { bias: Some(&bias), gelu, residual: Some(&res) };
                        let (mut want, mut got) = (vec![0.0; m * n], vec![f32::NAN; m * n]);
                        let p8 = pack_i8(&w, n, kd);
                        generic::linear_i8(&a, m, LinearI8 { w: p8.view(), ep, out: &mut want }, &mut Scratch::default());
                        k.linear_i8(&a, m, &p8.view(), &ep, &mut got, &mut Scratch::default());
                        for (g, w) in got.iter().zip(&want) {
                            prop_assert!((g - w).abs() <= tol::I8_OUT_REL * (1.0 + w.abs()) + tol::GELU_ABS, "{g} vs {w}");
                        }
                        let p32 = pack_f32(&w, n, kd);
                        generic::linear_f32_packed(&a, m, &p32.view(), &ep, &mut want);
                        k.linear_f32(&a, m, &p32.view(), &ep, &mut got, &mut Scratch::default());
                        for (g, w) in got.iter().zip(&want) {
                            prop_assert!((g - w).abs() <= tol::gemm_f32(kd, *w) + tol::GELU_ABS, "{g} vs {w}");
                        }
                    }
                }
            }
        }
    )*};
}

// One line per registered backend: its module, and the slots it leaves to the generic twin.
backend_suite! {
    generic_backend => Backend::Generic, twins [gelu softmax layer_norm attention_i8 dequantize_i8];
    avx2 => Backend::Avx2, twins [attention_i8 dequantize_i8];
    avx512 => Backend::Avx512, twins [attention_i8 dequantize_i8];
    avx_vnni => Backend::AvxVnni, twins [attention_i8 dequantize_i8];
    avx512_vnni => Backend::Avx512Vnni, twins [dequantize_i8];
    neon => Backend::Neon, twins [layer_norm attention_i8];
    neon_dotprod => Backend::NeonDotprod, twins [layer_norm attention_i8];
    neon_i8mm => Backend::NeonI8mm, twins [layer_norm attention_i8];
    armv7_neon => Backend::Armv7Neon, twins [attention_i8];
}

#[test]
fn every_registered_backend_is_stamped() {
    for b in Backend::ALL {
        assert!(STAMPED.contains(&b), "backend {b} is registered but has no backend_suite! line");
    }
    assert_eq!(STAMPED.len(), Backend::ALL.len(), "a backend is stamped twice");
}
