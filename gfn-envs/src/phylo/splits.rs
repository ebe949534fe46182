//! Splits (bipartitions) of unrooted trees, their frequencies over a tree sample, the
//! majority-rule consensus tree, and the average standard deviation of split frequencies
//! between two samples.
//!
//! A split is stored by the side that does not contain taxon 0, so the two ways of writing the
//! same bipartition coincide and the root position does not matter. Only non-trivial splits
//! (both sides with at least two taxa) are counted.

use std::collections::{BTreeMap, BTreeSet};

use gfn_core::{Error, Result};
use serde::Serialize;

use super::tree::{NodeId, Tree, TreeBuilder};

/// A bipartition of `n` taxa, stored as the bit set of the side without taxon 0.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Split {
    bits: Vec<u64>,
    n: usize,
}

impl Split {
    fn empty(n: usize) -> Split {
        Split { bits: vec![0; n.div_ceil(64)], n }
    }

    fn contains(&self, taxon: usize) -> bool {
        self.bits[taxon / 64] >> (taxon % 64) & 1 == 1
    }

    fn insert(&mut self, taxon: usize) {
        self.bits[taxon / 64] |= 1 << (taxon % 64);
    }

    fn union(&mut self, other: &Split) {
        self.bits.iter_mut().zip(&other.bits).for_each(|(a, b)| *a |= b);
    }

    fn is_subset_of(&self, other: &Split) -> bool {
        self.bits.iter().zip(&other.bits).all(|(a, b)| a & !b == 0)
    }

    /// The number of taxa on the stored side.
    pub fn size(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The taxa on the side without taxon 0, ascending.
    pub fn taxa(&self) -> Vec<usize> {
        (0..self.n).filter(|&t| self.contains(t)).collect()
    }

    /// The split in MrBayes' notation: one character per taxon, `*` on the side without taxon 0.
    pub fn pattern(&self) -> String {
        (0..self.n).map(|t| if self.contains(t) { '*' } else { '.' }).collect()
    }

    /// The split as the side without taxon 0 (a "clade" once the tree is rooted at taxon 0).
    fn canonical(mut self) -> Split {
        if self.contains(0) {
            self.bits.iter_mut().for_each(|w| *w = !*w);
            let extra = self.bits.len() * 64 - self.n;
            if let Some(last) = self.bits.last_mut() {
                *last &= u64::MAX >> extra;
            }
        }
        self
    }
}

/// The non-trivial splits of `tree`, each once, in tree order.
pub fn tree_splits(tree: &Tree) -> Vec<Split> {
    let n = tree.num_leaves();
    let mut below: Vec<Split> = vec![Split::empty(n); tree.nodes().len()];
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for id in tree.postorder() {
        let node = tree.node(id);
        if let Some(t) = node.taxon {
            below[id].insert(t);
            continue;
        }
        for &c in &node.children {
            let child = below[c].clone();
            below[id].union(&child);
        }
        let size = below[id].size();
        if id != tree.root() && size >= 2 && size + 2 <= n {
            let split = below[id].clone().canonical();
            if seen.insert(split.clone()) {
                out.push(split);
            }
        }
    }
    out
}

/// A sort key that compares digit runs as numbers: `t2` < `t10`.
fn natural_key(name: &str) -> Vec<(String, u128)> {
    let mut key = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let text_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let (text, tail) = rest.split_at(text_len);
        let digits_len = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
        let (digits, tail) = tail.split_at(digits_len);
        key.push((text.to_string(), digits.parse().unwrap_or(u128::MAX)));
        rest = tail;
    }
    key
}

/// Split frequencies over a sample of trees on the same taxa.
#[derive(Clone, Debug)]
pub struct SplitFrequencies {
    taxa: Vec<String>,
    trees: usize,
    counts: BTreeMap<Split, usize>,
}

/// One split with its frequency, for reports.
#[derive(Clone, Debug, Serialize)]
pub struct SplitRecord {
    /// MrBayes-style pattern (`*` = the side without the first taxon).
    pub pattern: String,
    /// The names on the side without the first taxon.
    pub taxa: Vec<String>,
    /// The fraction of trees that contain the split.
    pub frequency: f64,
}

