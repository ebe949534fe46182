//! Engine tests on a hand-written grid: samplers, exact evaluation, training.

mod common;

use common::Grid;
use gfn_core::env::{Enumerable, Environment, EnvironmentExt};
use gfn_core::eval::{Evaluate, ExactEvaluator, MonteCarloEvaluator};
use gfn_core::policy::{BackwardPolicy, Exploration, Policy, PolicyConfig};
use gfn_core::rng::{Purpose, stream};
use gfn_core::sampler::{Draw, sample_backward, sample_forward, sample_forward_range};
use gfn_core::train::{ObjectiveConfig, ObjectiveKind, RunOptions, TrainConfig, Trainer};

fn grid() -> Grid {
    Grid { dim: 2, side: 4, r0: 0.1 }
}

fn policy(backward: BackwardPolicy) -> Policy {
    let env = grid();
    let config = PolicyConfig { hidden: vec![16], backward, ..PolicyConfig::default() };
    let mut rng = stream(0, Purpose::Init, &[]);
    Policy::new(gfn_core::backend::Cpu, &config, env.feature_dim(), env.action_count(), false, &mut rng)
        .expect("policy")
}

#[test]
fn forward_and_backward_trajectories_are_valid() {
    let env = grid();
    let p = policy(BackwardPolicy::Learned);
    let draw = Draw { seed: 1, purpose: Purpose::Forward, round: 0 };
    let fwd = sample_forward(&env, &p, 32, Exploration::default(), draw).expect("sample");
    assert_eq!(fwd.len(), 32);
    for i in 0..fwd.len() {
        let mut s = env.source();
        for &a in fwd.action_path(i) {
            s = env.child(&s, a).expect("valid action");
        }
        assert_eq!(&s, fwd.terminal(i));
        assert_eq!(fwd.actions[fwd.steps(i).end - 1], env.exit_action());
    }
    let terminals: Vec<Vec<u8>> = (0..fwd.len()).map(|i| fwd.terminal(i).clone()).collect();
    let back = sample_backward(&env, &p, &terminals, Draw { purpose: Purpose::Backward, ..draw }).expect("backward");
    for (i, x) in terminals.iter().enumerate() {
        assert_eq!(back.states[back.steps(i).start], env.source());
        assert_eq!(back.terminal(i), x);
        let mut s = env.source();
        for &a in back.action_path(i) {
            s = env.child(&s, a).expect("valid action");
        }
        assert_eq!(&s, x);
    }
}

