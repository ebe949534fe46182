//! The transitions of the phylogenetics environment with joint branch-length actions: one action
//! per merge, naming the pair and both bins (`pair(i, j) · B² + l · B + r`), and one per final
//! merge, naming the created edge and the fused edge's bin (`P · B² + e · B + b`).

use gfn_core::Result;

use super::actions::Move;
use super::env::{Forest, PhyloEnv};
use super::forest::{RootedTree, cut, unroot};

impl PhyloEnv {
    /// Joint mode: the forward mask (cleared by the caller).
    pub(super) fn joint_forward_mask(&self, state: &Forest, mask: &mut [bool]) {
        let (k, b) = (state.trees.len(), self.bins());
        match k {
            1 => mask[self.actions.exit()] = true,
            2 => {
                let base = self.actions.final_merge(self.final_edge(state), 0);
                mask[base..base + b].fill(true);
            }
            _ => {
                for &(i, j) in self.actions.pairs.iter().filter(|&&(_, j)| j < k) {
                    let base = self.actions.merge(i, j, 0, 0);
                    mask[base..base + b * b].fill(true);
                }
            }
        }
    }

    /// Joint mode: the backward mask (cleared by the caller).
    pub(super) fn joint_backward_mask(&self, state: &Forest, mask: &mut [bool]) {
        if state.is_terminal() {
            let tree = &state.trees[0];
            for edge in 0..self.actions.edges {
                mask[self.actions.final_merge(edge, tree.nodes()[edge + 1].bin)] = true;
            }
            return;
        }
        for i in 0..state.trees.len() {
            if let Some((j, _, left, _, right)) = self.split_at(state, i) {
                mask[self.actions.merge(i, j, left.bin, right.bin)] = true;
            }
        }
    }

    /// Joint mode: applies the decoded move `m` of `action` (never exit).
    pub(super) fn joint_step(&self, state: &mut Forest, action: usize, m: Move) -> Result<()> {
        let k = state.trees.len();
        match m {
            Move::Merge { i, j, left, right } if k >= 3 && j < k => {
                let joined = RootedTree::join(&state.trees[i], left, &state.trees[j], right);
                state.trees[i] = joined;
                state.trees.remove(j);
                Ok(())
            }
            Move::Final { edge, bin } if k == 2 => {
                let (tree, created) = unroot(&state.trees[0], &state.trees[1], bin, self.taxon_count());
                if created != edge {
                    return Err(self.invalid(
                        state,
                        action,
                        format!("the final merge creates edge {created}, not {edge}"),
                    ));
                }
                state.trees = vec![tree];
                Ok(())
            }
            _ => Err(self.invalid(state, action, format!("not allowed in a forest of {k} trees"))),
        }
    }

    /// Joint mode: undoes the decoded move `m` of `action` (never exit).
    pub(super) fn joint_backward_step(&self, state: &mut Forest, action: usize, m: Move) -> Result<()> {
        let k = state.trees.len();
        match m {
            Move::Merge { i, j, left, right } if k >= 2 && i < k => match self.split_at(state, i) {
                Some((found, l, lb, r, rb)) if (found, lb.bin, rb.bin) == (j, left, right) => {
                    state.trees[i] = l;
                    state.trees.insert(j, r);
                    Ok(())
                }
                _ => Err(self.invalid(state, action, format!("tree {i} does not split into this merge"))),
            },
            Move::Final { edge, bin } if k == 1 => match cut(&state.trees[0], edge, self.taxon_count()) {
                Some((first, second, found)) if found == bin => {
                    state.trees = vec![first, second];
                    Ok(())
                }
                _ => Err(self.invalid(state, action, format!("edge {edge} with bin {bin} is not in the tree"))),
            },
            _ => Err(self.invalid(state, action, format!("no parent of a forest of {k} trees by this action"))),
        }
    }
}