impl SplitFrequencies {
    /// Counts the splits of `trees`; every tree must have the taxa of the first (in any order).
    /// Taxa are ordered naturally by name (`t2` before `t10`).
    pub fn from_trees(trees: &[Tree]) -> Result<SplitFrequencies> {
        let first = trees.first().ok_or_else(|| Error::config("trees", 0, "need at least one tree"))?;
        let mut taxa = first.taxa().to_vec();
        taxa.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)).then_with(|| a.cmp(b)));
        let mut counts = BTreeMap::new();
        for (i, tree) in trees.iter().enumerate() {
            let tree =
                tree.with_taxa(&taxa).map_err(|e| Error::config("trees", format!("tree {}", i + 1), e.to_string()))?;
            for split in tree_splits(&tree) {
                *counts.entry(split).or_insert(0) += 1;
            }
        }
        Ok(SplitFrequencies { taxa, trees: trees.len(), counts })
    }

    /// The taxa (the first tree's leaf order).
    pub fn taxa(&self) -> &[String] {
        &self.taxa
    }

    /// The number of trees counted.
    pub fn tree_count(&self) -> usize {
        self.trees
    }

    /// The frequency of `split` (0 if never seen).
    pub fn frequency(&self, split: &Split) -> f64 {
        self.counts.get(split).map_or(0.0, |&c| c as f64 / self.trees as f64)
    }

    /// All splits seen, by decreasing frequency (ties: by pattern).
    pub fn records(&self) -> Vec<SplitRecord> {
        let mut splits: Vec<(&Split, usize)> = self.counts.iter().map(|(s, &c)| (s, c)).collect();
        splits.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        splits.into_iter().map(|(s, _)| self.record(s)).collect()
    }

    fn record(&self, split: &Split) -> SplitRecord {
        SplitRecord {
            pattern: split.pattern(),
            taxa: split.taxa().into_iter().map(|t| self.taxa[t].clone()).collect(),
            frequency: self.frequency(split),
        }
    }

    /// The majority-rule consensus tree: the splits in more than half of the trees (they are
    /// compatible), each internal node labelled with its split's frequency; rooted at the node
    /// next to the first taxon, without branch lengths.
    pub fn majority_consensus(&self) -> Result<Tree> {
        let n = self.taxa.len();
        let mut clusters: Vec<(&Split, f64)> =
            self.counts.iter().map(|(s, &c)| (s, c as f64 / self.trees as f64)).filter(|&(_, f)| f > 0.5).collect();
        clusters.sort_by(|a, b| b.0.size().cmp(&a.0.size()).then_with(|| a.0.cmp(b.0)));
        // parent[k] = index into `clusters` (None = root) of the smallest cluster containing k.
        let smallest_superset = |of: &dyn Fn(&Split) -> bool, upto: usize| (0..upto).rev().find(|&j| of(clusters[j].0));
        let cluster_parent: Vec<Option<usize>> =
            (0..clusters.len()).map(|k| smallest_superset(&|s| clusters[k].0.is_subset_of(s), k)).collect();
        let leaf_parent: Vec<Option<usize>> =
            (0..n).map(|t| smallest_superset(&|s| s.contains(t), clusters.len())).collect();
        // Build bottom-up: smaller clusters come later in `clusters`.
        let mut builder = TreeBuilder::new();
        let mut children: Vec<Vec<NodeId>> = vec![Vec::new(); clusters.len() + 1];
        let slot = |p: Option<usize>| p.map_or(clusters.len(), |j| j);
        for (t, &p) in leaf_parent.iter().enumerate() {
            let id = builder.leaf(t, None);
            children[slot(p)].push(id);
        }
        for k in (0..clusters.len()).rev() {
            let kids = std::mem::take(&mut children[k]);
            let id = builder.internal(kids, None, Some(format!("{:.3}", clusters[k].1)));
            children[slot(cluster_parent[k])].push(id);
        }
        let root = builder.internal(std::mem::take(&mut children[clusters.len()]), None, None);
        builder.finish(root, self.taxa.clone())
    }

    /// Compares two samples: the mean over splits with frequency at least `min_frequency` in
    /// either sample of the standard deviation of the two frequencies (MrBayes' ASDSF), and the
    /// largest absolute difference. `other` is matched by taxon names.
    pub fn compare(&self, other: &SplitFrequencies, min_frequency: f64) -> Result<SplitComparison> {
        let mut other_taxa = other.taxa.clone();
        other_taxa.sort();
        let mut taxa = self.taxa.clone();
        taxa.sort();
        if taxa != other_taxa {
            return Err(Error::config("trees", "second sample", "the two samples have different taxa"));
        }
        // Re-express the other sample's splits in this sample's taxon order.
        let position: BTreeMap<&str, usize> = self.taxa.iter().enumerate().map(|(i, t)| (t.as_str(), i)).collect();
        let mut mapped: BTreeMap<Split, f64> = BTreeMap::new();
        for (split, &c) in &other.counts {
            let mut s = Split::empty(self.taxa.len());
            for t in split.taxa() {
                s.insert(position[other.taxa[t].as_str()]);
            }
            mapped.insert(s.canonical(), c as f64 / other.trees as f64);
        }
        let all: BTreeSet<&Split> = self.counts.keys().chain(mapped.keys()).collect();
        let mut splits = Vec::new();
        let (mut sum_sd, mut max_abs_difference) = (0.0, 0.0f64);
        for s in all {
            let (a, b) = (self.frequency(s), mapped.get(s).copied().unwrap_or(0.0));
            max_abs_difference = max_abs_difference.max((a - b).abs());
            if a.max(b) >= min_frequency {
                sum_sd += (a - b).abs() / std::f64::consts::SQRT_2; // sd of two values
                splits.push(SplitPair { split: self.record(s), first: a, second: b });
            }
        }
        splits.sort_by(|x, y| y.first.max(y.second).total_cmp(&x.first.max(x.second)));
        let asdsf = if splits.is_empty() { 0.0 } else { sum_sd / splits.len() as f64 };
        Ok(SplitComparison { asdsf, max_abs_difference, splits })
    }
}

/// A split's frequency in two samples.
#[derive(Clone, Debug, Serialize)]
pub struct SplitPair {
    /// The split (its `frequency` field is the first sample's).
    pub split: SplitRecord,
    /// Frequency in the first sample.
    pub first: f64,
    /// Frequency in the second sample.
    pub second: f64,
}

/// The result of [`SplitFrequencies::compare`].
#[derive(Clone, Debug, Serialize)]
pub struct SplitComparison {
    /// Average standard deviation of split frequencies over the compared splits.
    pub asdsf: f64,
    /// The largest absolute frequency difference over all splits.
    pub max_abs_difference: f64,
    /// The compared splits, by decreasing frequency.
    pub splits: Vec<SplitPair>,
}

#[cfg(test)]
#[path = "splits_tests.rs"]
mod tests;
