//! Simulation: uniform topologies, Exponential lengths, JC69 substitution rates, determinism and
//! write → read round trips in every alignment format.

use std::collections::HashMap;

use super::*;
use crate::phylo::io::{Format, parse_alignment, write_alignment};
use crate::phylo::newick::{parse_newick, write_newick};
use crate::phylo::splits::tree_splits;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("x{i}")).collect()
}

#[test]
fn topologies_are_uniform() {
    // 5 taxa: 15 unrooted topologies, each identified by its two non-trivial splits.
    let draws = 6000;
    let mut counts: HashMap<Vec<Vec<usize>>, usize> = HashMap::new();
    let mut rng = stream(11, Purpose::User, &[1]);
    for _ in 0..draws {
        let tree = random_tree(names(5), 10.0, &mut rng).unwrap();
        tree.check_binary().unwrap();
        let mut key: Vec<Vec<usize>> = tree_splits(&tree).iter().map(|s| s.taxa()).collect();
        key.sort();
        *counts.entry(key).or_default() += 1;
    }
    assert_eq!(counts.len(), 15);
    let expected = draws as f64 / 15.0;
    let chi2: f64 = counts.values().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    assert!(chi2 < 36.1, "chi-square {chi2} with 14 degrees of freedom (p < 0.001)"); // 36.12 = 99.9 % quantile
}

#[test]
fn branch_lengths_are_exponential() {
    let mut rng = stream(3, Purpose::User, &[2]);
    let lengths: Vec<f64> = (0..40)
        .flat_map(|_| random_tree(names(30), 10.0, &mut rng).unwrap().unrooted_edge_lengths().unwrap())
        .map(|(_, l)| l)
        .collect();
    assert_eq!(lengths.len(), 40 * 57);
    let mean = lengths.iter().sum::<f64>() / lengths.len() as f64;
    // Mean 0.1, standard error 0.1 / sqrt(2280) ≈ 0.0021.
    assert!((mean - 0.1).abs() < 0.01, "mean {mean}");
    let above = lengths.iter().filter(|&&l| l > 0.1).count() as f64 / lengths.len() as f64;
    assert!((above - (-1.0f64).exp()).abs() < 0.04, "P(l > 0.1) = {above}");
}

#[test]
fn jc69_differences_match_the_transition_probabilities() {
    let tree = parse_newick("star", "(a:0.1,b:0.2,c:0.6);").unwrap();
    let sites = 40_000;
    let seqs = simulate_jc69(&tree, sites, &mut stream(5, Purpose::User, &[3])).unwrap();
    for (i, j, d) in [(0, 1, 0.3), (0, 2, 0.7), (1, 2, 0.8)] {
        let p = seqs[i].iter().zip(&seqs[j]).filter(|(x, y)| x != y).count() as f64 / sites as f64;
        let expected = 0.75 * (1.0 - (-4.0 * d / 3.0_f64).exp());
        let se = (expected * (1.0 - expected) / sites as f64).sqrt();
        assert!((p - expected).abs() < 5.0 * se, "pair ({i},{j}): {p} vs {expected}");
    }
}

#[test]
fn simulation_is_deterministic_and_round_trips() {
    let sim = simulate(8, 200, 10.0, 42).unwrap();
    assert_eq!(sim, simulate(8, 200, 10.0, 42).unwrap());
    assert_ne!(sim.sequences, simulate(8, 200, 10.0, 43).unwrap().sequences);
    assert_eq!(parse_newick("sim", &write_newick(&sim.tree)).unwrap().with_taxa(&sim.taxa).unwrap(), sim.tree);
    for format in [Format::Fasta, Format::Phylip, Format::Nexus] {
        let text = write_alignment(&sim.taxa, &sim.sequences, format).unwrap();
        let raw = parse_alignment("sim", &text, format).unwrap();
        assert_eq!((raw.taxa(), raw.sequences()), (sim.taxa.clone(), sim.sequences.clone()), "{format:?}");
    }
    assert!(simulate(2, 10, 10.0, 0).is_err());
    assert!(simulate(5, 0, 10.0, 0).is_err());
    assert!(simulate(5, 10, -1.0, 0).is_err());
}
