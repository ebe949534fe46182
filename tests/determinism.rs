//! Same config and seed give the same bits, whatever the thread count; resumed runs are exact.

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

#[test]
fn resume_is_bit_exact() {
    let dir = std::env::temp_dir().join(format!("gfn-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ckpt = dir.join("half.safetensors");
    let straight_metrics = dir.join("straight.jsonl");
    let resumed_metrics = dir.join("resumed.jsonl");

    let mut straight = Trainer::new(env(), config(4000, ObjectiveKind::Tb)).expect("valid");
    let opts = RunOptions { metrics_out: Some(straight_metrics.clone()), ..RunOptions::default() };
    straight.fit(None, &opts).expect("train straight");

    let mut first = Trainer::new(env(), config(2000, ObjectiveKind::Tb)).expect("valid");
    let opts = RunOptions {
        metrics_out: Some(resumed_metrics.clone()),
        checkpoint: Some(ckpt.clone()),
        ..RunOptions::default()
    };
    first.fit(None, &opts).expect("train first half");
    drop(first);
    let mut resumed = Trainer::from_checkpoint(env(), gfn::backend::Cpu, &ckpt).expect("resume");
    resumed.set_iterations(4000);
    let opts = RunOptions { metrics_out: Some(resumed_metrics.clone()), append_metrics: true, ..RunOptions::default() };
    resumed.fit(None, &opts).expect("train second half");

    assert_eq!(fingerprint(&straight), fingerprint(&resumed), "parameters differ after resume");
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
    assert_eq!(strip(&straight_metrics), strip(&resumed_metrics), "metrics differ after resume");
    std::fs::remove_dir_all(&dir).ok();
}
