//! Split extraction, frequencies, the majority-rule consensus and sample comparison.

use super::*;
use crate::phylo::newick::{parse_newick, parse_newick_trees, write_newick};
use crate::phylo::simulate::random_tree;
use gfn_core::rng::{Purpose, stream};

fn patterns(tree: &Tree) -> BTreeSet<String> {
    tree_splits(tree).iter().map(Split::pattern).collect()
}

#[test]
fn splits_do_not_depend_on_the_root_or_leaf_order() {
    let rooted = parse_newick("t", "((a,b),((c,d),e));").unwrap();
    let unrooted = parse_newick("t", "(a,b,((c,d),e));").unwrap();
    let rotated = parse_newick("t", "(e,(d,c),(b,a));").unwrap().with_taxa(rooted.taxa()).unwrap();
    let expected: BTreeSet<String> = ["..***", "..**."].iter().map(|s| s.to_string()).collect();
    assert_eq!(patterns(&rooted), expected);
    assert_eq!(patterns(&unrooted), expected);
    assert_eq!(patterns(&rotated), expected);
    assert_eq!(tree_splits(&parse_newick("t", "(a,b,c,d,e);").unwrap()).len(), 0);
}

#[test]
fn frequencies_consensus_and_comparison() {
    let text = "((a,b),(c,d),(e,f));\n((a,b),(c,e),(d,f));\n(((b,a),(c,d)),e,f);\n((a,c),(b,d),(e,f));\n";
    let trees = parse_newick_trees("t", text).unwrap();
    let freq = SplitFrequencies::from_trees(&trees).unwrap();
    assert_eq!(freq.tree_count(), 4);
    let get = |p: &str| freq.records().into_iter().find(|r| r.pattern == p).map_or(0.0, |r| r.frequency);
    assert_eq!(get("..****"), 0.75); // {c,d,e,f} = {a,b}
    assert_eq!(get("..**.."), 0.5); // {c,d}
    assert_eq!(get("....**"), 0.75); // {e,f}
    assert_eq!(get("..*.*."), 0.25); // {c,e}
    assert_eq!(get("..***."), 0.0); // {c,d,e}: in no tree
    // {a,b} and {e,f} are in more than half of the trees.
    let consensus = freq.majority_consensus().unwrap();
    assert_eq!(patterns(&consensus), ["..****".to_string(), "....**".to_string()].into_iter().collect());
    assert_eq!(write_newick(&consensus), "(a,b,(c,d,(e,f)0.750)0.750);");
    // Comparison with itself and with a shifted sample.
    let same = freq.compare(&freq, 0.1).unwrap();
    assert_eq!((same.asdsf, same.max_abs_difference), (0.0, 0.0));
    let other = SplitFrequencies::from_trees(&trees[..2]).unwrap();
    let cmp = freq.compare(&other, 0.1).unwrap();
    assert!((cmp.max_abs_difference - 0.25).abs() < 1e-12, "{cmp:?}");
    // 7 splits, six of them differ by 0.25: ASDSF = 6 · 0.25/√2 / 7.
    assert!((cmp.asdsf - 6.0 * 0.25 / 2f64.sqrt() / 7.0).abs() < 1e-12, "{cmp:?}");
}

#[test]
fn consensus_holds_exactly_the_majority_splits() {
    let mut rng = stream(9, Purpose::User, &[4]);
    let taxa: Vec<String> = (0..7).map(|i| format!("s{i}")).collect();
    let base = random_tree(taxa.clone(), 10.0, &mut rng).unwrap();
    // A sample dominated by one tree: its splits have frequency >= 0.6.
    let mut trees = vec![base.clone(); 6];
    trees.extend((0..4).map(|_| random_tree(taxa.clone(), 10.0, &mut rng).unwrap()));
    let freq = SplitFrequencies::from_trees(&trees).unwrap();
    let majority: BTreeSet<String> =
        freq.records().into_iter().filter(|r| r.frequency > 0.5).map(|r| r.pattern).collect();
    let consensus = freq.majority_consensus().unwrap();
    assert_eq!(patterns(&consensus), majority);
    assert!(patterns(&base).is_subset(&majority));
    // Re-parsing the written consensus gives the same splits.
    let reparsed = parse_newick("c", &write_newick(&consensus)).unwrap().with_taxa(&taxa).unwrap();
    assert_eq!(patterns(&reparsed), majority);
}

#[test]
fn mismatched_taxa_are_errors() {
    let trees = parse_newick_trees("t", "(a,b,c,d);\n(a,b,c,e);\n").unwrap();
    let err = SplitFrequencies::from_trees(&trees).unwrap_err().to_string();
    assert!(err.contains("tree 2") && err.contains("'e'"), "{err}");
}

#[test]
fn taxa_are_ordered_naturally() {
    let trees = parse_newick_trees("t", "(t10,(t2,t1),t3);").unwrap();
    let freq = SplitFrequencies::from_trees(&trees).unwrap();
    assert_eq!(freq.taxa(), ["t1", "t2", "t3", "t10"]);
    assert_eq!(freq.records()[0].pattern, "..**"); // {t1, t2} | {t3, t10}: the side without t1
}
