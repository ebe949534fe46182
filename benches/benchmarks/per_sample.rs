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

/// The full path of the optimal control variates in the trainer: 64 on-policy trajectories of the
/// 4-D, height-8 hypergrid sampled by a 2×256 ReLU policy trained for 200 iterations (one column
/// per state, grouped by trajectory), through a network of that shape from one cached forward pass: the ordinary backward pass of
/// the trunk against the per-trajectory squared score norms (opt-scalar) and score vectors
/// (opt-vector).
fn per_sample_trajectories(c: &mut Criterion) {
    use gfn::envs::hypergrid::{Hypergrid, HypergridConfig};
    use gfn::objective::{OptVectorBaseline, Signal, TermGrads};
    use gfn::policy::{Exploration, PolicyCache};
    use gfn::prelude::*;
    use gfn::rng::Purpose;
    use gfn::sampler::{Draw, sample_forward};
    use gfn::terms::{StepTerms, feature_matrix};

    let env = Hypergrid::new(HypergridConfig { ndim: 4, height: 8, r0: 1e-3, ..HypergridConfig::default() })
        .expect("valid grid");
    let mut config = TrainConfig { batch_size: 16, iterations: u64::MAX, ..TrainConfig::default() };
    config.policy.hidden = vec![256, 256];
    config.policy.activation = Activation::Relu;
    let mut trainer = Trainer::new(env, config).expect("valid config");
    for _ in 0..200 {
        trainer.step().expect("step");
    }
    let env = trainer.env();
    let draw = Draw { seed: 1, purpose: Purpose::Eval, round: 0 };
    let traj = sample_forward(env, trainer.policy(), BATCH, Exploration::default(), draw).expect("batch");
    // A network of the trained one's shape, whose forward pass on the batch is cached.
    let init = &mut gfn::rng::stream(0, Purpose::Init, &[]);
    let mut net =
        Policy::new(Cpu, &trainer.config().policy, env.feature_dim(), env.action_count(), false, init).expect("policy");
    let mut cache = PolicyCache::default();
    let output = net.forward(feature_matrix(&traj), &mut cache).expect("forward");
    let terms = StepTerms::compute(env, &traj, &output, &Default::default()).expect("terms");
    let steps = traj.step_count();
    let unit = TermGrads { log_pf: vec![1.0; steps], log_pb: vec![0.0; steps], ..TermGrads::default() };
    let (d_trunk, _) = terms.logit_grads(&traj, &unit, net.layout(), false, env.exit_action());

    let mut group = c.benchmark_group(format!("per_sample_trajectories_b{BATCH}_{steps}_states"));
    group.bench_function("backward", |bench| {
        bench.iter(|| {
            net.zero_grad().expect("zero_grad");
            net.backward(&cache, black_box(&d_trunk), None).expect("backward");
        });
    });
    group.bench_function("sq_norms", |bench| {
        bench.iter(|| net.trunk_sq_norms(&cache, black_box(&d_trunk), &traj.offsets).expect("norms"));
    });
    // The per-trajectory score vectors alone, a block of parameters at a time (read, not reduced).
    group.bench_function("score_blocks", |bench| {
        bench.iter(|| {
            net.trunk_grad_blocks(&cache, black_box(&d_trunk), &traj.offsets, |_, block| {
                black_box(block);
                Ok(())
            })
            .expect("score blocks")
        });
    });
    // The opt-vector gradient from the score vectors, a block of parameters at a time (what
    // `--cv opt-vector` adds to a step), for a signal of the batch's size.
    let signal = Signal { values: (0..BATCH).map(|i| (i as f64 * 0.37).sin()).collect(), scale: 1.0 / BATCH as f64 };
    let baseline = OptVectorBaseline::new(&signal).expect("baseline");
    let mut theta = vec![0.0; net.trunk_parameter_count()];
    group.bench_function("opt_vector_gradient", |bench| {
        bench.iter(|| {
            net.trunk_grad_blocks(&cache, black_box(&d_trunk), &traj.offsets, |offset, block| {
                let len = block.len() / BATCH;
                baseline.gradient_block(block, &mut theta[offset..offset + len])
            })
            .expect("opt-vector gradient")
        });
    });
    group.finish();
}

criterion_group!(benches, per_sample_norms, per_sample_trajectories);
