//! Factorised branch actions build the same DAG of forests as joint ones, with pending states in
//! between, and hence the same target.

use std::collections::{BTreeSet, HashMap, HashSet};

use gfn_core::check::{CheckOptions, check_environment};
use gfn_core::env::{Enumerable, Environment, EnvironmentExt, PairKind};
use gfn_core::eval::ExactEvaluator;

use super::config::BranchActions;
use super::env::{FeatureLayout, Forest, Pending, PhyloEnv};
use super::env_tests::jc69_with;

fn double_factorial(n: usize) -> usize {
    (1..=n).rev().step_by(2).product()
}

fn factorised(taxa: usize, bins: usize) -> PhyloEnv {
    jc69_with(taxa, bins, BranchActions::Factorised)
}

#[test]
fn factorised_environments_conform_exhaustively() {
    for (taxa, bins) in [(3, 2), (4, 2), (4, 3), (5, 2)] {
        let env = factorised(taxa, bins);
        let report = check_environment(&env, &CheckOptions::default()).expect("conforms, slot layout included");
        assert!(report.exhaustive, "{taxa} taxa, {bins} bins");
        let terminals = double_factorial(2 * taxa - 5) * bins.pow(2 * taxa as u32 - 3);
        assert_eq!(report.terminals, terminals, "{taxa} taxa, {bins} bins");
    }
}

#[test]
fn factorised_and_joint_modes_have_the_same_terminals_and_log_z() {
    for bins in [2, 3] {
        let joint = ExactEvaluator::new(&jc69_with(4, bins, BranchActions::Joint)).unwrap();
        let factorised_env = factorised(4, bins);
        let factorised = ExactEvaluator::new(&factorised_env).unwrap();
        // (2n − 5)!! = 3 topologies × B^(2n − 3) = B⁵ branch-length assignments.
        assert_eq!(joint.target().len(), 3 * bins.pow(5));
        let rewards = |e: &ExactEvaluator<Forest>| -> HashMap<Forest, f64> {
            e.terminal_states().cloned().zip(e.target().iter().copied()).collect()
        };
        let (a, b) = (rewards(&joint), rewards(&factorised));
        assert_eq!(a.keys().collect::<HashSet<_>>(), b.keys().collect::<HashSet<_>>());
        for (tree, p) in &a {
            assert!((p - b[tree]).abs() < 1e-12, "{tree:?}: {p} vs {}", b[tree]);
            assert!(tree.pending.is_none());
        }
        assert!((joint.log_z() - factorised.log_z()).abs() < 1e-9);
        assert_eq!(factorised_env.action_count(), 6 + bins + 5 + 1);
    }
}

/// The settled (no pending merge) ancestors of `state` reached through pending states only.
fn settled_parents(env: &PhyloEnv, state: &Forest) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, parent) in env.parents(state).unwrap() {
        if parent.pending.is_none() {
            out.insert(format!("{parent:?}"));
        } else {
            assert_eq!(env.parents(&parent).unwrap().len(), 1, "a pending state has one parent: {parent:?}");
            out.extend(settled_parents(env, &parent));
        }
    }
    out
}

#[test]
fn settled_states_and_their_parents_are_the_joint_dag() {
    let (joint, factorised) = (jc69_with(4, 2, BranchActions::Joint), factorised(4, 2));
    let (jg, fg) = (joint.state_graph().unwrap(), factorised.state_graph().unwrap());
    let settled: Vec<&Forest> = fg.states.iter().filter(|s| s.pending.is_none()).collect();
    assert_eq!(settled.len(), jg.len());
    let mut pending_kinds = [0usize; 4];
    for s in fg.states.iter().filter_map(|s| s.pending) {
        pending_kinds[match s {
            Pending::Pair { .. } => 0,
            Pending::Left { .. } => 1,
            Pending::Ready { .. } => 2,
            Pending::Fused { .. } => 3,
        }] += 1;
    }
    assert!(pending_kinds.iter().all(|&c| c > 0), "{pending_kinds:?}");
    for state in settled {
        assert!(jg.index_of(state).is_some(), "{state:?}");
        let expected: BTreeSet<String> =
            joint.parents(state).unwrap().into_iter().map(|(_, p)| format!("{p:?}")).collect();
        // One parent per non-leaf tree (per edge at an unrooted tree), as in the joint mode.
        assert_eq!(factorised.parents(state).unwrap().len(), expected.len(), "{state:?}");
        assert_eq!(settled_parents(&factorised, state), expected, "{state:?}");
    }
}

