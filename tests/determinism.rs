//! Same config and seed give the same bits, whatever the thread count; resumed runs are exact.

mod support;

use gfn::envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn::prelude::*;
use gfn::train::ObjectiveConfig;

fn env() -> Hypergrid {
    Hypergrid::new(HypergridConfig { ndim: 2, height: 8, r0: 0.01, ..HypergridConfig::default() }).expect("valid")
}

fn config(iterations: u64, kind: ObjectiveKind) -> TrainConfig {
    TrainConfig {
        seed: 11,
        iterations,
        batch_size: 8,
        log_every: 100,
        objective: ObjectiveConfig { kind, ..ObjectiveConfig::default() },
        policy: PolicyConfig { hidden: vec![32, 32], backward: BackwardPolicy::Learned, ..PolicyConfig::default() },
        replay: gfn::replay::ReplayConfig { capacity: 64, ..Default::default() },
        exploration: gfn::train::ExplorationConfig { epsilon: 0.1, temperature: 1.0 },
        ..TrainConfig::default()
    }
}

/// Every parameter's bits plus log Z.
fn fingerprint<E: Environment>(t: &Trainer<E>) -> Vec<u32> {
    let mut bits: Vec<u32> =
        t.policy().params().iter().flat_map(|(_, p)| p.value.iter().map(|v| v.to_bits()).collect::<Vec<_>>()).collect();
    let z = t.policy().log_z.to_bits();
    bits.extend([z as u32, (z >> 32) as u32]);
    bits
}

fn losses(config: TrainConfig, threads: usize) -> (Vec<u64>, Vec<u32>) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    pool.install(|| {
        let mut t = Trainer::new(env(), config).expect("valid");
        let losses = (0..60).map(|_| t.step().expect("step").loss.to_bits()).collect();
        (losses, fingerprint(&t))
    })
}

#[test]
fn same_seed_same_bits_across_thread_counts() {
    for kind in [ObjectiveKind::Tb, ObjectiveKind::Subtb] {
        let one = losses(config(60, kind), 1);
        assert_eq!(one, losses(config(60, kind), 1), "{kind}: two identical runs differ");
        assert_eq!(one, losses(config(60, kind), 2), "{kind}: 1 vs 2 threads differ");
    }
}

#[test]
fn different_seeds_differ() {
    let a = losses(config(60, ObjectiveKind::Tb), 1);
    let mut c = config(60, ObjectiveKind::Tb);
    c.seed = 12;
    assert_ne!(a, losses(c, 1));
}

/// Trains `total` iterations straight, and `half` then (from the checkpoint, on a fresh
/// `make_env()`) the rest; the parameters and the metrics lines (wall time aside) must agree.
fn assert_resume_is_bit_exact<E: Environment>(
    tag: &str,
    make_env: impl Fn() -> E,
    config: impl Fn(u64) -> TrainConfig,
    half: u64,
    total: u64,
) -> Vec<serde_json::Value> {
    let dir = std::env::temp_dir().join(format!("gfn-resume-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ckpt = dir.join("half.safetensors");
    let straight_metrics = dir.join("straight.jsonl");
    let resumed_metrics = dir.join("resumed.jsonl");

    let mut straight = Trainer::new(make_env(), config(total)).expect("valid");
    let opts = RunOptions { metrics_out: Some(straight_metrics.clone()), ..RunOptions::default() };
    straight.fit(None, &opts).expect("train straight");

    let mut first = Trainer::new(make_env(), config(half)).expect("valid");
    let opts = RunOptions {
        metrics_out: Some(resumed_metrics.clone()),
        checkpoint: Some(ckpt.clone()),
        ..RunOptions::default()
    };
    first.fit(None, &opts).expect("train first half");
    drop(first);
    let mut resumed = Trainer::from_checkpoint(make_env(), gfn::backend::Cpu, &ckpt).expect("resume");
    resumed.set_iterations(total);
    let opts = RunOptions { metrics_out: Some(resumed_metrics.clone()), append_metrics: true, ..RunOptions::default() };
    resumed.fit(None, &opts).expect("train second half");

    assert_eq!(fingerprint(&straight), fingerprint(&resumed), "{tag}: parameters differ after resume");
    let strip = |path: &std::path::Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .expect("metrics")
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).expect("json line");
                v.as_object_mut().expect("object").remove("elapsed_s");
                v
            })
            .collect()
    };
    let lines = strip(&straight_metrics);
    assert_eq!(lines, strip(&resumed_metrics), "{tag}: metrics differ after resume");
    std::fs::remove_dir_all(&dir).ok();
    lines
}

#[test]
fn resume_is_bit_exact() {
    assert_resume_is_bit_exact("hypergrid", env, |n| config(n, ObjectiveKind::Tb), 2000, 4000);
}

/// Cascading annealing on DS1's first 6 taxa (parsimony, C = 0, so the schedule fires at every
/// check): T halves every 10 iterations from 4 to 0.0625, across the resume point at iteration 40
/// (T = 0.25 there). The resumed trainer starts from the environment at T = 4 and must continue
/// at the saved temperature, with the rescored replay buffer and best tree.
#[test]
fn resume_is_bit_exact_while_annealing() {
    let make_env = || {
        let config = gfn::envs::phylo::config::PhyloConfig { temperature: 4.0, ..Default::default() };
        gfn::envs::phylo::env::PhyloEnv::new(support::ds1(6), config).expect("valid env")
    };
    let config = |iterations| TrainConfig {
        log_every: 10,
        anneal: gfn::train::AnnealConfig {
            kind: gfn::train::AnnealKind::Cascading,
            min_temperature: 0.1,
            interval: Some(10),
            ..Default::default()
        },
        replay: gfn::replay::ReplayConfig {
            capacity: 16,
            kind: gfn::replay::ReplayKind::Prioritized,
            ..Default::default()
        },
        ..config(iterations, ObjectiveKind::Tb)
    };
    let lines = assert_resume_is_bit_exact("anneal", make_env, config, 40, 80);
    let temperatures: Vec<f64> = lines.iter().map(|l| l["reward_temperature"].as_f64().expect("logged")).collect();
    assert_eq!(temperatures, [2.0, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.0625, 0.0625]);
}
