//! Tests of the phylogenetics environment against independent constructions.

use gfn_core::check::assert_environment_conforms;
use gfn_core::env::{Enumerable, Environment, EnvironmentExt, PairKind};
use gfn_core::eval::ExactEvaluator;

use super::alignment::{Alignment, MissingCoding};
use super::config::{BranchActions, PhyloConfig, PhyloReward};
use super::env::{FeatureLayout, Forest, PhyloEnv};
use super::fitch::FitchSet;
use super::forest::cut;
use super::likelihood::Partials;
use super::newick::write_newick;
use super::test_data::toy_alignment;

fn parsimony(taxa: usize) -> PhyloEnv {
    PhyloEnv::new(toy_alignment(taxa, 40), PhyloConfig::default()).unwrap()
}

/// JC69 with `bins` bins of width 0.05 and the given branch actions on a toy alignment.
pub(super) fn jc69_with(taxa: usize, bins: usize, branch_actions: BranchActions) -> PhyloEnv {
    let config =
        PhyloConfig { reward: PhyloReward::Jc69, bins, bin_size: 0.05, branch_actions, ..PhyloConfig::default() };
    PhyloEnv::new(toy_alignment(taxa, 30), config).unwrap()
}

fn jc69(taxa: usize, bins: usize) -> PhyloEnv {
    jc69_with(taxa, bins, BranchActions::Joint)
}

fn double_factorial(n: usize) -> usize {
    (1..=n).rev().step_by(2).product()
}

#[test]
fn environments_conform() {
    assert_environment_conforms(&parsimony(4));
    assert_environment_conforms(&parsimony(5));
    assert_environment_conforms(&jc69(4, 2));
}

#[test]
fn terminals_are_the_unrooted_topologies_each_with_one_parent_per_edge() {
    for n in 4..=7 {
        let env = parsimony(n);
        let graph = env.state_graph().unwrap();
        let terminals: Vec<&Forest> = graph.terminals().map(|i| &graph.states[i]).collect();
        assert_eq!(terminals.len(), double_factorial(2 * n - 5), "n = {n}");
        for t in terminals.iter().take(50) {
            assert_eq!(env.parents(t).unwrap().len(), 2 * n - 3);
        }
    }
}

/// Exact enumeration is refused at once (limit 0, `TooManyStates` without exploring) when the
/// terminal trees alone exceed the engine's limit, and offered otherwise.
#[test]
fn enumeration_is_refused_at_once_for_large_tree_spaces() {
    for (env, enumerable) in [
        (parsimony(7), true),
        (parsimony(10), true), // 2 027 025 topologies: still under 2^21, so enumeration is tried
        (parsimony(11), false),
        (parsimony(27), false),
        (jc69(4, 2), true),
        (jc69(5, 50), false), // 15 topologies × 50^7 bin assignments
    ] {
        let what = format!("{} taxa, {} bins", env.taxon_count(), env.bins());
        assert_eq!(env.state_limit() > 0, enumerable, "{what}");
        if !enumerable {
            let err = ExactEvaluator::with_limit(&env, 300_000.min(env.state_limit())).unwrap_err();
            assert!(matches!(err, gfn_core::Error::TooManyStates { limit: 0 }), "{what}: {err}");
        }
    }
}

/// All unrooted topologies over `n` taxa by stepwise addition (independent of the environment), as
/// edge lists over vertices (taxa `0..n`, internal vertices after).
fn stepwise_topologies(n: usize) -> Vec<Vec<(usize, usize)>> {
    let mut trees = vec![vec![(0, n), (1, n), (2, n)]];
    for taxon in 3..n {
        let mut next = Vec::new();
        for edges in &trees {
            let fresh = n + taxon - 2;
            for (e, &(u, v)) in edges.iter().enumerate() {
                let mut grown = edges.clone();
                grown[e] = (u, fresh);
                grown.extend([(fresh, v), (fresh, taxon)]);
                next.push(grown);
            }
        }
        trees = next;
    }
    trees
}