#[test]
fn pending_merges_are_encoded_and_distinguish_states() {
    let env = factorised(4, 2);
    let layout = env.feature_layout();
    assert_eq!(layout.slot_header, FeatureLayout::SLOT_HEADER + FeatureLayout::PENDING_FLAGS);
    assert_eq!(layout.global_dim, FeatureLayout::GLOBAL + FeatureLayout::PHASES + 2 * 2);
    let slots = env.slot_layout().expect("a slot layout");
    assert_eq!((slots.pairs, slots.per_pair, slots.extra_actions), (PairKind::Unordered, 1, 2 + 5 + 1));
    // Every non-terminal state has its own features (terminal trees only exit, and their root
    // vector at the virtual root next to taxon 0 is taxon 0's own characters).
    let graph = env.state_graph().unwrap();
    let mut seen = HashMap::new();
    for state in graph.states.iter().filter(|s| !s.is_terminal()) {
        let mut out = vec![0.0f32; env.feature_dim()];
        env.encode(state, &mut out);
        let bits: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
        if let Some(other) = seen.insert(bits, state.clone()) {
            panic!("{state:?} and {other:?} have the same features");
        }
    }
    // Merge trees 1 and 3 with bins (1, 0): the flags and one-hot bins follow the steps.
    let mut state = env.source();
    let global = layout.slots * layout.slot_dim;
    let pair = slots.pair_index(1, 3).unwrap();
    for (action, phase) in [(pair, 0), (6 + 1, 1), (6, 2)] {
        env.step(&mut state, action).unwrap();
        let mut out = vec![0.0f32; env.feature_dim()];
        env.encode(&state, &mut out);
        assert_eq!((out[layout.slot_dim + 2], out[3 * layout.slot_dim + 3]), (1.0, 1.0), "left and right flags");
        assert_eq!(out[global + 2 + phase], 1.0);
        assert_eq!(out[global + 6 + 1], if phase > 0 { 1.0 } else { 0.0 }, "left bin 1");
        assert_eq!(out[global + 8], if phase > 1 { 1.0 } else { 0.0 }, "right bin 0");
    }
    assert_eq!(state.pending, Some(Pending::Ready { i: 1, j: 3, left: 1, right: 0 }));
    let mut mask = vec![false; env.action_count()];
    env.forward_mask(&state, &mut mask);
    assert_eq!(mask.iter().filter(|m| **m).count(), 1, "the commit is forced");
    env.step(&mut state, pair).unwrap();
    assert_eq!((state.trees.len(), state.pending), (3, None));
    assert_eq!(format!("{:?}", state.trees[1]), "(1:1,3:0)");
}

#[test]
fn invalid_factorised_actions_are_errors_that_leave_the_state() {
    let env = factorised(4, 2);
    let (pair01, pair02, bin0, edge0) = (0, 1, 6, 8);
    let mut state = env.source();
    for bad in [bin0, edge0, env.exit_action(), env.action_count()] {
        assert!(env.step(&mut state, bad).is_err(), "action {bad} at the source");
    }
    env.step(&mut state, pair01).unwrap();
    let chosen = state.clone();
    assert!(env.step(&mut state, pair02).is_err(), "a second pair before the bins");
    assert!(env.backward_step(&mut state, pair02).is_err(), "another pair's parent");
    env.step(&mut state, bin0).unwrap();
    env.step(&mut state, bin0 + 1).unwrap();
    let message = env.step(&mut state, pair02).unwrap_err().to_string();
    assert!(message.contains("pending merge"), "{message}");
    assert!(env.backward_step(&mut state, bin0).is_err(), "the right bin was 1");
    env.backward_step(&mut state, bin0 + 1).unwrap();
    env.backward_step(&mut state, bin0).unwrap();
    assert_eq!(state, chosen);
    env.backward_step(&mut state, pair01).unwrap();
    assert_eq!(state, env.source());
}

#[test]
fn terminal_trees_round_trip_through_newick_with_their_scores() {
    use super::alignment::MissingCoding;
    use super::newick::{parse_newick, write_newick};
    use super::score::TreeScorer;
    let env = factorised(5, 2);
    let scorer = TreeScorer::new(env.alignment(), MissingCoding::AllStates);
    let graph = env.state_graph().unwrap();
    let mut topologies = HashSet::new();
    for t in graph.terminals() {
        let state = &graph.states[t];
        let newick = write_newick(&env.unrooted_tree(state).unwrap());
        let parsed = parse_newick("sample", &newick).unwrap().with_taxa(env.alignment().taxa()).unwrap();
        parsed.check_binary().unwrap();
        let score = scorer.jc69(&parsed, env.config().prior_rate).unwrap();
        let log_r = env.tree_log_reward(&state.trees[0]);
        assert!((score.log_likelihood + score.log_branch_prior - log_r).abs() < 1e-9, "{newick}");
        topologies.insert(format!("{:?}", super::splits::SplitFrequencies::from_trees(&[parsed]).unwrap().records()));
    }
    assert_eq!(topologies.len(), 15, "every unrooted topology of 5 taxa is visited");
    let forest = env.source();
    assert!(env.unrooted_tree(&forest).unwrap_err().to_string().contains("not a terminal"));
}
