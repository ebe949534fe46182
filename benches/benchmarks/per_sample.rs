//! Per-sample gradient norms (the optimal control variates' input) against an ordinary backward
//! pass on the target policy network 32 → 256 → 256 → 5 (ReLU) at batch 64, from the same cached
//! forward pass.

use criterion::{Criterion, criterion_group};
use gfn::backend::Cpu;
use gfn::nn::{Activation, Init, Mlp, MlpCache, MlpConfig, per_sample};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::hint::black_box;

const BATCH: usize = 64;

fn per_sample_norms(c: &mut Criterion) {
    let config = MlpConfig {
        input: 32,
        hidden: vec![256, 256],
        output: 5,
        activation: Activation::Relu,
        init: Init::KaimingUniform,
    };
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = Mlp::new(&Cpu, &config, &mut rng).expect("valid config");
    let x = DMatrix::from_fn(32, BATCH, |_, _| rng.random_range(-1.0..1.0));
    let d_output = DMatrix::from_fn(5, BATCH, |_, _| rng.random_range(-1.0..1.0));
    let mut cache = MlpCache::new();
    net.forward(&Cpu, &x, &mut cache).expect("forward");
    let singles: Vec<usize> = (0..=BATCH).collect();
    let trajectories: Vec<usize> = (0..=BATCH / 8).map(|i| 8 * i).collect();

    let mut group = c.benchmark_group("per_sample_32_256_256_5_batch_64");
    group.bench_function("backward", |bench| {
        bench.iter(|| {
            net.zero_grad(&Cpu).expect("zero_grad");
            net.backward(&Cpu, &cache, black_box(&d_output)).expect("backward");
        });
    });
    group.bench_function("sq_norms_per_column", |bench| {
        bench.iter(|| per_sample::sq_norms(&net, &cache, black_box(&d_output), &singles).expect("norms"));
    });
    group.bench_function("sq_norms_per_8_column_group", |bench| {
        bench.iter(|| per_sample::sq_norms(&net, &cache, black_box(&d_output), &trajectories).expect("norms"));
    });
    group.finish();
}

criterion_group!(benches, per_sample_norms);
