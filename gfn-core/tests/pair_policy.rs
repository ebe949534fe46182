//! Engine tests of the permutation-equivariant pair architecture (`architecture = "pairs"`) on a
//! hand-written graph environment with a slot layout: training to the exact target distribution,
//! bit-exact checkpoint resume, and the errors for environments without a slot layout.

mod common;
#[path = "common/pair_graph.rs"]
mod pair_graph;

use common::Grid;
use gfn_core::Error;
use gfn_core::backend::Cpu;
use gfn_core::check::assert_environment_conforms;
use gfn_core::env::{Environment, PairKind};
use gfn_core::eval::ExactEvaluator;
use gfn_core::policy::{Architecture, BackwardPolicy, Policy, PolicyCache, PolicyConfig};
use gfn_core::rng::{Purpose, stream};
use gfn_core::train::{ObjectiveConfig, ObjectiveKind, RunOptions, TrainConfig, Trainer};
use pair_graph::PairGraph;

fn unordered() -> PairGraph {
    PairGraph { nodes: 4, pairs: PairKind::Unordered, labels: 2, max_edges: 2 }
}

fn ordered() -> PairGraph {
    PairGraph { nodes: 3, pairs: PairKind::Ordered, labels: 2, max_edges: 2 }
}

fn config(kind: ObjectiveKind, backward: BackwardPolicy, iterations: u64) -> TrainConfig {
    TrainConfig {
        iterations,
        seed: 3,
        batch_size: 16,
        objective: ObjectiveConfig { kind, ..ObjectiveConfig::default() },
        policy: PolicyConfig {
            hidden: vec![32, 32],
            backward,
            architecture: Architecture::Pairs,
            ..PolicyConfig::default()
        },
        ..TrainConfig::default()
    }
}

/// The error of a call that must fail.
fn error<T>(result: gfn_core::Result<T>) -> Error {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn the_fixtures_conform() {
    for env in [unordered(), ordered()] {
        assert_environment_conforms(&env);
        let states = ExactEvaluator::new(&env).expect("enumerable").terminal_states().count();
        // 1 empty graph + 6 edges × 2 labels + 15 edge pairs × 4 label pairs.
        assert_eq!(states, 73, "{}", env.name());
    }
}

fn train(env: PairGraph, kind: ObjectiveKind, backward: BackwardPolicy) -> f64 {
    let name = env.name();
    let evaluator = ExactEvaluator::new(&env).expect("enumerable");
    let mut t = Trainer::new(env, config(kind, backward, 1500)).expect("trainer");
    let s = t.fit(Some(&evaluator), &RunOptions::default()).expect("fit");
    let l1 = s.eval.and_then(|e| e.l1).expect("l1");
    eprintln!("{name} {kind} {backward:?}: L1 {l1:.4} log Z {:.4} vs {:.4}", s.log_z, evaluator.log_z());
    l1
}

#[test]
fn the_pair_policy_learns_unordered_and_ordered_pairs() {
    for (env, kind, backward) in [
        (unordered(), ObjectiveKind::Tb, BackwardPolicy::Uniform),
        (ordered(), ObjectiveKind::Tb, BackwardPolicy::Learned),
        (unordered(), ObjectiveKind::Db, BackwardPolicy::LearnedShared),
    ] {
        let name = env.name();
        let l1 = train(env, kind, backward);
        assert!(l1 < 0.1, "{name} {kind} {backward:?}: L1 {l1}");
    }
}

/// Every parameter's bits plus log Z.
fn fingerprint(t: &Trainer<PairGraph>) -> Vec<u32> {
    let mut bits: Vec<u32> =
        t.policy().params().iter().flat_map(|(_, p)| p.value.iter().map(|v| v.to_bits())).collect();
    let z = t.policy().log_z.to_bits();
    bits.extend([z as u32, (z >> 32) as u32]);
    bits
}

#[test]
fn checkpoints_of_the_pair_policy_resume_bit_exactly() {
    let dir = std::env::temp_dir().join(format!("gfn-pair-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ckpt = dir.join("half.safetensors");
    let config = |iterations| config(ObjectiveKind::Tb, BackwardPolicy::Learned, iterations);

    let mut straight = Trainer::new(ordered(), config(80)).expect("trainer");
    straight.fit(None, &RunOptions::default()).expect("straight");
    let mut first = Trainer::new(ordered(), config(40)).expect("trainer");
    first.fit(None, &RunOptions { checkpoint: Some(ckpt.clone()), ..RunOptions::default() }).expect("first half");
    let saved = fingerprint(&first);
    drop(first);

    let mut resumed = Trainer::from_checkpoint(ordered(), Cpu, &ckpt).expect("resume");
    assert_eq!(fingerprint(&resumed), saved, "parameters differ after loading");
    let names: Vec<String> = resumed.policy().params().into_iter().map(|(n, _)| n).collect();
    for want in ["trunk.slot.layers.0.weight", "trunk.pair_in.bias", "backward.pair.layers.1.weight"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    resumed.set_iterations(80);
    resumed.fit(None, &RunOptions::default()).expect("second half");
    assert_eq!(fingerprint(&straight), fingerprint(&resumed), "parameters differ after resume");

    // The same checkpoint does not load into an MLP-shaped policy: its tensors have other names.
    let mut sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("half.safetensors.json")).expect("sidecar"))
            .expect("json");
    sidecar["config"]["policy"]["architecture"] = "mlp".into();
    std::fs::write(dir.join("half.safetensors.json"), sidecar.to_string()).expect("write");
    let e = error(Trainer::from_checkpoint(ordered(), Cpu, &ckpt)).to_string();
    assert!(e.contains("missing tensor policy.trunk.layers.0.weight"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn environments_without_a_slot_layout_are_rejected() {
    let grid = Grid { dim: 2, side: 4, r0: 0.1 };
    let e = error(Trainer::new(grid.clone(), config(ObjectiveKind::Tb, BackwardPolicy::Uniform, 10)));
    assert!(matches!(e, Error::InvalidConfig { field: "policy.architecture", .. }), "{e}");
    assert!(e.to_string().contains("slot layout"), "{e}");
    let pairs = PolicyConfig { architecture: Architecture::Pairs, ..PolicyConfig::default() };
    let mut rng = stream(0, Purpose::Init, &[]);
    let e = error(Policy::new(Cpu, &pairs, grid.feature_dim(), grid.action_count(), false, &mut rng));
    assert!(e.to_string().contains("slot layout"), "{e}");
    // A layout that does not match the environment is named.
    let env = unordered();
    let layout = env.slot_layout();
    let e = error(Policy::with_slots(Cpu, &pairs, env.feature_dim() + 1, env.action_count(), layout, false, &mut rng));
    assert!(e.to_string().contains("slot_layout.feature_dim"), "{e}");
}

#[test]
fn per_sample_gradients_are_refused_for_the_pair_architecture() {
    let env = unordered();
    let mut rng = stream(0, Purpose::Init, &[]);
    let cache = PolicyCache::default();
    let pairs = PolicyConfig { architecture: Architecture::Pairs, ..PolicyConfig::default() };
    let policy = Policy::for_env(Cpu, &pairs, &env, false, &mut rng).expect("policy");
    let e = error(policy.mlp_trunk(&cache)).to_string();
    assert!(e.contains("per-sample") && e.contains("pairs"), "{e}");
    let policy = Policy::for_env(Cpu, &PolicyConfig::default(), &env, false, &mut rng).expect("policy");
    assert_eq!(policy.mlp_trunk(&cache).expect("mlp").0.config().input, env.feature_dim());
}
