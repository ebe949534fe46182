//! Tests of continuous branch lengths (`BranchLengths::Continuous`) against independent scoring.

use gfn_core::env::{ContinuousSteps, Environment};
use gfn_core::eval::ExactEvaluator;

use super::config::{BranchLengths, PhyloConfig, PhyloReward};
use super::env::{Forest, PhyloEnv};
use super::score::score_jc69;
use super::test_data::toy_alignment;

fn continuous(taxa: usize, temperature: f64) -> PhyloEnv {
    let config = PhyloConfig {
        reward: PhyloReward::Jc69,
        branch_lengths: BranchLengths::Continuous,
        temperature,
        ..PhyloConfig::default()
    };
    PhyloEnv::new(toy_alignment(taxa, 30), config).unwrap()
}

/// Takes the first allowed action at every step, with log-lengths `u0 − 0.3 · step` (and the
/// same minus 0.1 for the second value), checking that each backward step restores the parent.
/// Returns the terminal tree and the drawn log-lengths.
fn walk(env: &PhyloEnv, u0: f64) -> (Forest, Vec<f64>) {
    let mut state = env.source();
    let mut drawn = Vec::new();
    let mut mask = vec![false; env.action_count()];
    for step in 0.. {
        env.forward_mask(&state, &mut mask);
        let action = mask.iter().position(|&m| m).unwrap();
        if action == env.exit_action() {
            break;
        }
        let count = env.count(&state, action);
        let values: Vec<f64> = (0..count).map(|c| u0 - 0.3 * f64::from(step) - 0.1 * c as f64).collect();
        assert!(env.clone().step(&mut state.clone(), action).is_err(), "plain steps draw no lengths");
        let parent = state.clone();
        env.step_with(&mut state, action, &values).unwrap();
        drawn.extend(&values);
        env.backward_mask(&state, &mut mask);
        assert!(mask[action], "the parent is reached back by the same action");
        let mut back = state.clone();
        env.backward_step(&mut back, action).unwrap();
        assert_eq!(back, parent);
    }
    (state, drawn)
}

#[test]
fn merges_draw_lengths_and_the_reward_is_the_jc69_density_over_log_lengths() {
    let env = continuous(5, 2.0);
    assert_eq!(env.action_count(), 10 + 7 + 1);
    assert_eq!((env.dim(), env.heads()), (2, 11));
    let (terminal, drawn) = walk(&env, -1.5);
    // 3 merges of 2 lengths and the final merge's fused edge: the 2n − 3 = 7 edges.
    assert_eq!(drawn.len(), 7);
    assert!(terminal.is_terminal());
    let tree = env.unrooted_tree(&terminal).unwrap();
    let score = score_jc69(&tree, env.alignment(), env.config().prior_rate).unwrap();
    let mut lengths: Vec<f64> = tree.unrooted_edge_lengths().unwrap().into_iter().map(|(_, l)| l).collect();
    let mut expected: Vec<f64> = drawn.iter().map(|u| u.exp()).collect();
    lengths.sort_by(f64::total_cmp);
    expected.sort_by(f64::total_cmp);
    for (l, e) in lengths.iter().zip(&expected) {
        assert!((l - e).abs() < 1e-12, "{lengths:?} vs drawn {expected:?}");
    }
    let log_jacobian: f64 = drawn.iter().sum();
    // Tempered as a density over the lengths; the Jacobian of u = log b is not tempered.
    let expected = (score.log_likelihood + score.log_branch_prior) / 2.0 + log_jacobian;
    assert!((env.log_reward(&terminal) - expected).abs() < 1e-9, "{} vs {expected}", env.log_reward(&terminal));
}

#[test]
fn continuous_mode_is_not_enumerable_and_rejects_bad_values() {
    let env = continuous(4, 1.0);
    let err = ExactEvaluator::new(&env).unwrap_err().to_string();
    assert!(err.contains("not enumerable"), "{err}");
    let mut state = env.source();
    assert!(env.step_with(&mut state, 0, &[f64::NAN, -1.0]).is_err());
    assert!(env.step_with(&mut state, 0, &[800.0, -1.0]).is_err(), "e^800 is not a finite length");
    assert!(env.step_with(&mut state, 0, &[-1.0]).is_err(), "a merge draws two values");
    assert_eq!(state, env.source());
    let bins = PhyloEnv::new(toy_alignment(4, 30), PhyloConfig { reward: PhyloReward::Jc69, ..PhyloConfig::default() });
    assert_ne!(env.signature(), bins.unwrap().signature());
    let parsimony = PhyloConfig { branch_lengths: BranchLengths::Continuous, ..PhyloConfig::default() };
    let err = PhyloEnv::new(toy_alignment(4, 30), parsimony).unwrap_err().to_string();
    assert!(err.contains("branch_lengths") && err.contains("continuous") && err.contains("parsimony"), "{err}");
}
