//! Tree scores: the DS1 test vectors of DOMAINS §1.4 through the file reader and the Newick
//! parser, and small trees against brute-force sums over all internal-node states.

use std::collections::HashMap;

use super::*;
use crate::phylo::io::{parse_fasta, read_alignment};
use crate::phylo::newick::parse_newick;

fn ds1() -> Alignment {
    read_alignment(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/phylo/DS1.fasta")))
        .unwrap()
}

/// `((((t0,t1),t2),…),t26)` in alignment order, every unrooted edge `0.1` (the two root edges
/// `0.05` each, so together one edge of 0.1).
fn caterpillar(taxa: &[String]) -> String {
    let mut s = format!("({}:0.1,{}:0.1)", taxa[0], taxa[1]);
    for (i, t) in taxa.iter().enumerate().skip(2) {
        let outer = if i == taxa.len() - 1 { 0.05 } else { 0.1 };
        s = format!("({s}:{outer},{t}:{outer})");
    }
    s + ";"
}

#[test]
fn ds1_caterpillar_vectors() {
    let a = ds1();
    let text = caterpillar(a.taxa());
    let tree = parse_newick("caterpillar", &text).unwrap();
    assert_eq!(tree.unrooted_edge_lengths().unwrap().len(), 51);
    let s = score_jc69(&tree, &a, DEFAULT_PRIOR_RATE).unwrap();
    assert!((s.log_likelihood + 14_637.021_077).abs() < 1e-5, "{s:?}");
    assert!((s.log_branch_prior - 66.431_840).abs() < 1e-5, "{s:?}");
    assert!((s.log_topology_prior + 73.145_482).abs() < 1e-6, "{s:?}");
    assert!((s.log_joint - (s.log_likelihood + s.log_branch_prior + s.log_topology_prior)).abs() < 1e-9);
    assert_eq!(fitch_score(&tree, &a, MissingCoding::AllStates).unwrap(), 6675.0);
}

#[test]
fn ds1_paup_most_parsimonious_tree() {
    let a = ds1();
    let paup = "(1,(((((2,((((3,(5,13)),19),((((6,17),21),8),(9,14))),23)),12),24),10),((4,((((11,(16,20)),18),27),15)),25)),((7,22),26));";
    let numbered = parse_newick("paup", paup).unwrap();
    let names: HashMap<String, String> =
        a.taxa().iter().enumerate().map(|(i, t)| ((i + 1).to_string(), t.clone())).collect();
    let tree = numbered.rename_leaves(&names).unwrap();
    assert_eq!(fitch_score(&tree, &a, MissingCoding::AllStates).unwrap(), 4026.0);
}

const SMALL: &str =
    ">a\nACGTRAC-GTNAAC\n>b\nACGTAAC-GTAACC\n>c\nATGCYAGTG?ATAC\n>d\nTCGAAAGTGCATAC\n>e\nACG-WTGTCCATGC\n";

fn small() -> Alignment {
    let raw = parse_fasta("small", SMALL).unwrap();
    Alignment::new(raw.taxa(), raw.sequences()).unwrap()
}

/// The 4-bit likelihood set (gap and missing = all) and 5-bit parsimony set (gap = 5th state,
/// `?`/N = all five) of a character, written out independently of `alignment`.
fn sets(c: u8) -> (u8, u8) {
    match c {
        b'A' => (1, 1),
        b'C' => (2, 2),
        b'G' => (4, 4),
        b'T' => (8, 8),
        b'R' => (5, 5),
        b'Y' => (10, 10),
        b'W' => (9, 9),
        b'-' => (15, 16),
        b'N' | b'?' => (15, 31),
        _ => unreachable!(),
    }
}

/// Brute force over all states of the internal nodes: (log-likelihood, parsimony score).
#[allow(clippy::needless_range_loop, reason = "sites index every sequence")]
fn brute_force(tree: &Tree, seqs: &[Vec<u8>]) -> (f64, f64) {
    let internal: Vec<NodeId> = (0..tree.nodes().len()).filter(|&v| tree.node(v).taxon.is_none()).collect();
    let slot: HashMap<NodeId, usize> = internal.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let p = |t: f64, same: bool| {
        let e = (-4.0 * t / 3.0).exp();
        if same { 0.25 + 0.75 * e } else { 0.25 - 0.25 * e }
    };
    let (mut log_lik, mut parsimony) = (0.0, 0.0);
    for site in 0..seqs[0].len() {
        let (mut lik, mut best) = (0.0, usize::MAX);
        for code in 0..5usize.pow(internal.len() as u32) {
            let state = |v: NodeId| code / 5usize.pow(slot[&v] as u32) % 5;
            let mut changes = 0;
            let mut prob = if internal.iter().all(|&v| state(v) < 4) { 0.25 } else { 0.0 };
            for v in 0..tree.nodes().len() {
                let Some(parent) = tree.node(v).parent else { continue };
                let (x, length) = (state(parent), tree.node(v).length.unwrap());
                match tree.node(v).taxon {
                    Some(t) => {
                        let (lset, pset) = sets(seqs[t][site]);
                        changes += usize::from(pset >> x & 1 == 0);
                        if x < 4 {
                            prob *= (0..4).filter(|y| lset >> y & 1 == 1).map(|y| p(length, x == y)).sum::<f64>();
                        }
                    }
                    None => {
                        changes += usize::from(x != state(v));
                        if x < 4 && state(v) < 4 {
                            prob *= p(length, x == state(v));
                        }
                    }
                }
            }
            lik += prob;
            best = best.min(changes);
        }
        log_lik += lik.ln();
        parsimony += best as f64;
    }
    (log_lik, parsimony)
}

#[test]
fn small_trees_match_brute_force_in_both_root_forms() {
    let a = small();
    let raw = parse_fasta("small", SMALL).unwrap();
    for text in [
        "((a:0.1,b:0.2):0.05,(c:0.3,(d:0.15,e:0.25):0.12):0.07);",
        "(a:0.1,b:0.2,(c:0.3,(d:0.15,e:0.25):0.12):0.12);",
        "((e:0.4,a:0.01):0.3,b:0.2,(d:0.02,c:0.5):0.03);",
    ] {
        let tree = parse_newick("t", text).unwrap().with_taxa(a.taxa()).unwrap();
        let (log_lik, parsimony) = brute_force(&tree, &raw.sequences());
        let ours = log_likelihood(&tree, &a).unwrap();
        assert!((ours - log_lik).abs() < 1e-10, "{text}: {ours} vs {log_lik}");
        assert_eq!(fitch_score(&tree, &a, MissingCoding::AllStates).unwrap(), parsimony, "{text}");
    }
    // The first two are the same unrooted tree with the same edge lengths.
    let rooted = parse_newick("t", "((a:0.1,b:0.2):0.05,(c:0.3,(d:0.15,e:0.25):0.12):0.07);").unwrap();
    let unrooted = parse_newick("t", "(a:0.1,b:0.2,(c:0.3,(d:0.15,e:0.25):0.12):0.12);").unwrap();
    let (r, u) = (score_jc69(&rooted, &a, 10.0).unwrap(), score_jc69(&unrooted, &a, 10.0).unwrap());
    assert!((r.log_likelihood - u.log_likelihood).abs() < 1e-10);
    assert!((r.log_branch_prior - u.log_branch_prior).abs() < 1e-12);
}

#[test]
fn scoring_errors_name_the_problem() {
    let a = small();
    let missing_length = parse_newick("t", "(a:0.1,b:0.2,(c:0.3,(d:0.15,e):0.12):0.12);").unwrap();
    assert!(log_likelihood(&missing_length, &a).unwrap_err().to_string().contains("edge above e"));
    let polytomy = parse_newick("t", "(a,b,(c,d,e));").unwrap();
    assert!(fitch_score(&polytomy, &a, MissingCoding::AllStates).unwrap_err().to_string().contains("3 children"));
    let unknown = parse_newick("t", "(a,b,(c,(d,x)));").unwrap();
    assert!(fitch_score(&unknown, &a, MissingCoding::AllStates).unwrap_err().to_string().contains("'x'"));
    let tree = parse_newick("t", "(a:1,b:1,(c:1,(d:1,e:1):1):1);").unwrap();
    assert!(score_jc69(&tree, &a, 0.0).is_err());
}
