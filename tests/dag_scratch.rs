use gfn::envs::dag::{DagConfig, DagEnv, DagMetrics, DataSource, ExactPosterior, SimulationConfig};
use gfn::prelude::*;
use gfn::train::ObjectiveConfig;

fn var<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

#[test]
fn scratch() {
    let nodes = var("D", 4usize);
    let sim =
        SimulationConfig { nodes, samples: var("N", 100usize), seed: var("SEED", 3u64), ..SimulationConfig::default() };
    let config = DagConfig {
        data: DataSource::Simulate(sim),
        score: std::env::var("SCORE").unwrap_or("bge".into()).parse().unwrap(),
        ..DagConfig::default()
    };
    let env = DagEnv::new(config).unwrap();
    let exact = ExactPosterior::new(&env).unwrap();
    let mut p = exact.distribution().probs().to_vec();
    p.sort_by(|a, b| b.partial_cmp(a).unwrap());
    eprintln!("top posterior probs {:?}", &p[..6]);
    let evaluator = ExactEvaluator::new(&env).unwrap();
    let kind: ObjectiveKind = std::env::var("KIND").unwrap_or("moddb".into()).parse().unwrap();
    let mut config = TrainConfig {
        seed: 1,
        iterations: var("IT", 3000u64),
        batch_size: var("B", 16usize),
        objective: ObjectiveConfig { kind, ..ObjectiveConfig::default() },
        policy: PolicyConfig { hidden: vec![64, 64], ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    config.optim.adam.lr = var("LR", 1e-3);
    config.exploration.epsilon = var("EPS", 0.0);
    config.eval.every = var("EVERY", 500u64);
    if var("HUBER", 0.0) > 0.0 {
        config.objective.residual = gfn::objective::Residual::Huber { delta: var("HUBER", 1.0) };
    }
    config.replay.capacity = var("REPLAY", 0usize);
    let mut trainer = Trainer::new(env, config).unwrap();
    let t = std::time::Instant::now();
    let opts = RunOptions { metrics_out: Some("/tmp/dag_scratch.jsonl".into()), ..RunOptions::default() };
    let summary = trainer.fit(Some(&evaluator), &opts).unwrap();
    eprintln!("jsd {:?} in {:?}", summary.eval.and_then(|e| e.jsd), t.elapsed());
    let (p, _) = evaluator.terminal_distribution(trainer.env(), trainer.policy()).unwrap();
    let model = exact.align(evaluator.terminal_states().zip(p.iter().copied())).unwrap();
    eprintln!("{:?}", DagMetrics::compute(&model, Some(exact.distribution()), None).unwrap());
}
