//! Criterion benchmarks of the workspace (`cargo bench --bench bench_main`).

mod benchmarks;

criterion::criterion_main!(
    benchmarks::mlp::benches,
    benchmarks::per_sample::benches,
    benchmarks::phylo::benches,
    benchmarks::training::benches
);