/// The Fitch score of an edge-list tree, rooted on the edge of taxon 0.
fn fitch_score(alignment: &Alignment, edges: &[(usize, usize)], n: usize) -> f64 {
    fn visit(v: usize, from: usize, edges: &[(usize, usize)], n: usize, a: &Alignment, score: &mut f64) -> FitchSet {
        if v < n && from != usize::MAX {
            return FitchSet::leaf(a, v, MissingCoding::AllStates);
        }
        let next: Vec<usize> = edges
            .iter()
            .filter_map(|&(x, y)| {
                if x == v {
                    Some(y)
                } else if y == v {
                    Some(x)
                } else {
                    None
                }
            })
            .collect();
        let sets: Vec<FitchSet> =
            next.iter().filter(|&&w| w != from).map(|&w| visit(w, v, edges, n, a, score)).collect();
        let mut acc = sets[0].clone();
        for s in &sets[1..] {
            let (merged, cost) = FitchSet::merge(&acc, s, a.weights());
            *score += cost;
            acc = merged;
        }
        acc
    }
    let mut score = 0.0;
    let rest = visit(0, usize::MAX, edges, n, alignment, &mut score);
    let (_, cost) =
        FitchSet::merge(&FitchSet::leaf(alignment, 0, MissingCoding::AllStates), &rest, alignment.weights());
    score + cost
}

#[test]
fn exact_target_matches_stepwise_enumeration_of_topologies() {
    let n = 6;
    let env = PhyloEnv::new(toy_alignment(n, 40), PhyloConfig { temperature: 2.0, offset: 30.0, ..Default::default() })
        .unwrap();
    let evaluator = ExactEvaluator::new(&env).unwrap();
    let mut from_env: Vec<f64> = evaluator.terminal_states().map(|t| env.log_reward(t)).collect();
    let mut independent: Vec<f64> =
        stepwise_topologies(n).iter().map(|e| (30.0 - fitch_score(env.alignment(), e, n)) / 2.0).collect();
    assert_eq!(independent.len(), 105);
    from_env.sort_by(f64::total_cmp);
    independent.sort_by(f64::total_cmp);
    assert_eq!(from_env, independent);
    let log_z = independent.iter().map(|x| x.exp()).sum::<f64>().ln();
    assert!((evaluator.log_z() - log_z).abs() < 1e-9);
    let spread = independent.last().unwrap() - independent.first().unwrap();
    assert!(spread > 2.0, "the toy target is not flat: log R spans {spread}");
}

#[test]
fn rewards_do_not_depend_on_the_last_merge() {
    // Cutting any edge of a terminal tree and rejoining the two sides gives the same score.
    let env = jc69(5, 3);
    let graph = env.state_graph().unwrap();
    let weights = env.alignment().weights();
    for t in graph.terminals().take(40) {
        let tree = &graph.states[t].trees[0];
        let log_r = env.tree_log_reward(tree);
        for edge in 0..7 {
            let (a, b, bin) = cut(tree, edge, 5).unwrap();
            let ((pa, prior_a), (pb, prior_b)) = (env.partials_tree(&a), env.partials_tree(&b));
            let rejoined = Partials::combine(&pa, 0.0, &pb, env.config().bin_length(bin));
            let prior = prior_a + prior_b + 10f64.ln() - 10.0 * env.config().bin_length(bin);
            let other = rejoined.log_likelihood(weights) + prior;
            assert!((other - log_r).abs() < 1e-9, "{other} vs {log_r}");
        }
    }
    let env = parsimony(6);
    let graph = env.state_graph().unwrap();
    for t in graph.terminals().take(40) {
        let tree = &graph.states[t].trees[0];
        for edge in 0..9 {
            let (a, b, _) = cut(tree, edge, 6).unwrap();
            let ((sa, ma), (sb, mb)) = (env.fitch_tree(&a), env.fitch_tree(&b));
            let (_, m) = FitchSet::merge(&sa, &sb, env.alignment().weights());
            assert_eq!(ma + mb + m, env.fitch_tree(tree).1);
        }
    }
}