/// The exact terminal distribution by DP equals brute-force enumeration of trajectories.
#[test]
fn exact_distribution_matches_trajectory_enumeration() {
    let env = grid();
    let p = policy(BackwardPolicy::Uniform);
    let exact = ExactEvaluator::new(&env).expect("enumerable");
    let (dist, _) = exact.terminal_distribution(&env, &p).expect("dp");
    assert!((dist.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    // Brute force: recursive sum over all trajectories.
    fn walk(env: &Grid, p: &Policy, s: Vec<u8>, prob: f64, out: &mut std::collections::HashMap<Vec<u8>, f64>) {
        let mut f = nalgebra::DMatrix::<f32>::zeros(8, 1);
        env.encode(&s, f.as_mut_slice());
        let o = p.infer(&f).expect("infer");
        let mut mask = vec![false; 3];
        env.forward_mask(&s, &mut mask);
        let mut lp = vec![0.0; 3];
        gfn_core::policy::categorical::masked_log_softmax_into(o.forward_logits(0), &mask, &mut lp);
        *out.entry(s.clone()).or_default() += prob * lp[2].exp();
        for a in 0..2 {
            if mask[a] {
                walk(env, p, env.child(&s, a).expect("child"), prob * lp[a].exp(), out);
            }
        }
    }
    let mut brute = std::collections::HashMap::new();
    walk(&env, &p, env.source(), 1.0, &mut brute);
    for (x, pt) in exact.terminal_states().zip(&dist) {
        assert!((brute[x] - pt).abs() < 1e-6, "{x:?}: {} vs {pt}", brute[x]);
    }
}

fn train(kind: ObjectiveKind, backward: BackwardPolicy, iterations: u64) -> f64 {
    let env = Grid { dim: 2, side: 6, r0: 0.1 };
    let evaluator = std::sync::Arc::new(ExactEvaluator::new(&env).expect("enumerable"));
    let config = TrainConfig {
        iterations,
        seed: 2,
        // α-KL's maximum-likelihood half needs larger batches (see tests/convergence.rs).
        batch_size: if kind == ObjectiveKind::Akl { 64 } else { 16 },
        objective: ObjectiveConfig { kind, ..ObjectiveConfig::default() },
        policy: PolicyConfig { hidden: vec![64, 64], backward, ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(env, config).expect("trainer");
    if kind.needs_targets() {
        t.set_target_sampler(evaluator.clone());
    }
    let s = t.fit(Some(evaluator.as_ref()), &RunOptions::default()).expect("fit");
    let l1 = s.eval.and_then(|e| e.l1).expect("l1");
    eprintln!("{kind} {backward:?}: L1 {l1:.4} log Z {:.4} vs {:.4}", s.log_z, evaluator.log_z());
    l1
}

#[test]
fn every_objective_learns_the_small_grid() {
    for kind in ObjectiveKind::ALL {
        let l1 = train(kind, BackwardPolicy::Uniform, 1500);
        assert!(l1 < 0.1, "{kind}: L1 {l1}");
    }
}

#[test]
fn learned_backward_policies_train() {
    for b in [BackwardPolicy::Learned, BackwardPolicy::LearnedShared] {
        let l1 = train(ObjectiveKind::Tb, b, 1500);
        assert!(l1 < 0.1, "{b:?}: L1 {l1}");
    }
}

#[test]
fn monte_carlo_l1_tracks_exact_l1() {
    let env = grid();
    let p = policy(BackwardPolicy::Uniform);
    let exact = ExactEvaluator::new(&env).expect("enumerable").evaluate(&env, &p, 0).expect("exact");
    let mc = MonteCarloEvaluator::new(4000, 64, 3).expect("mc").evaluate(&env, &p, 0).expect("mc");
    let (e, m) = (exact.l1.expect("l1"), mc.l1.expect("l1"));
    assert!((e - m).abs() < 0.05 + 0.1 * e, "exact {e} vs MC {m}");
    assert!((exact.log_z_exact.expect("z") - mc.log_z_exact.expect("z")).abs() < 0.05);
    let _ = env.state_graph().expect("graph").len();
}

#[test]
fn monte_carlo_evaluation_does_not_depend_on_its_chunk_length() {
    let env = grid();
    let p = policy(BackwardPolicy::Uniform);
    let whole = MonteCarloEvaluator::new(50, 3, 7).expect("mc");
    let reference = whole.evaluate(&env, &p, 2).expect("mc");
    // Same trajectories; the f32 matrix kernels may round differently for different row counts.
    let close = |a: Option<f64>, b: Option<f64>| (a.expect("value") - b.expect("value")).abs() < 1e-6;
    for chunk in [1, 4, 7, 49] {
        let chunked = MonteCarloEvaluator { chunk_len: Some(chunk), ..whole }.evaluate(&env, &p, 2).expect("mc");
        assert!(close(chunked.l1, reference.l1), "chunks of {chunk}: {:?} vs {:?}", chunked.l1, reference.l1);
        assert!(close(chunked.log_z_exact, reference.log_z_exact), "chunks of {chunk}");
        assert!(close(chunked.elbo, reference.elbo), "chunks of {chunk}");
    }
    // The ranges of one draw are the trajectories of the whole draw.
    let draw = Draw { seed: 4, purpose: Purpose::Eval, round: 0 };
    let all = sample_forward(&env, &p, 9, Exploration::default(), draw).expect("sample");
    let tail = sample_forward_range(&env, &p, 5..9, Exploration::default(), draw).expect("sample");
    for i in 0..4 {
        assert_eq!(tail.action_path(i), all.action_path(5 + i));
    }
}

#[test]
fn monte_carlo_evaluation_stays_within_its_feature_budget() {
    let env = grid();
    let p = policy(BackwardPolicy::Uniform);
    let unlimited = MonteCarloEvaluator {
        chunk_len: Some(5),
        feature_budget: None,
        ..MonteCarloEvaluator::new(40, 3, 7).expect("mc")
    };
    let full = unlimited.evaluate(&env, &p, 2).expect("mc");
    assert_eq!((full.samples, full.l1_objects), (Some(40), Some(40)));

    // The feature values of the first 10 forward trajectories: half the budget of an evaluation
    // that must then stop after two chunks of 5 and score 3 objects (each costs 3 backward
    // trajectories at the forward trajectories' mean cost).
    let draw = Draw { seed: 7, purpose: Purpose::Eval, round: 2 };
    let first_ten = sample_forward_range(&env, &p, 0..10, Exploration::default(), draw).expect("sample");
    let budget = 2 * first_ten.features.len();
    let limited = MonteCarloEvaluator { feature_budget: Some(budget), ..unlimited }.evaluate(&env, &p, 2).expect("mc");
    assert_eq!((limited.samples, limited.l1_objects), (Some(10), Some(3)));
    let ten = MonteCarloEvaluator { samples: 10, ..unlimited }.evaluate(&env, &p, 2).expect("mc");
    assert_eq!(limited.log_z_exact, ten.log_z_exact);
    assert_eq!(limited.elbo, ten.elbo);
    let l1 = limited.l1.expect("an L1 estimate from 3 objects");
    assert!((0.0..=2.0).contains(&l1), "{l1}");

    // A budget the first chunk exhausts: no backward trajectories, no L1.
    let starved = MonteCarloEvaluator { feature_budget: Some(1), ..unlimited }.evaluate(&env, &p, 2).expect("mc");
    assert_eq!((starved.samples, starved.l1_objects, starved.l1), (Some(5), Some(0), None));
    assert!(starved.log_z_exact.is_some());
}
