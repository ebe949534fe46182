//! Environment-level tests: conformance, masks, encoding, rewards.

use gfn_core::check::assert_environment_conforms;
use gfn_core::env::{Enumerable as _, Environment, EnvironmentExt as _, PairKind};

use super::*;

fn env(nodes: usize, score: &str) -> DagEnv {
    let sim = SimulationConfig { nodes, samples: 30, seed: 2, ..SimulationConfig::default() };
    DagEnv::new(DagConfig { data: DataSource::Simulate(sim), score: score.parse().unwrap(), ..DagConfig::default() })
        .unwrap()
}

#[test]
fn conforms_for_both_scores() {
    for score in ["bge", "lingauss"] {
        assert_environment_conforms(&env(3, score));
    }
    assert_environment_conforms(&env(4, "bge"));
}

#[test]
fn masks_steps_and_features() {
    let env = env(3, "bge");
    assert_eq!((env.action_count(), env.exit_action(), env.feature_dim()), (10, 9, 36));
    let mut g = env.source();
    env.step(&mut g, env.add_action(0, 1)).unwrap();
    env.step(&mut g, env.add_action(1, 2)).unwrap();
    let mut mask = [false; 10];
    env.forward_mask(&g, &mut mask);
    // Allowed: 0->2 only (1->0 and 2->x close cycles, the rest exist or are self-loops), and stop.
    let allowed: Vec<usize> = (0..10).filter(|&a| mask[a]).collect();
    assert_eq!(allowed, vec![env.add_action(0, 2), 9]);
    env.backward_mask(&g, &mut mask);
    let removable: Vec<usize> = (0..10).filter(|&a| mask[a]).collect();
    assert_eq!(removable, vec![env.add_action(0, 1), env.add_action(1, 2)]);
    assert!(env.step(&mut g, env.add_action(2, 0)).is_err());
    assert!(env.step(&mut g, 9).is_err(), "exit is not a step");
    assert!(env.backward_step(&mut g, env.add_action(0, 2)).is_err());
    let mut out = vec![0.0; 36];
    env.encode(&g, &mut out);
    // Per node: parents, children, addable children, addable parents.
    let slots = [
        [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
    ];
    assert_eq!(out, slots.as_flattened().as_flattened());
    let layout = env.slot_layout().expect("a slot layout");
    assert_eq!((layout.slots, layout.slot_dim, layout.global_dim, layout.pairs), (3, 12, 0, PairKind::Ordered));
    assert_eq!(layout.pair_index(0, 2).map(|p| p * layout.per_pair), Some(env.add_action(0, 2)));
    env.backward_step(&mut g, env.add_action(0, 1)).unwrap();
    assert!(g.can_add(2, 0) && !g.can_add(2, 1));
}

#[test]
fn rewards_are_cached_sums_of_node_terms() {
    let env = env(4, "lingauss");
    let exact = ExactPosterior::new(&env).unwrap();
    let stats = env.cache_stats();
    // 543 DAGs x 4 nodes look-ups; only d * 2^(d-1) = 32 distinct (node, parent set) pairs.
    assert_eq!(stats.entries, 32);
    assert_eq!(stats.misses, 32);
    assert_eq!(stats.hits + stats.misses, 543 * 4);
    let evaluator = gfn_core::eval::ExactEvaluator::new(&env).unwrap();
    assert!((evaluator.log_z() - exact.log_z()).abs() < 1e-9, "the state graph and the enumeration agree");
    let total: f64 = exact.distribution().probs().iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
}

#[test]
fn large_graphs_step_without_enumeration() {
    let env = env(20, "bge");
    assert_eq!(env.action_count(), 401);
    assert!(env.state_graph().is_err(), "no exact evaluation beyond d = 5");
    let mut g = env.source();
    for v in 0..19 {
        env.step(&mut g, env.add_action(v, v + 1)).unwrap();
    }
    assert!(env.can_exit(&g) && env.log_reward(&g).is_finite());
    let mut mask = vec![false; 401];
    env.forward_mask(&g, &mut mask);
    // A path 0 -> ... -> 19: only the 190 - 19 forward pairs i < j without an edge remain, and stop.
    assert_eq!(mask.iter().filter(|m| **m).count(), 171 + 1);
}

#[test]
fn csv_data_builds_an_environment() {
    let dir = std::env::temp_dir().join(format!("gfn-dag-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.csv");
    let sim = SimulationConfig { nodes: 3, samples: 20, ..SimulationConfig::default() }.simulate().unwrap();
    let mut text = String::from("a,b,c\n");
    for i in 0..20 {
        text += &format!("{},{},{}\n", sim.data.get(i, 0), sim.data.get(i, 1), sim.data.get(i, 2));
    }
    std::fs::write(&path, text).unwrap();
    let config = DagConfig { data: DataSource::Csv { path: path.clone() }, ..DagConfig::default() };
    let from_csv = DagEnv::new(config).unwrap();
    assert_eq!(from_csv.data().names(), ["a", "b", "c"]);
    let from_sim = DagEnv::from_dataset(sim.data.clone(), scores::ScoreConfig::default(), Default::default()).unwrap();
    let g = Dag::from_parents(&[0, 0b001, 0b011]).unwrap();
    assert!((from_csv.log_reward(&g) - from_sim.log_reward(&g)).abs() < 1e-9, "Display round-trips f64 exactly");
    std::fs::write(&path, "a,b,c\n1,2,x\n3,4,5\n").unwrap();
    let err = DagEnv::new(from_csv.config().clone()).expect_err("non-numeric cell");
    assert!(err.to_string().contains("line 2"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
