//! Per-query latency of exact search over the 100,000 x 384 synthetic corpus of the search bar
//! (engine/tests/search_corpus), one thread, with both wall time and the thread's own on-CPU
//! time (from /proc/thread-self/schedstat on Linux): on a shared, overloaded machine wall time
//! mostly measures waiting for a core, on-CPU time what the search itself costs.
//!
//! `cargo run --release -p edgebert-engine --example search_latency [QUERIES]`

#[path = "../tests/search_corpus/mod.rs"]
mod search_corpus;
use edgebert_engine::search::{StoredPrecision, VectorIndex};
use edgebert_kernels::Kernels;
use search_corpus::{corpus, values, DIM, ROWS};
use std::time::Instant;

/// Nanoseconds this thread has run on a CPU, when the kernel tells.
fn on_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let vectors = corpus();
    let queries = values(ROWS * DIM, runs * DIM);
    let kernels = Kernels::selected();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    println!("{ROWS} x {DIM}, top-10, one thread, {:?}, {runs} queries", kernels.backend());
    for precision in [StoredPrecision::F32Screened, StoredPrecision::F32, StoredPrecision::F16] {
        let index = VectorIndex::new(&vectors, DIM, precision).expect("corpus packs");
        let (mut wall, mut cpu) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        pool.install(|| {
            for q in queries.chunks_exact(DIM) {
                let (t, c) = (Instant::now(), on_cpu_ns());
                std::hint::black_box(index.search(kernels, q, 10).expect("search"));
                wall.push(t.elapsed().as_secs_f64() * 1e3);
                if let (Some(c0), Some(c1)) = (c, on_cpu_ns()) {
                    cpu.push((c1 - c0) as f64 / 1e6);
                }
            }
        });
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        let p90 = |v: &[f64]| v.get(v.len() * 9 / 10).copied().unwrap_or(f64::NAN);
        let (mw, mc) = (median(&mut wall), median(&mut cpu));
        println!(
            "{:<12} wall median {mw:7.2} ms p90 {:7.2} ms | on-CPU median {mc:7.2} ms p90 {:7.2} ms",
            format!("{precision:?}"),
            p90(&wall),
            p90(&cpu)
        );
    }
}
