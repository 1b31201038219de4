//! Open + validate time of a blob (mmap, header, index checksum, every TOC rule), for blobs laid
//! out like all-MiniLM-L6-v2 int8 (23.6 MB) and like a 12-layer, 768-wide BERT-base int8 (~110 MB,
//! 2× the tensors, 4.7× the bytes): the cost must follow the index, not the file size.
//!
//! `cargo bench -p edgebert-benches --bench blob_open`. Set `EDGEBERT_BENCH_BLOB=path.ebq` to also
//! time a real converted blob (e.g. from `edgebert convert`).

use criterion::{criterion_group, criterion_main, Criterion};
#[path = "../../engine/tests/blob_common/shaped.rs"]
mod shaped;
use edgebert_engine::blob::{parse, Blob};
use shaped::{write_blob, Shape};
use std::path::PathBuf;

fn bench(c: &mut Criterion) {
    let shapes = [
        Shape { name: "minilm-l6-int8", hidden: 384, layers: 6 },
        Shape { name: "bert-base-int8", hidden: 768, layers: 12 },
    ];
    let mut group = c.benchmark_group("blob_open");
    for s in &shapes {
        let path = write_blob(s);
        let blob = Blob::open(&path).expect("bench blob opens");
        blob.verify().expect("bench blob verifies");
        let label = format!(
            "{} ({} tensors, {:.1} MB)",
            s.name,
            blob.tensors().len(),
            blob.bytes().len() as f64 / 1e6
        );
        // Validation alone, on bytes already mapped: what open costs beyond the mmap syscalls.
        group.bench_function(format!("validate only: {label}"), |b| {
            b.iter(|| parse(blob.bytes()).expect("valid"))
        });
        drop(blob);
        group.bench_function(label, |b| b.iter(|| Blob::open(&path).expect("opens")));
        let _ = std::fs::remove_file(&path);
    }
    if let Some(path) = std::env::var_os("EDGEBERT_BENCH_BLOB") {
        let blob = Blob::open(&path).expect("EDGEBERT_BENCH_BLOB opens");
        let label = format!(
            "{} ({} tensors, {:.1} MB)",
            PathBuf::from(&path).display(),
            blob.tensors().len(),
            blob.bytes().len() as f64 / 1e6
        );
        group.bench_function(label, |b| b.iter(|| Blob::open(&path).expect("opens").model_info().is_ok()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
