//! GEMM throughput at encoder shapes, per backend, as GOP/s and as a fraction of the peak
//! measured in the same run (see `edgebert_kernels::peak`). One thread.
//!
//! `cargo bench -p edgebert-benches --bench gemm` (add `-- <filter>` to narrow, e.g. `vnni`).
//! Criterion prints each (wall-clock) measurement; the table at the end uses thread CPU time:
//! the best sample divided by the best peak probe (peaks are probed before and after the GEMMs).

use criterion::{BenchmarkId, Criterion, Throughput};
use edgebert_kernels::peak::Peak;
use edgebert_kernels::{pack_f16, pack_f32, pack_i4, pack_i8, Backend, Epilogue, Kernels, Scratch};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MS: [usize; 3] = [1, 32, 128];
/// (K, N): MiniLM (hidden 384, FFN 1536) and BERT-base (768, 3072) projections.
const KN: [(usize, usize); 6] = [(384, 384), (384, 1536), (1536, 384), (768, 768), (768, 3072), (3072, 768)];

/// Per benchmark id: seconds per iteration of each criterion sample.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// CPU time of the calling thread. The dev machine is shared (load average above the core
/// count is common), so ratios use the time this thread actually ran, for peaks and GEMMs alike.
fn thread_cpu_secs() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn timed(id: &str, iters: u64, mut f: impl FnMut()) -> Duration {
    let (t, c) = (Instant::now(), thread_cpu_secs());
    for _ in 0..iters {
        f();
    }
    let (d, cpu) = (t.elapsed(), thread_cpu_secs() - c);
    SAMPLES.lock().unwrap().entry(id.to_string()).or_default().push(cpu / iters as f64);
    d
}

fn data(len: usize, seed: u32) -> Vec<f32> {
    (0..len).map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 1000.0 - 1.0).collect()
}

#[derive(Clone, Copy)]
enum Kind {
    Int8(Backend),
    /// int4 weights (groups of 32, f16 scales), unpacking included.
    Int4(Backend),
    F32(Backend),
    F16(Backend),
    GemmCrate,
}

impl Kind {
    fn label(self) -> String {
        match self {
            Kind::Int8(b) => format!("int8/{b}"),
            Kind::Int4(b) => format!("int4/{b}"),
            Kind::F32(b) => format!("f32/{b}"),
            Kind::F16(b) => format!("f16/{b}"),
            Kind::GemmCrate => "f32/gemm-crate".to_string(),
        }
    }
    /// The peak this kernel is judged against.
    fn peak(self) -> Peak {
        match self {
            Kind::Int8(Backend::Avx512Vnni) | Kind::Int4(Backend::Avx512Vnni) => Peak::VpdpbusdZmm,
            Kind::Int8(Backend::AvxVnni) | Kind::Int4(Backend::AvxVnni) => Peak::VpdpbusdYmm,
            // The exact i16 path (avx2, and avx512 which runs it) against its own instruction.
            Kind::Int4(_) => Peak::VpmaddwdYmm,
            Kind::Int8(_) => Peak::VpmaddubswYmm,
            Kind::F32(Backend::Avx2) | Kind::F16(Backend::Avx2) => Peak::FmaF32Ymm,
            _ => Peak::FmaF32Zmm,
        }
    }
}

fn bench_one(c: &mut Criterion, kind: Kind, m: usize, k: usize, n: usize) {
    let label = kind.label();
    let id = format!("{label}/m{m}_k{k}_n{n}");
    let mut group = c.benchmark_group(label.clone());
    group.throughput(Throughput::Elements((2 * m * k * n) as u64));
    let a = data(m * k, 1);
    let w = data(n * k, 2);
    let bias = data(n, 3);
    let ep = Epilogue::bias(&bias);
    let mut out = vec![0.0f32; m * n];
    let bid = BenchmarkId::from_parameter(format!("m{m}_k{k}_n{n}"));
    match kind {
        Kind::Int8(b) => {
            let (kern, p, mut s) = (Kernels::new(b).unwrap(), pack_i8(&w, n, k), Scratch::default());
            group.bench_function(bid, |bch| {
                bch.iter_custom(|it| {
                    timed(&id, it, || kern.linear_i8(black_box(&a), m, &p.view(), &ep, &mut out, &mut s))
                })
            });
        }
        Kind::Int4(b) => {
            let (kern, p, mut s) = (Kernels::new(b).unwrap(), pack_i4(&w, n, k), Scratch::default());
            group.bench_function(bid, |bch| {
                bch.iter_custom(|it| {
                    timed(&id, it, || kern.linear_i4(black_box(&a), m, &p.view(), &ep, &mut out, &mut s))
                })
            });
        }
        Kind::F32(b) => {
            let (kern, p, mut s) = (Kernels::new(b).unwrap(), pack_f32(&w, n, k), Scratch::default());
            group.bench_function(bid, |bch| {
                bch.iter_custom(|it| {
                    timed(&id, it, || kern.linear_f32(black_box(&a), m, &p.view(), &ep, &mut out, &mut s))
                })
            });
        }
        Kind::F16(b) => {
            let (kern, p, mut s) = (Kernels::new(b).unwrap(), pack_f16(&w, n, k), Scratch::default());
            group.bench_function(bid, |bch| {
                bch.iter_custom(|it| {
                    timed(&id, it, || kern.linear_f16(black_box(&a), m, &p.view(), &ep, &mut out, &mut s))
                })
            });
        }
        Kind::GemmCrate => {
            // out[m, n] = a[m, k] · wᵀ, w being [n, k] row-major (so column-major [k, n]).
            group.bench_function(bid, |bch| {
                bch.iter_custom(|it| timed(&id, it, || gemm_call(&a, &w, &mut out, m, k, n)))
            });
        }
    }
    group.finish();
}

