//! One training iteration in the standard comparison setting: hypergrid 4-D, height 8,
//! R0 = 1e-3, trajectory balance, MLP 2×256 ReLU, uniform P_B, batch 16, Adam 1e-3 / log Z 0.1,
//! one thread (rayon's global pool, fixed by `bench_main`). The trainer is warmed up first so trajectories have realistic lengths; each
//! measured call is a real training step (the policy keeps learning while it is measured).

use criterion::{Criterion, criterion_group};
use gfn::envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn::nn::Activation;
use gfn::prelude::*;
use std::hint::black_box;

use super::handwritten_grid::HandwrittenGrid;

/// Warm-up iterations before measuring.
const WARMUP: usize = 1000;

fn trainer() -> Trainer<Hypergrid> {
    let env = Hypergrid::new(HypergridConfig { ndim: 4, height: 8, r0: 1e-3, ..HypergridConfig::default() })
        .expect("valid grid");
    let mut config = TrainConfig { batch_size: 16, iterations: u64::MAX, ..TrainConfig::default() };
    config.policy.hidden = vec![256, 256];
    config.policy.activation = Activation::Relu;
    config.optim.adam.lr = 1e-3;
    config.optim.lr_log_z = 0.1;
    let mut trainer = Trainer::new(env, config).expect("valid config");
    for _ in 0..WARMUP {
        trainer.step().expect("step");
    }
    trainer
}

fn training_iteration(c: &mut Criterion) {
    // One worker thread, as in the comparison setting: `bench_main` fixes the global pool.
    c.bench_function("train_iteration/hypergrid4d_h8_tb_2x256_b16", |b| {
        let mut trainer = trainer();
        b.iter(|| black_box(trainer.step().expect("step")))
    });
}

/// Walks from the source to the far corner of a 4-D, height-8 grid: forward mask, step, backward
/// mask and feature encoding at each of the 28 states (what the sampler does per state).
fn walk<E: Environment>(env: &E, mask: &mut [bool], features: &mut [f32]) -> E::State {
    let mut s = env.source();
    for d in 0..4 {
        for _ in 0..7 {
            env.forward_mask(&s, mask);
            env.step(&mut s, d).expect("step");
            env.backward_mask(&s, mask);
            features.fill(0.0);
            env.encode(&s, features);
        }
    }
    s
}

fn environment_stepping(c: &mut Criterion) {
    let derived = Hypergrid::new(HypergridConfig { ndim: 4, height: 8, ..HypergridConfig::default() }).expect("grid");
    let handwritten = HandwrittenGrid { ndim: 4, height: 8 };
    let mut mask = vec![false; 5];
    let mut features = vec![0.0f32; 32];
    c.bench_function("env_walk_28_states/derived_hypergrid", |b| {
        b.iter(|| black_box(walk(&derived, &mut mask, &mut features)))
    });
    c.bench_function("env_walk_28_states/handwritten_grid", |b| {
        b.iter(|| black_box(walk(&handwritten, &mut mask, &mut features)))
    });
}

criterion_group!(benches, training_iteration, environment_stepping);
