//! Scores of a given tree on an alignment: the Fitch parsimony score, and the JC69 log-likelihood
//! with the Exponential branch-length prior and the uniform topology prior.
//!
//! The tree must be binary in unrooted form (see [`Tree::check_binary`]); its leaves are matched to
//! the alignment's taxa by name. A trifurcating root is evaluated as `((a, b):0, c)`, which is the
//! same unrooted tree; a bifurcating root's two edges are one unrooted edge of length `l0 + l1`
//! (the likelihood does not depend on where the root sits on it, and the prior counts it once, so
//! both forms give `2n − 3` edges).

use std::borrow::Cow;

use gfn_core::Result;
use serde::Serialize;

use super::alignment::{Alignment, MissingCoding};
use super::fitch::FitchSet;
use super::likelihood::{Partials, log_exponential_prior, log_topology_prior};
use super::tree::{NodeId, Tree};

/// The rate of the standard Exponential branch-length prior (MrBayes/VBPI/PhyloGFN benchmarks).
pub const DEFAULT_PRIOR_RATE: f64 = 10.0;

/// The JC69 Bayesian score of a tree with branch lengths.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Jc69Score {
    /// `log P(Y | T, b)`.
    pub log_likelihood: f64,
    /// `log P(b)` under i.i.d. Exponential(rate) lengths of the `2n − 3` unrooted edges.
    pub log_branch_prior: f64,
    /// `log P(T) = −log((2n − 5)!!)`, the uniform prior over unrooted topologies.
    pub log_topology_prior: f64,
    /// The unnormalised log-posterior, the sum of the three.
    pub log_joint: f64,
}

/// `tree` with its leaves numbered as `alignment`'s taxa (borrowed when they already are),
/// checked to be binary.
fn matched<'a>(tree: &'a Tree, alignment: &Alignment) -> Result<Cow<'a, Tree>> {
    let tree = if tree.taxa() == alignment.taxa() {
        Cow::Borrowed(tree)
    } else {
        Cow::Owned(tree.with_taxa(alignment.taxa())?)
    };
    tree.check_binary()?;
    Ok(tree)
}

/// Folds `leaf` and `merge` bottom-up over a binary tree; `merge` gets the two children's values
/// and the lengths of their edges (`0` for the extra merge at a trifurcating root).
fn fold<T>(
    tree: &Tree,
    mut leaf: impl FnMut(usize) -> T,
    mut merge: impl FnMut(&T, f64, &T, f64) -> T,
    length: impl Fn(NodeId) -> f64,
) -> T {
    let mut values: Vec<Option<T>> = (0..tree.nodes().len()).map(|_| None).collect();
    for id in tree.postorder() {
        let node = tree.node(id);
        let value = match node.taxon {
            Some(t) => leaf(t),
            None => {
                let children = &node.children;
                let take = |values: &mut Vec<Option<T>>, c: NodeId| values[c].take().unwrap_or_else(|| unreachable!());
                let (a, b) = (take(&mut values, children[0]), take(&mut values, children[1]));
                let mut acc = merge(&a, length(children[0]), &b, length(children[1]));
                for &c in &children[2..] {
                    let v = take(&mut values, c);
                    acc = merge(&acc, 0.0, &v, length(c));
                }
                acc
            }
        };
        values[id] = Some(value);
    }
    values[tree.root()].take().unwrap_or_else(|| unreachable!())
}

/// Scores many trees on one alignment: the leaf Fitch sets and leaf partials are built once
/// (building them costs far more than the merges of a Fitch evaluation).
#[derive(Clone, Debug)]
pub struct TreeScorer<'a> {
    alignment: &'a Alignment,
    fitch_leaves: Vec<FitchSet>,
    partial_leaves: Vec<Partials>,
}

impl<'a> TreeScorer<'a> {
    /// Precomputes the leaves of `alignment`, with missing data coded by `missing` for parsimony.
    pub fn new(alignment: &'a Alignment, missing: MissingCoding) -> TreeScorer<'a> {
        let taxa = 0..alignment.taxon_count();
        TreeScorer {
            alignment,
            fitch_leaves: taxa.clone().map(|t| FitchSet::leaf(alignment, t, missing)).collect(),
            partial_leaves: taxa.map(|t| Partials::leaf(alignment, t)).collect(),
        }
    }

    /// The Fitch parsimony score of `tree` (gap = fifth state). Branch lengths are ignored.
    pub fn fitch(&self, tree: &Tree) -> Result<f64> {
        let tree = matched(tree, self.alignment)?;
        let mut total = 0.0;
        fold(
            &tree,
            |t| self.fitch_leaves[t].clone(),
            |a, _, b, _| {
                let (set, cost) = FitchSet::merge(a, b, self.alignment.weights());
                total += cost;
                set
            },
            |_| 0.0,
        );
        Ok(total)
    }

    /// The JC69 log-likelihood and the log-priors of `tree` with Exponential(`prior_rate`)
    /// branch lengths.
    pub fn jc69(&self, tree: &Tree, prior_rate: f64) -> Result<Jc69Score> {
        if !(prior_rate.is_finite() && prior_rate > 0.0) {
            return Err(gfn_core::Error::config("prior_rate", prior_rate, "must be finite and positive"));
        }
        let log_likelihood = self.log_likelihood(tree)?;
        let lengths: Vec<f64> = tree.unrooted_edge_lengths()?.into_iter().map(|(_, l)| l).collect();
        let log_branch_prior = log_exponential_prior(&lengths, prior_rate);
        let log_topology_prior = log_topology_prior(tree.num_leaves());
        Ok(Jc69Score {
            log_likelihood,
            log_branch_prior,
            log_topology_prior,
            log_joint: log_likelihood + log_branch_prior + log_topology_prior,
        })
    }

    /// The JC69 log-likelihood `log P(Y | T, b)` of `tree`, which needs every branch length.
    pub fn log_likelihood(&self, tree: &Tree) -> Result<f64> {
        let tree = matched(tree, self.alignment)?;
        tree.unrooted_edge_lengths()?; // every edge has a length
        let root = fold(
            &tree,
            |t| self.partial_leaves[t].clone(),
            Partials::combine,
            |id| tree.node(id).length.unwrap_or(0.0),
        );
        Ok(root.log_likelihood(self.alignment.weights()))
    }
}

/// The Fitch parsimony score of `tree` (gap = fifth state, missing data coded by `missing`).
/// Branch lengths are ignored. Use a [`TreeScorer`] to score many trees.
pub fn fitch_score(tree: &Tree, alignment: &Alignment, missing: MissingCoding) -> Result<f64> {
    TreeScorer::new(alignment, missing).fitch(tree)
}

/// The JC69 log-likelihood `log P(Y | T, b)` of `tree`, which needs every branch length. Use a
/// [`TreeScorer`] to score many trees.
pub fn log_likelihood(tree: &Tree, alignment: &Alignment) -> Result<f64> {
    TreeScorer::new(alignment, MissingCoding::default()).log_likelihood(tree)
}

/// The JC69 log-likelihood and the log-priors of `tree` with Exponential(`prior_rate`) branch
/// lengths. Use [`TreeScorer::jc69`] to score many trees.
pub fn score_jc69(tree: &Tree, alignment: &Alignment, prior_rate: f64) -> Result<Jc69Score> {
    TreeScorer::new(alignment, MissingCoding::default()).jc69(tree, prior_rate)
}

#[cfg(test)]
#[path = "score_tests.rs"]
mod tests;
