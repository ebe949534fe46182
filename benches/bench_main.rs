//! Criterion benchmarks of the workspace (`cargo bench --bench bench_main`).

mod benchmarks;

criterion::criterion_main!(
    benchmarks::dag::benches,
    benchmarks::mlp::benches,
    benchmarks::pair_encoder::benches,
    benchmarks::per_sample::benches,
    benchmarks::phylo::benches,
    benchmarks::training::benches
);
