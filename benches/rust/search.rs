//! Exact cosine search over 100,000 stored 384-dimensional vectors (all-MiniLM-L6-v2's width),
//! one query at a time, on one thread: the bar of issue 19 is under 5 ms per query. The corpus is
//! the synthetic one of `engine/tests/search_corpus` (the same rows `scripts/search_reference.py` checks
//! by brute force in numpy).
//!
//! `cargo bench -p edgebert-benches --bench search`

use criterion::{criterion_group, criterion_main, Criterion};
#[path = "../../engine/tests/search_corpus/mod.rs"]
mod search_corpus;
use edgebert_engine::search::{StoredPrecision, VectorIndex};
use edgebert_kernels::Kernels;
use search_corpus::{corpus, queries, DIM, ROWS};

fn bench(c: &mut Criterion) {
    let vectors = corpus();
    let queries = queries();
    let kernels = Kernels::selected();
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    let mut group =
        c.benchmark_group(format!("search {ROWS}x{DIM} top-10, 1 thread, {:?}", kernels.backend()));
    group.sample_size(30);
    for precision in [StoredPrecision::F32Screened, StoredPrecision::F32, StoredPrecision::F16] {
        let index = VectorIndex::new(&vectors, DIM, precision).expect("corpus packs");
        let mut q = 0;
        group.bench_function(format!("{precision:?} one query"), |b| {
            b.iter(|| {
                q = (q + 1) % (queries.len() / DIM);
                one_thread
                    .install(|| index.search(kernels, &queries[q * DIM..(q + 1) * DIM], 10).expect("search"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
