//! Continuous branch lengths ([`BranchLengths::Continuous`](super::config::BranchLengths)): the
//! phylogenetics environment as a hybrid environment ([`gfn_core::env::continuous`]).
//!
//! The actions are `[pair: P][edge: 2n − 3][exit]` (the factorised layout without bins):
//!
//! - in a forest of `k ≥ 3` trees, pair `(i, j)` merges trees `i < j` at once and draws the
//!   log-lengths `(u_i, u_j)` of their two new edges (2 values, mixture head `pair(i, j)`);
//! - in a two-tree forest, the edge action of the edge the final merge creates (the only allowed
//!   one) joins them and draws the fused edge's log-length (1 value, head `P`);
//! - exit at the unrooted tree.
//!
//! Lengths are stored in the trees' nodes as `b = e^u`, so undoing a step is deterministic and
//! the uniform backward policy is PhyloGFN's (`1 / #non-leaf trees` at a forest, `1 / (2n − 3)`
//! at an unrooted tree). The log-reward is a density over the drawn `u`: the JC69
//! log-likelihood, the Exponential log-prior of the lengths and the log-Jacobian `Σ_e u_e`
//! ([`PhyloEnv::log_jacobian`]), tempered as in bin mode. The state space is uncountable, so
//! the environment is not enumerable: exact evaluation is refused and Monte-Carlo evaluation
//! applies.

use gfn_core::Result;
use gfn_core::env::ContinuousSteps;

use super::actions::Move;
use super::env::{Forest, PhyloEnv};
use super::forest::{Edge, RootedTree, cut_edge, unroot_edge};

impl PhyloEnv {
    /// `Σ_e log b_e` over the real-length edges of `tree` (0 with binned lengths).
    pub fn log_jacobian(&self, tree: &RootedTree) -> f64 {
        if !self.is_continuous() {
            return 0.0;
        }
        tree.nodes().iter().filter(|n| n.edge() != Edge::ROOT).map(|n| n.edge().real_length().ln()).sum()
    }

    /// Continuous mode: the forward mask (cleared by the caller).
    pub(super) fn continuous_forward_mask(&self, state: &Forest, mask: &mut [bool]) {
        let a = &self.actions;
        match state.trees.len() {
            1 => mask[a.exit()] = true,
            2 => mask[a.edge(self.final_edge(state))] = true,
            k => a.pairs.iter().filter(|&&(_, j)| j < k).for_each(|&(i, j)| mask[a.pair(i, j)] = true),
        }
    }

    /// Continuous mode: the backward mask (cleared by the caller).
    pub(super) fn continuous_backward_mask(&self, state: &Forest, mask: &mut [bool]) {
        let a = &self.actions;
        if state.is_terminal() {
            (0..a.edges).for_each(|e| mask[a.edge(e)] = true);
            return;
        }
        for i in 0..state.trees.len() {
            if let Some((j, ..)) = self.split_at(state, i) {
                mask[a.pair(i, j)] = true;
            }
        }
    }

    /// Continuous mode: undoes the decoded move `m` of `action` (never exit), restoring the
    /// parent's trees with their lengths.
    pub(super) fn continuous_backward_step(&self, state: &mut Forest, action: usize, m: Move) -> Result<()> {
        let k = state.trees.len();
        match m {
            Move::Edge(edge) if k == 1 => {
                let (a, b, _) = cut_edge(&state.trees[0], edge, self.taxon_count())
                    .ok_or_else(|| self.invalid(state, action, format!("edge {edge} is not in the tree")))?;
                state.trees = vec![a, b];
                Ok(())
            }
            Move::Pair { i, j } if k >= 2 && i < k => match self.split_at(state, i) {
                Some((found, left, _, right, _)) if found == j => {
                    state.trees[i] = left;
                    state.trees.insert(j, right);
                    Ok(())
                }
                _ => Err(self.invalid(state, action, format!("tree {i} does not split into trees {i} and {j}"))),
            },
            _ => Err(self.invalid(state, action, format!("no parent of a forest of {k} trees by this action"))),
        }
    }

    /// The branch length `e^u` of a drawn log-length, or an error when it is not a positive
    /// finite length.
    fn drawn_length(&self, state: &Forest, action: usize, u: f64) -> Result<Edge> {
        let length = u.exp();
        if length.is_finite() && length > 0.0 {
            Ok(Edge::length(length))
        } else {
            Err(self.invalid(state, action, format!("log branch length {u} is not that of a positive finite length")))
        }
    }
}

impl ContinuousSteps<Forest> for PhyloEnv {
    /// A merge draws two log-lengths.
    fn dim(&self) -> usize {
        2
    }

    /// One head per pair (conditioning the two lengths on the merged pair) and one for the final
    /// merge.
    fn heads(&self) -> usize {
        self.actions.pairs.len() + 1
    }

    fn count(&self, _state: &Forest, action: usize) -> usize {
        match self.actions.decode(action) {
            Some(Move::Pair { .. }) => 2,
            Some(Move::Edge(_)) => 1,
            _ => 0,
        }
    }

    fn head(&self, _state: &Forest, action: usize) -> usize {
        action.min(self.actions.pairs.len())
    }

    fn step_with(&self, state: &mut Forest, action: usize, values: &[f64]) -> Result<()> {
        let k = state.trees.len();
        match (self.actions.decode(action), values) {
            (Some(Move::Pair { i, j }), &[u, v]) if k >= 3 && j < k => {
                let (left, right) = (self.drawn_length(state, action, u)?, self.drawn_length(state, action, v)?);
                state.trees[i] = RootedTree::join_edges(&state.trees[i], left, &state.trees[j], right);
                state.trees.remove(j);
                Ok(())
            }
            (Some(Move::Edge(edge)), &[u]) if k == 2 => {
                let fused = self.drawn_length(state, action, u)?;
                let (tree, created) = unroot_edge(&state.trees[0], &state.trees[1], fused, self.taxon_count());
                if created != edge {
                    let reason = format!("the final merge creates edge {created}, not {edge}");
                    return Err(self.invalid(state, action, reason));
                }
                state.trees = vec![tree];
                Ok(())
            }
            _ => Err(self.invalid(
                state,
                action,
                format!("not allowed with {} drawn values in a forest of {k} trees", values.len()),
            )),
        }
    }

    /// Around the prior mean `1/λ` on the log scale, with unit scale.
    fn location(&self) -> (f64, f64) {
        (-self.config.prior_rate.ln(), 1.0)
    }

    /// Log-length means in (−10, 0), lengths e^−10 ≈ 4.5e-5 to 1 (PhyloGFN's range), widened to
    /// keep the prior mean `1/λ` inside for any rate.
    fn mean_bounds(&self) -> (f64, f64) {
        let center = -self.config.prior_rate.ln();
        ((center - 1.0).min(-10.0), (center + 1.0).max(0.0))
    }
}
