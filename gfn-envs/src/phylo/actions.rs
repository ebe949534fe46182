//! The action indices of the phylogenetics environment, in its two branch-length modes
//! ([`BranchActions`]). `P = n(n−1)/2` is the number of tree pairs (in `triu_indices(n, 1)` order),
//! `B` the number of bins and `E = 2n − 3` the number of edges of an unrooted tree.
//!
//! - **Joint**: `[merge (pair, left bin, right bin): P·B²][final (edge, bin): E·B][exit]`.
//! - **Factorised**: `[pair: P][bin: B][edge: E][exit]`.

use super::config::BranchActions;

/// A decoded action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Move {
    /// Joint: merge trees `i < j` with bins `(left, right)`.
    Merge { i: usize, j: usize, left: u16, right: u16 },
    /// Joint: the final merge creating edge `edge` with bin `bin`.
    Final { edge: usize, bin: u16 },
    /// Factorised: choose (or commit) the pair `i < j`.
    Pair { i: usize, j: usize },
    /// Factorised: choose a bin.
    Bin(u16),
    /// Factorised: commit the final merge, which creates edge `edge`.
    Edge(usize),
    /// End the trajectory.
    Exit,
}

/// The action space of one environment.
#[derive(Clone, Debug)]
pub(super) struct ActionLayout {
    /// Which mode.
    pub(super) mode: BranchActions,
    /// The number of bins `B`.
    pub(super) bins: usize,
    /// The tree pairs `(i, j)` in `triu` order over the `n` taxa.
    pub(super) pairs: Vec<(usize, usize)>,
    /// The number of taxa `n`.
    taxa: usize,
    /// The number of edges of an unrooted tree, `2n − 3`.
    pub(super) edges: usize,
}

impl ActionLayout {
    /// The layout for `n` taxa and `bins` bins.
    pub(super) fn new(mode: BranchActions, taxa: usize, bins: usize) -> ActionLayout {
        let pairs = (0..taxa).flat_map(|i| (i + 1..taxa).map(move |j| (i, j))).collect();
        ActionLayout { mode, bins, pairs, taxa, edges: 2 * taxa - 3 }
    }

    /// The number of actions (a `u128` so that huge joint layouts can be rejected before use).
    pub(super) fn action_count_wide(mode: BranchActions, taxa: usize, bins: usize) -> u128 {
        let (p, b, e) = ((taxa * (taxa - 1) / 2) as u128, bins as u128, (2 * taxa - 3) as u128);
        match mode {
            BranchActions::Joint => p * b * b + e * b + 1,
            BranchActions::Factorised => p + b + e + 1,
        }
    }

    /// The number of actions, exit included.
    pub(super) fn action_count(&self) -> usize {
        self.exit() + 1
    }

    /// Actions per pair in the pair block: `B²` (joint) or 1 (factorised).
    pub(super) fn per_pair(&self) -> usize {
        match self.mode {
            BranchActions::Joint => self.bins * self.bins,
            BranchActions::Factorised => 1,
        }
    }

    /// The number of actions of the pair block (the rest are whole-state actions).
    pub(super) fn pair_block(&self) -> usize {
        self.pairs.len() * self.per_pair()
    }

    /// The index of the pair `i < j` among the pairs.
    fn pair_number(&self, i: usize, j: usize) -> usize {
        i * (2 * self.taxa - i - 1) / 2 + (j - i - 1)
    }

    /// Joint: the merge of trees `i < j` with bins `(left, right)`.
    pub(super) fn merge(&self, i: usize, j: usize, left: u16, right: u16) -> usize {
        (self.pair_number(i, j) * self.bins + usize::from(left)) * self.bins + usize::from(right)
    }

    /// Joint: the final merge creating edge `edge` with bin `bin`.
    pub(super) fn final_merge(&self, edge: usize, bin: u16) -> usize {
        self.pair_block() + edge * self.bins + usize::from(bin)
    }

    /// Factorised: the pair action of trees `i < j`.
    pub(super) fn pair(&self, i: usize, j: usize) -> usize {
        self.pair_number(i, j)
    }

    /// Factorised: the bin action `bin`.
    pub(super) fn bin(&self, bin: u16) -> usize {
        self.pair_block() + usize::from(bin)
    }

    /// Factorised: the edge action committing a final merge that creates edge `edge`.
    pub(super) fn edge(&self, edge: usize) -> usize {
        self.pair_block() + self.bins + edge
    }

    /// The exit action (the last one).
    pub(super) fn exit(&self) -> usize {
        self.pair_block()
            + match self.mode {
                BranchActions::Joint => self.edges * self.bins,
                BranchActions::Factorised => self.bins + self.edges,
            }
    }

    /// The move of `action`, or `None` outside the action space.
    pub(super) fn decode(&self, action: usize) -> Option<Move> {
        let b = self.bins;
        let bin = |x: usize| u16::try_from(x).expect("bins fit in u16");
        let rest = action.checked_sub(self.pair_block());
        match (self.mode, rest) {
            _ if action == self.exit() => Some(Move::Exit),
            _ if action > self.exit() => None,
            (BranchActions::Joint, None) => {
                let (i, j) = self.pairs[action / (b * b)];
                Some(Move::Merge { i, j, left: bin(action / b % b), right: bin(action % b) })
            }
            (BranchActions::Joint, Some(rest)) => Some(Move::Final { edge: rest / b, bin: bin(rest % b) }),
            (BranchActions::Factorised, None) => {
                let (i, j) = self.pairs[action];
                Some(Move::Pair { i, j })
            }
            (BranchActions::Factorised, Some(rest)) if rest < b => Some(Move::Bin(bin(rest))),
            (BranchActions::Factorised, Some(rest)) => Some(Move::Edge(rest - b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_decodes_to_the_move_that_encodes_it() {
        for mode in [BranchActions::Joint, BranchActions::Factorised] {
            let layout = ActionLayout::new(mode, 5, 3);
            assert_eq!(layout.action_count() as u128, ActionLayout::action_count_wide(mode, 5, 3));
            for action in 0..layout.action_count() {
                let encoded = match layout.decode(action).expect("in range") {
                    Move::Merge { i, j, left, right } => layout.merge(i, j, left, right),
                    Move::Final { edge, bin } => layout.final_merge(edge, bin),
                    Move::Pair { i, j } => layout.pair(i, j),
                    Move::Bin(b) => layout.bin(b),
                    Move::Edge(e) => layout.edge(e),
                    Move::Exit => layout.exit(),
                };
                assert_eq!(encoded, action, "{mode}");
            }
            assert_eq!(layout.decode(layout.action_count()), None);
        }
        // 10 pairs, 3 bins, 7 edges, exit.
        assert_eq!(ActionLayout::new(BranchActions::Factorised, 5, 3).action_count(), 10 + 3 + 7 + 1);
        assert_eq!(ActionLayout::new(BranchActions::Joint, 5, 3).action_count(), 10 * 9 + 7 * 3 + 1);
    }
}
