//! DAG environment: uncached BGe / linear-Gaussian local scores, cached `log_reward` of a graph,
//! and a forward step (closure update + mask) at d = 20.

use criterion::{Criterion, criterion_group};
use gfn::env::Environment;
use gfn::envs::dag::{Dag, DagConfig, DagEnv, DataSource, SimulationConfig};
use std::hint::black_box;

fn env(score: &str) -> DagEnv {
    let sim = SimulationConfig { nodes: 20, samples: 100, seed: 1, ..SimulationConfig::default() };
    let config =
        DagConfig { data: DataSource::Simulate(sim), score: score.parse().expect("score"), ..DagConfig::default() };
    DagEnv::new(config).expect("valid environment")
}

/// A chain 0 → 1 → … → 19 plus the edges i → i + 2 (node j has two parents).
fn graph(env: &DagEnv) -> Dag {
    let mut g = env.source();
    for v in 0..19 {
        env.step(&mut g, env.add_action(v, v + 1)).expect("acyclic");
    }
    for v in 0..18 {
        env.step(&mut g, env.add_action(v, v + 2)).expect("acyclic");
    }
    g
}

fn scores(c: &mut Criterion) {
    let mut group = c.benchmark_group("dag_d20_n100");
    for score in ["bge", "lingauss"] {
        let env = env(score);
        let g = graph(&env);
        group.bench_function(format!("{score}_local_score_2_parents_uncached"), |b| {
            b.iter(|| env.scorer().local().local_score(black_box(10), black_box(g.parents(10))));
        });
        let _ = env.log_reward(&g);
        group.bench_function(format!("{score}_log_reward_cached"), |b| b.iter(|| env.log_reward(black_box(&g))));
    }
    let env = env("bge");
    let g = graph(&env);
    let mut mask = vec![false; env.action_count()];
    group.bench_function("step_and_forward_mask", |b| {
        b.iter(|| {
            let mut s = g;
            env.step(&mut s, env.add_action(0, 19)).expect("acyclic");
            env.forward_mask(black_box(&s), &mut mask);
        });
    });
    group.finish();
}

criterion_group!(benches, scores);
