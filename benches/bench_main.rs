//! Criterion benchmarks of the workspace (`cargo bench --bench bench_main`).

mod benchmarks;

/// What `criterion::criterion_main!` generates, after fixing rayon's global pool at one thread:
/// every benchmark here is single-threaded (the standard comparison setting), and a group's setup
/// (e.g. `per_sample`'s trainer) would otherwise start the default pool, with one thread per core,
/// before a later group could ask for one.
fn main() {
    rayon::ThreadPoolBuilder::new().num_threads(1).build_global().expect("the global pool is not started yet");
    benchmarks::dag::benches();
    benchmarks::mlp::benches();
    benchmarks::pair_encoder::benches();
    benchmarks::per_sample::benches();
    benchmarks::phylo::benches();
    benchmarks::training::benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}
