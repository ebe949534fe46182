//! The transitions of the phylogenetics environment with factorised branch-length actions.
//!
//! A merge of trees `i < j` of a forest of `k ≥ 3` trees takes four steps through the
//! [`Pending`] states:
//!
//! ```text
//! forest ─pair(i,j)→ Pair ─bin(l)→ Left ─bin(r)→ Ready ─pair(i,j)→ merged forest
//! ```
//!
//! and the final merge of a two-tree forest two:
//!
//! ```text
//! forest ─bin(b)→ Fused ─edge(e)→ unrooted tree
//! ```
//!
//! The committing step (the pair action again, or the edge action `e` of the edge the final merge
//! creates) is forced — the forward mask allows one action — but it is what makes the DAG the
//! joint mode's: a forest has one parent per non-leaf tree and an unrooted tree one per edge, and
//! these parents must be reached by distinct actions. A bin action cannot tell them apart (two
//! trees may carry the same bins), while the committing action names the merge. So the uniform
//! backward policy is PhyloGFN's (`1 / #non-leaf trees` at a forest, `1 / (2n − 3)` at an
//! unrooted tree), every pending state has exactly one parent, and each joint-mode transition
//! `forest → forest` is replaced by a chain whose forward probabilities multiply to one joint
//! action's: the terminal objects, their rewards and the backward probabilities of whole
//! trajectories are those of the joint mode.

use gfn_core::Result;

use super::actions::Move;
use super::env::{Forest, Pending, PhyloEnv};
use super::forest::{RootedTree, cut, unroot};

impl PhyloEnv {
    /// Factorised mode: the forward mask (cleared by the caller).
    pub(super) fn factorised_forward_mask(&self, state: &Forest, mask: &mut [bool]) {
        let a = &self.actions;
        let k = state.trees.len();
        let all_bins = a.bin(0)..a.bin(0) + self.bins();
        match state.pending {
            None if k == 1 => mask[a.exit()] = true,
            None if k == 2 => mask[all_bins].fill(true),
            None => a.pairs.iter().filter(|&&(_, j)| j < k).for_each(|&(i, j)| mask[a.pair(i, j)] = true),
            Some(Pending::Pair { .. } | Pending::Left { .. }) => mask[all_bins].fill(true),
            Some(Pending::Ready { i, j, .. }) => mask[a.pair(i, j)] = true,
            Some(Pending::Fused { .. }) => mask[a.edge(self.final_edge(state))] = true,
        }
    }

    /// Factorised mode: the backward mask (cleared by the caller).
    pub(super) fn factorised_backward_mask(&self, state: &Forest, mask: &mut [bool]) {
        let a = &self.actions;
        match state.pending {
            None if state.is_terminal() => (0..a.edges).for_each(|e| mask[a.edge(e)] = true),
            None => {
                for i in 0..state.trees.len() {
                    if let Some((j, ..)) = self.split_at(state, i) {
                        mask[a.pair(i, j)] = true;
                    }
                }
            }
            Some(Pending::Pair { i, j }) => mask[a.pair(i, j)] = true,
            Some(Pending::Left { left: bin, .. } | Pending::Ready { right: bin, .. } | Pending::Fused { bin }) => {
                mask[a.bin(bin)] = true;
            }
        }
    }

    /// Factorised mode: applies the decoded move `m` of `action` (never exit).
    pub(super) fn factorised_step(&self, state: &mut Forest, action: usize, m: Move) -> Result<()> {
        let k = state.trees.len();
        state.pending = match (state.pending, m) {
            (None, Move::Pair { i, j }) if k >= 3 && j < k => Some(Pending::Pair { i, j }),
            (None, Move::Bin(bin)) if k == 2 => Some(Pending::Fused { bin }),
            (Some(Pending::Pair { i, j }), Move::Bin(left)) => Some(Pending::Left { i, j, left }),
            (Some(Pending::Left { i, j, left }), Move::Bin(right)) => Some(Pending::Ready { i, j, left, right }),
            (Some(Pending::Ready { i, j, left, right }), Move::Pair { i: pi, j: pj }) if (pi, pj) == (i, j) => {
                state.trees[i] = RootedTree::join(&state.trees[i], left, &state.trees[j], right);
                state.trees.remove(j);
                None
            }
            (Some(Pending::Fused { bin }), Move::Edge(edge)) => {
                let (tree, created) = unroot(&state.trees[0], &state.trees[1], bin, self.taxon_count());
                if created != edge {
                    let reason = format!("the final merge creates edge {created}, not {edge}");
                    return Err(self.invalid(state, action, reason));
                }
                state.trees = vec![tree];
                None
            }
            (pending, _) => {
                let reason = format!("not allowed in a forest of {k} trees with pending merge {pending:?}");
                return Err(self.invalid(state, action, reason));
            }
        };
        Ok(())
    }

    /// Factorised mode: undoes the decoded move `m` of `action` (never exit).
    pub(super) fn factorised_backward_step(&self, state: &mut Forest, action: usize, m: Move) -> Result<()> {
        let k = state.trees.len();
        // `Some(pending)`: the parent's pending merge; `None`: no parent by this action.
        let parent: Option<Option<Pending>> = match (state.pending, m) {
            (None, Move::Edge(edge)) if k == 1 => cut(&state.trees[0], edge, self.taxon_count()).map(|(a, b, bin)| {
                state.trees = vec![a, b];
                Some(Pending::Fused { bin })
            }),
            (None, Move::Pair { i, j }) if k >= 2 && i < k => match self.split_at(state, i) {
                Some((found, left_tree, left, right_tree, right)) if found == j => {
                    state.trees[i] = left_tree;
                    state.trees.insert(j, right_tree);
                    Some(Some(Pending::Ready { i, j, left: left.bin, right: right.bin }))
                }
                _ => None,
            },
            (Some(Pending::Pair { i, j }), Move::Pair { i: pi, j: pj }) if (pi, pj) == (i, j) => Some(None),
            (Some(Pending::Left { i, j, left }), Move::Bin(bin)) if bin == left => Some(Some(Pending::Pair { i, j })),
            (Some(Pending::Ready { i, j, left, right }), Move::Bin(bin)) if bin == right => {
                Some(Some(Pending::Left { i, j, left }))
            }
            (Some(Pending::Fused { bin }), Move::Bin(found)) if found == bin => Some(None),
            _ => None,
        };
        match parent {
            Some(pending) => {
                state.pending = pending;
                Ok(())
            }
            None => {
                let reason = format!("no parent of a forest of {k} trees with pending merge {:?}", state.pending);
                Err(self.invalid(state, action, reason))
            }
        }
    }
}
