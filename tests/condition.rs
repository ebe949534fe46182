//! Temperature-conditioned training (DOMAINS §1.3, PhyloGFN's conditional variant): one policy and
//! one log Z per temperature, trained on batches of randomly drawn temperatures, learns the exact
//! parsimony target at every temperature of the set; the run is deterministic, resumes exactly
//! from a checkpoint, and bad set-ups are errors.

mod support;

use gfn::backend::Cpu;
use gfn::envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn::envs::phylo::config::PhyloConfig;
use gfn::envs::phylo::env::PhyloEnv;
use gfn::envs::phylo::metrics::ParsimonyStats;
use gfn::policy::Architecture;
use gfn::prelude::*;
use gfn::train::{AnnealConfig, AnnealKind, ConditionConfig, ConditionSchedule};
use support::ds1;

const TEMPERATURES: [f64; 3] = [32.0, 16.0, 8.0];

/// Parsimony on DS1's first 5 taxa (15 trees) with the offset at the best score, `ln T` encoded.
fn env(temperature_feature: bool) -> PhyloEnv {
    let scores = PhyloEnv::new(ds1(5), PhyloConfig::default()).expect("valid env");
    let evaluator = ExactEvaluator::new(&scores).expect("enumerable");
    let stats = ParsimonyStats::of_trees(&scores, evaluator.terminal_states()).expect("trees");
    let config = PhyloConfig { temperature: 32.0, offset: stats.min, temperature_feature, ..PhyloConfig::default() };
    PhyloEnv::new(ds1(5), config).expect("valid env")
}

fn config(iterations: u64, schedule: ConditionSchedule) -> TrainConfig {
    TrainConfig {
        seed: 5,
        iterations,
        batch_size: 16,
        policy: PolicyConfig { hidden: vec![64], architecture: Architecture::Pairs, ..PolicyConfig::default() },
        condition: ConditionConfig { temperatures: TEMPERATURES.to_vec(), schedule, ..ConditionConfig::default() },
        ..TrainConfig::default()
    }
}

/// The exact L1 and `|log Z − log Z*|` of the trainer's policy at `temperature`.
fn exact_at(trainer: &mut Trainer<PhyloEnv>, temperature: f64) -> (f64, f64) {
    trainer.condition_on(temperature).expect("a conditioning temperature");
    assert_eq!(trainer.reward_temperature(), Some(temperature));
    let evaluator = ExactEvaluator::new(trainer.env()).expect("enumerable");
    let report = evaluator.evaluate(trainer.env(), trainer.policy(), 0).expect("evaluates");
    let log_z_error = (trainer.log_z().expect("log z") - report.log_z_exact.expect("exact")).abs();
    (report.l1.expect("exact l1"), log_z_error)
}

/// The targets at 32, 16 and 8 differ (L1 between the T = 32 and T = 8 targets is large), yet the
/// one conditioned policy matches each of them, and each temperature's log Z is learned. (With the
/// `ln T` feature alone, without the learned logit scale, the network ignored T: exact L1 0.78 at
/// T = 32 after 3000 iterations while T = 8 was matched; seeds 1–4 here give L1 ≤ 0.11 at every T.)
#[test]
fn one_policy_learns_the_parsimony_target_at_every_temperature() {
    let mut targets = Vec::new();
    for t in TEMPERATURES {
        let e = env(true).with_reward_temperature(t).expect("valid temperature");
        targets.push(ExactEvaluator::new(&e).expect("enumerable").target().to_vec());
    }
    let spread: f64 = targets[0].iter().zip(&targets[2]).map(|(a, b)| (a - b).abs()).sum();
    assert!(spread > 0.3, "the targets at T = 32 and T = 8 differ by L1 {spread}");
    let mut trainer = Trainer::new(env(true), config(2000, ConditionSchedule::Uniform)).expect("valid");
    trainer.fit(None, &RunOptions::default()).expect("training runs");
    // Between steps the trainer stands at the reference (lowest) temperature.
    assert_eq!(trainer.reward_temperature(), Some(8.0));
    for t in TEMPERATURES {
        let (l1, log_z_error) = exact_at(&mut trainer, t);
        eprintln!("conditioned pair policy, 5 DS1 taxa, T = {t}: exact L1 {l1:.4}, |log Z error| {log_z_error:.4}");
        assert!(l1 < 0.15, "T = {t}: exact L1 {l1} >= 0.15");
        assert!(log_z_error < 0.25, "T = {t}: log Z off by {log_z_error}");
    }
}

/// Each temperature's log Z starts at the importance-sampling estimate `log mean w` of the first
/// batch drawn at it (one Adam step of at most `lr_log_z` away after that batch; above the batch's
/// mean log w), and stays at `log_z_init` until then; the step statistics name the batch's
/// temperature.
#[test]
fn each_temperature_starts_log_z_at_its_first_batch() {
    let config = config(100, ConditionSchedule::Uniform);
    let lr = config.optim.lr_log_z;
    let mut trainer = Trainer::new(env(true), config).expect("valid");
    let mut first_seen = Vec::new();
    while first_seen.len() < TEMPERATURES.len() {
        let stats = trainer.step().expect("step");
        let t = stats.reward_temperature.expect("a phylo batch has a temperature");
        assert!(TEMPERATURES.contains(&t), "batch temperature {t}");
        let table = trainer.log_z_by_temperature();
        assert_eq!(table.iter().map(|(t, _)| *t).collect::<Vec<_>>(), TEMPERATURES.to_vec());
        if !first_seen.contains(&t) {
            first_seen.push(t);
            let log_z = table.iter().find(|(u, _)| *u == t).expect("in the table").1;
            eprintln!("T = {t}: first-batch mean log w {:.4}, log Z {log_z:.4}", stats.log_w_mean);
            assert!(log_z > stats.log_w_mean + lr, "T = {t}: log Z {log_z} vs mean log w {}", stats.log_w_mean);
            assert!(log_z.abs() > 2.0 * lr, "T = {t}: log Z {log_z} is still near log_z_init = 0");
        }
        for (u, log_z) in table.iter().filter(|(u, _)| !first_seen.contains(u)) {
            assert_eq!(*log_z, 0.0, "T = {u} not drawn yet");
        }
        for (u, log_z) in table {
            trainer.condition_on(u).expect("in the set");
            assert_eq!(trainer.log_z().expect("log z"), log_z, "T = {u}");
        }
        trainer.condition_on(8.0).expect("back at the reference");
    }
}

