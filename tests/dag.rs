//! DAG-GFlowNet learns the exact posterior over DAGs (seeded; exact JSD by dynamic programming over
//! all 25 / 543 DAGs, metrics against the independently enumerated posterior).

use gfn::envs::dag::{DagConfig, DagEnv, DagMetrics, DataSource, ExactPosterior, SimulationConfig};
use gfn::prelude::*;
use gfn::train::ObjectiveConfig;

fn env(nodes: usize, score: &str, seed: u64) -> DagEnv {
    let sim = SimulationConfig { nodes, samples: 100, seed, ..SimulationConfig::default() };
    let config = DagConfig { data: DataSource::Simulate(sim), score: score.parse().expect("score"), ..DagConfig::default() };
    DagEnv::new(config).expect("valid environment")
}

/// Trains `kind` (Adam lr 3e-3, exploration `epsilon`) and returns the metrics of the exact learned
/// distribution. MDB uses ε = 0.1 uniform exploration, as DAG-GFlowNet does: at the default lr
/// 1e-3 and ε = 0, 3,000 iterations leave JSD ≈ 0.39 on the 4-node BGe posterior below, whose mass
/// is spread over many graphs (top probability 0.035). TB does better without exploration here
/// (JSD 0.039 at ε = 0, 0.083 at ε = 0.1).
fn train(env: DagEnv, kind: ObjectiveKind, iterations: u64, epsilon: f64) -> DagMetrics {
    let exact = ExactPosterior::new(&env).expect("enumerable");
    let evaluator = ExactEvaluator::new(&env).expect("enumerable");
    let truth = env.simulation().expect("simulated").graph;
    let mut config = TrainConfig {
        seed: 1,
        iterations,
        batch_size: 16,
        objective: ObjectiveConfig { kind, ..ObjectiveConfig::default() },
        policy: PolicyConfig { hidden: vec![64, 64], ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    config.optim.adam.lr = 3e-3;
    config.exploration.epsilon = epsilon;
    let mut trainer = Trainer::new(env, config).expect("valid config");
    let summary = trainer.fit(Some(&evaluator), &RunOptions::default()).expect("training runs");
    let (p, _) = evaluator.terminal_distribution(trainer.env(), trainer.policy()).expect("exact distribution");
    let model = exact.align(evaluator.terminal_states().zip(p.iter().copied())).expect("same DAGs");
    let metrics = DagMetrics::compute(&model, Some(exact.distribution()), Some(&truth)).expect("metrics");
    let posterior = DagMetrics::compute(exact.distribution(), Some(exact.distribution()), Some(&truth)).expect("metrics");
    let stats = trainer.env().cache_stats();
    eprintln!(
        "{kind} d={}: {metrics:?}\n  exact posterior: E-SHD {:.3}, AUROC {:?}; cache hit rate {:.4} ({} entries)",
        trainer.env().nodes(),
        posterior.expected_shd.unwrap(),
        posterior.auroc,
        stats.hit_rate(),
        stats.entries
    );
    let jsd = summary.eval.and_then(|e| e.jsd).expect("exact jsd");
    assert!((jsd - metrics.jsd.unwrap()).abs() < 1e-9, "the core evaluator and the DAG metrics agree");
    assert!((metrics.expected_shd.unwrap() - posterior.expected_shd.unwrap()).abs() < 0.5);
    metrics
}

fn check(m: &DagMetrics) {
    assert!(m.jsd.unwrap() < 0.05, "JSD {:?}", m.jsd);
    assert!(m.edge_mae.unwrap() < 0.05, "edge MAE {:?}", m.edge_mae);
}

#[test]
fn modified_detailed_balance_learns_the_posterior_over_3_node_dags() {
    check(&train(env(3, "bge", 1), ObjectiveKind::Moddb, 1500, 0.1));
}

#[test]
fn modified_detailed_balance_learns_4_node_posteriors_with_both_scores() {
    check(&train(env(4, "bge", 3), ObjectiveKind::Moddb, 3000, 0.1));
    check(&train(env(4, "lingauss", 2), ObjectiveKind::Moddb, 5000, 0.1));
}

#[test]
fn trajectory_balance_learns_the_posterior_over_4_node_dags() {
    check(&train(env(4, "bge", 3), ObjectiveKind::Tb, 3000, 0.0));
}