/// The `gemm` crate's f32 GEMM (no bias: it is the comparison point, not a layer). Its API is
/// raw pointers, hence the one `unsafe` outside `src/arch` (a dev-only benchmark).
fn gemm_call(a: &[f32], w: &[f32], out: &mut [f32], m: usize, k: usize, n: usize) {
    // SAFETY: dst is m×n row-major (row stride n), lhs m×k row-major (row stride k), rhs k×n
    // with element (kk, j) at w[j·k + kk] (column stride k, row stride 1); all in bounds.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            k as isize,
            1,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

fn measure_peaks(peaks: &mut BTreeMap<&'static str, f64>) {
    for p in Peak::ALL {
        let blocks = 20_000_000;
        let mut secs = f64::INFINITY;
        for _ in 0..7 {
            let c = thread_cpu_secs();
            if !p.run(blocks) {
                break;
            }
            secs = secs.min(thread_cpu_secs() - c);
        }
        if secs.is_finite() {
            let ops = (blocks * 12 * p.ops_per_instruction()) as f64 / secs;
            let best = peaks.entry(p.name()).or_insert(0.0f64);
            *best = best.max(ops);
            println!("peak {:16} {:8.1} GOP/s (best so far {:.1})", p.name(), ops / 1e9, *best / 1e9);
        }
    }
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(700))
        .sample_size(10)
        .nresamples(2_000) // the bootstrap is not what we read; keep the run short
        .without_plots()
        .configure_from_args();
    println!("{}", edgebert_kernels::describe());
    let mut peaks = BTreeMap::new();
    measure_peaks(&mut peaks);
    let mut kinds = Vec::new();
    for b in Backend::ALL {
        if Kernels::new(b).is_err() {
            println!("skipped {b}: {}", b.check().unwrap_err());
            continue;
        }
        if matches!(b, Backend::Generic) {
            continue; // scalar twin: see `--bench gemm -- generic` in RESULTS.md (M = 1 only)
        }
        if !matches!(b, Backend::Avx512) {
            kinds.push(Kind::Int8(b)); // Avx512 runs the Avx2 int8 kernel
        }
        if matches!(b, Backend::Avx2 | Backend::AvxVnni | Backend::Avx512Vnni) {
            kinds.push(Kind::Int4(b)); // Avx512 runs the Avx2 int4 kernel
        }
        if !matches!(b, Backend::Avx512Vnni | Backend::AvxVnni) {
            // Avx512Vnni runs the Avx512 float kernels, AvxVnni the Avx2 ones
            kinds.push(Kind::F32(b));
            kinds.push(Kind::F16(b));
        }
    }
    kinds.push(Kind::GemmCrate);
    for &kind in &kinds {
        for &m in &MS {
            for &(k, n) in &KN {
                bench_one(&mut c, kind, m, k, n);
            }
        }
    }
    for &m in &MS[..1] {
        for &(k, n) in &KN[..2] {
            bench_one(&mut c, Kind::Int8(Backend::Generic), m, k, n);
            bench_one(&mut c, Kind::F32(Backend::Generic), m, k, n);
        }
    }
    c.final_summary();
    // Again at the end: the machine is shared, keep the best of both (a conservative ratio).
    measure_peaks(&mut peaks);
    println!("\n{:<28} {:>18} {:>9} {:>8}  peak", "kernel", "shape", "GOP/s", "%peak");
    let samples = SAMPLES.lock().unwrap();
    for kind in kinds.iter().copied().chain([Kind::Int8(Backend::Generic), Kind::F32(Backend::Generic)]) {
        let label = kind.label();
        for (id, secs) in samples.iter().filter(|(id, _)| id.starts_with(&format!("{label}/"))) {
            let shape = &id[label.len() + 1..];
            let dims: Vec<usize> = shape.split('_').map(|s| s[1..].parse().unwrap()).collect();
            let mut s = secs.clone();
            s.sort_by(f64::total_cmp);
            // Best sample, like the peaks: on a shared machine the fastest run is the least disturbed.
            let gops = 2.0 * (dims[0] * dims[1] * dims[2]) as f64 / s[0] / 1e9;
            let peak = peaks.get(kind.peak().name()).copied().unwrap_or(f64::NAN) / 1e9;
            println!(
                "{label:<28} {shape:>18} {gops:9.1} {:7.1}%  {}",
                100.0 * gops / peak,
                kind.peak().name()
            );
        }
    }
}