/// Same seed, same bits; a run checkpointed half-way and resumed ends with the same parameters
/// and the same log Z table as an uninterrupted one (the annealed schedule draws different
/// temperatures at different iterations, so the draw must follow the iteration).
#[test]
fn conditioned_runs_are_deterministic_and_resume_exactly() {
    let dir = std::env::temp_dir().join(format!("gfn-condition-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let checkpoint = dir.join("half.safetensors");
    let record = serde_json::Value::Null;
    let mut straight = Trainer::new(env(true), config(40, ConditionSchedule::Annealed)).expect("valid");
    let mut first = Trainer::new(env(true), config(40, ConditionSchedule::Annealed)).expect("valid");
    for _ in 0..20 {
        straight.step().expect("step");
        first.step().expect("step");
    }
    first.save_checkpoint(&checkpoint, &record).expect("saves");
    let mut resumed = Trainer::from_checkpoint(env(true), Cpu, &checkpoint).expect("loads");
    for _ in 20..40 {
        straight.step().expect("step");
        resumed.step().expect("step");
    }
    let params = |t: &Trainer<PhyloEnv>| -> Vec<f32> {
        t.policy().params().iter().flat_map(|(_, p)| p.value.as_slice().to_vec()).collect()
    };
    assert_eq!(params(&straight), params(&resumed));
    for t in TEMPERATURES {
        straight.condition_on(t).expect("in the set");
        resumed.condition_on(t).expect("in the set");
        assert_eq!(straight.log_z().expect("log z").to_bits(), resumed.log_z().expect("log z").to_bits(), "T = {t}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn conditioning_needs_a_temperature_the_policy_can_see() {
    let err = Trainer::new(env(false), config(10, ConditionSchedule::Uniform)).expect_err("no feature").to_string();
    assert!(err.contains("temperature_feature"), "{err}");
    let grid = Hypergrid::new(HypergridConfig { ndim: 2, height: 4, ..HypergridConfig::default() }).expect("valid");
    let err = Trainer::new(grid, config(10, ConditionSchedule::Uniform)).expect_err("no temperature").to_string();
    assert!(err.contains("hypergrid") && err.contains("reward temperature"), "{err}");
    let annealed = TrainConfig {
        anneal: AnnealConfig { kind: AnnealKind::Cascading, ..AnnealConfig::default() },
        ..config(10, ConditionSchedule::Uniform)
    };
    let err = Trainer::new(env(true), annealed).expect_err("anneal and condition").to_string();
    assert!(err.contains("anneal") && err.contains("annealed"), "{err}");
    let mut trainer = Trainer::new(env(true), config(10, ConditionSchedule::Uniform)).expect("valid");
    let err = trainer.condition_on(4.0).expect_err("not in the set").to_string();
    assert!(err.contains('4') && err.contains("32"), "{err}");
    let mut plain = Trainer::new(env(true), TrainConfig::default()).expect("valid");
    let err = plain.condition_on(8.0).expect_err("not conditioned").to_string();
    assert!(err.contains("not temperature-conditioned"), "{err}");
}

/// DS1's first 7 taxa (945 trees), T = 8 (offset 1532), where plain TB at T = 8 plateaus at exact
/// L1 0.13–0.36 over 12 000 iterations: conditioned on {32, 16, 8} with the annealed schedule
/// (training hot first), the policy at T = 8 reaches exact L1 < 0.1 (seeds 1, 2, 3: 0.050, 0.027,
/// 0.070 through the CLI; `docs/results/phylo_conditioning/RESULTS.md`). About 12 minutes on one
/// core, so it is not part of the default run: `cargo test --release --test condition -- --ignored`.
#[test]
#[ignore = "about 12 minutes: 12 000 iterations on 945 trees"]
fn annealed_conditioning_learns_the_seven_taxon_parsimony_target() {
    let config = PhyloConfig { temperature: 8.0, offset: 1532.0, temperature_feature: true, ..PhyloConfig::default() };
    let env = PhyloEnv::new(ds1(7), config).expect("valid env");
    let evaluator = ExactEvaluator::new(&env).expect("enumerable");
    let config = TrainConfig {
        seed: 1,
        iterations: 12_000,
        batch_size: 16,
        policy: PolicyConfig { hidden: vec![128, 128], ..PolicyConfig::default() },
        condition: ConditionConfig {
            temperatures: TEMPERATURES.to_vec(),
            schedule: ConditionSchedule::Annealed,
            ..ConditionConfig::default()
        },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(env, config).expect("valid");
    let summary = trainer.fit(Some(&evaluator), &RunOptions::default()).expect("training runs");
    let l1 = summary.eval.and_then(|e| e.l1).expect("exact l1");
    eprintln!("7 DS1 taxa, T = 8, conditioned on {{32, 16, 8}} (annealed): exact L1 {l1:.4}");
    assert!(l1 < 0.1, "exact L1 {l1} >= 0.1");
}
