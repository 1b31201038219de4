//! The search bar of issue 19, exactness half: over 100,000 stored 384-dimensional vectors, the
//! top-10 of every query is the one numpy's brute force gives (scripts/search_reference.py,
//! float64 cosines, output checked in as tests/data/search_top10.json). The speed half is the
//! criterion bench `benches/search.rs`.

mod search_corpus;

use edgebert_engine::search::{StoredPrecision, VectorIndex};
use edgebert_kernels::Kernels;
use search_corpus::{corpus, queries, values, DIM, QUERIES, ROWS};
use serde_json::Value;

#[test]
fn top10_equals_numpy_brute_force_over_100k_rows() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/search_top10.json");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(expected["rows"].as_u64(), Some(ROWS as u64));
    let first: Vec<f32> =
        expected["first_values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    assert_eq!(first, values(0, 4), "the Rust and numpy generators build the same corpus");
    let (vectors, queries) = (corpus(), queries());
    let want: Vec<(Vec<usize>, Vec<f64>)> = expected["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let rows = t["rows"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            let scores = t["scores"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            (rows, scores)
        })
        .collect();
    assert_eq!(want.len(), QUERIES);
    for precision in [StoredPrecision::F32Screened, StoredPrecision::F32] {
        let index = VectorIndex::new(&vectors, DIM, precision).unwrap();
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            // All queries in one call, and each alone (a one-row GEMM), must agree.
            let batch = pool.install(|| index.search(Kernels::selected(), &queries, 10)).unwrap();
            for (q, (rows, scores)) in want.iter().enumerate() {
                let alone = pool
                    .install(|| index.search(Kernels::selected(), &queries[q * DIM..(q + 1) * DIM], 10))
                    .unwrap();
                for hits in [&batch[q], &alone[0]] {
                    let got: Vec<usize> = hits.iter().map(|h| h.index).collect();
                    assert_eq!(&got, rows, "{precision:?}, {threads} threads, query {q}");
                    for (h, &s) in hits.iter().zip(scores) {
                        assert!(
                            (h.score as f64 - s).abs() < 1e-5,
                            "{precision:?} query {q}: {} vs {s}",
                            h.score
                        );
                    }
                }
            }
        }
    }
}
