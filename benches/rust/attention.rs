//! Fused multi-head attention at encoder shapes, f32 against int8 products, on the selected
//! backend, one thread: one call covers every head of one layer (all query rows of a sequence).
//!
//! `cargo bench -p edgebert-benches --bench attention` (add `-- <filter>`, e.g. `minilm`).
//! Shapes: all-MiniLM-L6-v2 (12 heads of 32) and BERT-base (12 heads of 64) at seq 128 and 512.

use criterion::{BenchmarkId, Criterion, Throughput};
use edgebert_kernels::{AttentionShape, Kernels, Scratch};
use std::hint::black_box;

fn data(len: usize, seed: u32) -> Vec<f32> {
    (0..len).map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 500.0 - 2.0).collect()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let kernels = Kernels::selected();
    for (name, heads, d) in [("minilm", 12, 32), ("bert-base", 12, 64)] {
        for l in [128, 512] {
            let ld = heads * d;
            let (q, k, v) = (data(l * ld, 1), data(l * ld, 2), data(l * ld, 3));
            let shape = AttentionShape { m: l, l, heads, d, ld, scale: 1.0 / (d as f32).sqrt() };
            let mut group = c.benchmark_group(format!("attention/{}/{name}/seq{l}", kernels.backend()));
            // Multiply-adds of the two products (scores and context).
            group.throughput(Throughput::Elements((2 * heads * l * l * d) as u64));
            let (mut ctx, mut scratch) = (vec![0.0; l * ld], Scratch::default());
            group.bench_function(BenchmarkId::from_parameter("f32"), |b| {
                b.iter(|| kernels.attention_f32(black_box(&q), &k, &v, &shape, &mut ctx, &mut scratch))
            });
            group.bench_function(BenchmarkId::from_parameter("int8"), |b| {
                b.iter(|| kernels.attention_i8(black_box(&q), &k, &v, &shape, &mut ctx, &mut scratch))
            });
            group.finish();
        }
    }
    c.final_summary();
}
