//! Cascading reward-temperature annealing (PhyloGFN, DOMAINS §1.3) through the generic trainer, on
//! DS1's first 6 taxa with the parsimony reward: it halves the temperature on schedule while the
//! best tree is improbable, stops at the floor, and does not fire when the best tree is probable;
//! hybrid environments (continuous branch lengths) anneal and rescore their best tree exactly.

mod support;

use gfn::envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn::envs::phylo::config::{BranchLengths, PhyloConfig, PhyloReward};
use gfn::envs::phylo::env::PhyloEnv;
use gfn::prelude::*;
use gfn::train::{AnnealConfig, AnnealKind};
use support::ds1;

/// Parsimony on 6 DS1 taxa (Fitch scores 1216..=1378) at T = 4 with offset `offset`.
fn env(offset: f64) -> PhyloEnv {
    PhyloEnv::new(ds1(6), PhyloConfig { temperature: 4.0, offset, ..PhyloConfig::default() }).expect("valid env")
}

fn config(anneal: AnnealConfig) -> TrainConfig {
    TrainConfig {
        seed: 3,
        iterations: 70,
        batch_size: 8,
        policy: PolicyConfig { hidden: vec![32], ..PolicyConfig::default() },
        replay: gfn::replay::ReplayConfig {
            capacity: 16,
            kind: gfn::replay::ReplayKind::Prioritized,
            ..Default::default()
        },
        anneal,
        ..TrainConfig::default()
    }
}

fn cascading(interval: Option<u64>) -> AnnealConfig {
    AnnealConfig { kind: AnnealKind::Cascading, interval, ..AnnealConfig::default() }
}

/// Steps `trainer` to its configured iterations and returns the temperature after every step.
fn temperatures(trainer: &mut Trainer<PhyloEnv>) -> Vec<f64> {
    (0..trainer.config().iterations)
        .map(|_| {
            trainer.step().expect("step");
            trainer.reward_temperature().expect("phylo has a reward temperature")
        })
        .collect()
}

/// With C = 0 the best tree has log R ≈ −1216 / T while log Z starts at 0 and moves by about the
/// log-Z learning rate per step, so `exp(log R_best − log Z) ≪ 1e-4` at every check: T halves at
/// iterations 10, 20, 30, 40 (4 → 0.25) and then stays at the floor.
#[test]
fn cascading_schedule_halves_on_the_interval_down_to_the_floor() {
    let mut trainer = Trainer::new(env(0.0), config(cascading(Some(10)))).expect("valid");
    let observed = temperatures(&mut trainer);
    let expected: Vec<f64> = (1..=70u32).map(|k| (4.0 / f64::from(1u32 << (k / 10).min(4))).max(0.25)).collect();
    assert_eq!(observed, expected);
    assert_eq!(trainer.env().config().temperature, 0.25, "the trainer's environment was rebuilt");
    // The best tree's stored log-reward is recomputed at the temperature in effect.
    let best = trainer.best_terminal().expect("replays").expect("a best tree");
    let fitch = trainer.env().fitch_tree(&best.trees[0]).1;
    assert!((1216.0..=1378.0).contains(&fitch), "{fitch}");
    assert_eq!(trainer.best_seen().expect("best").log_reward, -fitch / 0.25);
    assert!(trainer.log_z().expect("log z") - trainer.best_seen().expect("best").log_reward > 9.3);
}

/// With C = 2000 the best tree has log R ≥ (2000 − 1378) / 4 ≈ 155 ≫ log Z, so the model
/// probability bound `exp(log R_best − log Z)` is above the threshold: no check fires. A floor at
/// the initial temperature stops the schedule even when the condition holds.
#[test]
fn cascading_schedule_does_not_fire_when_the_best_tree_is_probable_or_at_the_floor() {
    let mut probable = Trainer::new(env(2000.0), config(cascading(Some(10)))).expect("valid");
    assert!(temperatures(&mut probable).iter().all(|&t| t == 4.0));
    let floor = AnnealConfig { min_temperature: 4.0, ..cascading(Some(10)) };
    let mut at_floor = Trainer::new(env(0.0), config(floor)).expect("valid");
    assert!(temperatures(&mut at_floor).iter().all(|&t| t == 4.0));
    // Without annealing the default interval is resolved (max(30, 70 / 5) = 30) and stored.
    let default_interval = Trainer::new(env(0.0), config(cascading(None))).expect("valid");
    assert_eq!(default_interval.config().anneal.interval, Some(30));
}

#[test]
fn annealing_needs_a_reward_temperature_and_valid_values() {
    let grid = Hypergrid::new(HypergridConfig { ndim: 2, height: 4, ..HypergridConfig::default() }).expect("valid");
    let err = Trainer::new(grid, config(cascading(Some(10)))).expect_err("hypergrid has no temperature").to_string();
    assert!(err.contains("anneal") && err.contains("hypergrid"), "{err}");
    let bad = AnnealConfig { threshold: f64::NAN, ..cascading(None) };
    let err = Trainer::new(env(0.0), config(bad)).expect_err("NaN threshold").to_string();
    assert!(err.contains("anneal.threshold") && err.contains("NaN"), "{err}");
    let bad = AnnealConfig { min_temperature: -0.5, ..cascading(None) };
    let err = Trainer::new(env(0.0), config(bad)).expect_err("negative floor").to_string();
    assert!(err.contains("anneal.min_temperature") && err.contains("-0.5"), "{err}");
}

/// Continuous branch lengths (a hybrid environment) anneal too: the best tree is stored with its
/// drawn lengths, so it is rebuilt and rescored exactly at every new temperature, and the schedule
/// halves the temperature exactly as for the discrete environments.
#[test]
fn hybrid_environments_anneal_and_rescore_the_best_tree() {
    let config = PhyloConfig {
        reward: PhyloReward::Jc69,
        branch_lengths: BranchLengths::Continuous,
        temperature: 4.0,
        ..PhyloConfig::default()
    };
    let env = PhyloEnv::new(ds1(5), config).expect("valid env");
    // C = 0: log R ≈ −2700 / T, far below log Z, so T halves at every check down to the floor.
    let anneal = AnnealConfig { kind: AnnealKind::Cascading, interval: Some(5), ..AnnealConfig::default() };
    let config = TrainConfig {
        seed: 3,
        iterations: 30,
        batch_size: 4,
        policy: PolicyConfig { hidden: vec![16], ..PolicyConfig::default() },
        anneal,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(env, config).expect("annealing is supported");
    let mut observed = Vec::new();
    for _ in 0..30 {
        trainer.step().expect("step");
        observed.push(trainer.reward_temperature().expect("a temperature"));
        // The stored log-reward is the rebuilt tree's log-reward at the temperature in effect.
        let best = trainer.best_terminal().expect("replays").expect("a best tree");
        let stored = trainer.best_seen().expect("a best tree").log_reward;
        let rescored = trainer.env().log_reward(&best);
        assert!((stored - rescored).abs() < 1e-9 * stored.abs(), "stored {stored}, rescored {rescored}");
        // Real lengths, not bins: the tree has all 2n − 3 = 7 edges with positive lengths.
        let tree = trainer.env().unrooted_tree(&best).expect("a tree");
        assert_eq!(tree.unrooted_edge_lengths().expect("lengths").len(), 7);
    }
    let expected: Vec<f64> = (1..=30u32).map(|k| (4.0 / f64::from(1u32 << (k / 5).min(4))).max(0.25)).collect();
    assert_eq!(observed, expected);
}