#[test]
fn actions_masks_and_features() {
    let env = jc69(4, 2);
    // P = 6 pairs × 4 bin pairs, then 5 edges × 2 bins, then exit.
    assert_eq!((env.action_count(), env.exit_action()), (6 * 4 + 5 * 2 + 1, 34));
    let layout = env.feature_layout();
    assert_eq!((layout.slots, layout.global_dim), (4, 2));
    assert_eq!(layout.slot_header, FeatureLayout::SLOT_HEADER);
    assert_eq!(layout.slot_dim, FeatureLayout::SLOT_HEADER + 4 * env.alignment().pattern_count());
    let slots = env.slot_layout().expect("a slot layout");
    assert_eq!((slots.slots, slots.slot_dim, slots.global_dim), (layout.slots, layout.slot_dim, layout.global_dim));
    assert_eq!((slots.pairs, slots.per_pair, slots.extra_actions), (PairKind::Unordered, 4, 5 * 2 + 1));
    let mut state = env.source();
    let mut mask = vec![false; env.action_count()];
    env.forward_mask(&state, &mut mask);
    assert_eq!(mask.iter().filter(|m| **m).count(), 24);
    // Merge trees 1 and 3 with bins (1, 0): pair (1, 3) is the 5th in triu order.
    let merge = slots.pair_index(1, 3).expect("a pair") * slots.per_pair + 2;
    assert_eq!(merge, 4 * 4 + 2);
    env.step(&mut state, merge).unwrap();
    assert_eq!(state.trees.len(), 3);
    assert_eq!(state.trees[1].leaves().collect::<Vec<_>>(), [1, 3]);
    env.forward_mask(&state, &mut mask);
    assert_eq!(mask.iter().filter(|m| **m).count(), 3 * 4, "pairs of 3 trees");
    assert!(env.step(&mut state.clone(), 5 * 4).is_err(), "pair (1, 2)... is fine but (2, 3) is not");
    let mut out = vec![0.0; env.feature_dim()];
    env.encode(&state, &mut out);
    assert_eq!(
        (out[0], out[layout.slot_dim], out[2 * layout.slot_dim], out[3 * layout.slot_dim]),
        (1.0, 1.0, 1.0, 0.0)
    );
    assert_eq!(out[layout.slot_dim + 1], 0.5);
    assert_eq!(out[4 * layout.slot_dim], 0.75);
    let partials = &out[layout.slot_dim + 2..2 * layout.slot_dim];
    for p in partials.chunks_exact(4) {
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}

#[test]
fn invalid_configs_and_actions_are_errors() {
    let bad = [
        PhyloConfig { temperature: 0.0, ..Default::default() },
        PhyloConfig { offset: f64::NAN, ..Default::default() },
        PhyloConfig { bins: 0, ..Default::default() },
        PhyloConfig { bin_size: -1.0, ..Default::default() },
        PhyloConfig { prior_rate: f64::INFINITY, ..Default::default() },
    ];
    for config in bad {
        assert!(PhyloEnv::new(toy_alignment(4, 10), config).is_err());
    }
    let too_big = PhyloConfig {
        reward: PhyloReward::Jc69,
        bins: 1024,
        branch_actions: BranchActions::Joint,
        ..Default::default()
    };
    let message = PhyloEnv::new(toy_alignment(20, 10), too_big.clone()).unwrap_err().to_string();
    assert!(message.contains("actions") && message.contains("factorised"), "{message}");
    let factorised = PhyloConfig { branch_actions: BranchActions::Factorised, ..too_big };
    let env = PhyloEnv::new(toy_alignment(20, 10), factorised).expect("factorised actions stay small");
    assert_eq!(env.action_count(), 190 + 1024 + 37 + 1);
    let env = parsimony(4);
    let mut source = env.source();
    assert!(env.step(&mut source, env.exit_action()).is_err());
    assert!(env.step(&mut source, env.action_count()).is_err());
    assert!(env.backward_step(&mut source, 0).is_err());
    assert_eq!(source, env.source(), "failed steps leave the state unchanged");
}

/// Every terminal tree's Newick ([`PhyloEnv::unrooted_tree`]: taxon names, bin lengths) scores, by the independent
/// [`super::score::TreeScorer`] over a parsed tree, exactly as the environment scores it.
#[test]
fn newick_of_terminal_trees_scores_like_the_environment() {
    let scorer_env = jc69(5, 2);
    let scorer = super::score::TreeScorer::new(scorer_env.alignment(), MissingCoding::AllStates);
    let graph = scorer_env.state_graph().unwrap();
    for forest in graph.terminals().map(|i| &graph.states[i]) {
        let tree =
            super::newick::parse_newick("test", &write_newick(&scorer_env.unrooted_tree(forest).unwrap())).unwrap();
        let score = scorer.jc69(&tree, scorer_env.config().prior_rate).unwrap();
        let log_reward = scorer_env.tree_log_reward(&forest.trees[0]);
        assert!((score.log_likelihood + score.log_branch_prior - log_reward).abs() < 1e-9, "{forest:?}");
    }
    let env = parsimony(5);
    let graph = env.state_graph().unwrap();
    let scorer = super::score::TreeScorer::new(env.alignment(), MissingCoding::AllStates);
    for forest in graph.terminals().map(|i| &graph.states[i]) {
        let tree = super::newick::parse_newick("test", &write_newick(&env.unrooted_tree(forest).unwrap())).unwrap();
        assert_eq!(scorer.fitch(&tree).unwrap(), env.fitch_tree(&forest.trees[0]).1);
    }
}

#[test]
fn the_reward_temperature_can_be_changed_and_is_validated() {
    let env = parsimony(4);
    assert_eq!(env.reward_temperature(), Some(1.0));
    let hot = env.with_reward_temperature(4.0).unwrap();
    assert_eq!(hot.reward_temperature(), Some(4.0));
    assert_ne!(hot.signature(), env.signature());
    let graph = env.state_graph().unwrap();
    let x = &graph.states[graph.terminals().next().unwrap()];
    assert_eq!(hot.log_reward(x), env.log_reward(x) / 4.0);
    for bad in [0.0, -1.0, f64::NAN] {
        let err = env.with_reward_temperature(bad).unwrap_err().to_string();
        assert!(err.contains("temperature"), "{err}");
    }
}

/// With `temperature_feature` the last global feature is `ln T`, everything before it is
/// unchanged, and the signature says so.
#[test]
fn temperature_feature_appends_ln_t() {
    for base in [parsimony(4), jc69(4, 2)] {
        let config = PhyloConfig { temperature_feature: true, temperature: 4.0, ..base.config().clone() };
        let env = PhyloEnv::new(base.alignment().clone(), config).unwrap();
        assert_eq!(env.feature_dim(), base.feature_dim() + 1);
        assert_eq!(env.slot_layout().unwrap().global_dim, base.slot_layout().unwrap().global_dim + 1);
        assert!(env.signature().ends_with(":temperature-feature") && !base.signature().contains("feature"));
        let hot = env.with_reward_temperature(16.0).unwrap();
        let mut state = env.source();
        let first = env.children(&state).unwrap()[0].0;
        env.step(&mut state, first).unwrap();
        let features = |e: &PhyloEnv| {
            let mut out = vec![0.0; e.feature_dim()];
            e.encode(&state, &mut out);
            out
        };
        let (plain, cold, hot) = (features(&base), features(&env), features(&hot));
        assert_eq!(&cold[..plain.len()], &plain[..]);
        assert_eq!(&hot[..plain.len()], &plain[..]);
        assert_eq!((cold[plain.len()], hot[plain.len()]), (4f32.ln(), 16f32.ln()));
        assert_environment_conforms(&env);
    }
}
