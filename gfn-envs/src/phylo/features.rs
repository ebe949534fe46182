//! The state features of the phylogenetics environment (DOMAINS §1.2).

use super::config::{BranchActions, PhyloReward};
use super::env::{Forest, Pending, PhyloEnv};
use super::fitch::FITCH_STATES;
use super::likelihood::NUCLEOTIDE_STATES;

/// The layout of `Environment::encode`: `slots × slot_dim` per-tree features, then `global_dim`
/// global ones.
///
/// Slot `i` describes the `i`-th tree in canonical order (all zero when the forest has fewer
/// trees): the `slot_header` features `[1 (present), leaves / n]`, followed with factorised branch
/// actions by `[left of the pending merge, right of the pending merge]` flags, then the root vector:
/// per site pattern, the 5 Fitch state bits (A, C, G, T, gap) for parsimony or the 4 normalised
/// Felsenstein partials for JC69 (of the tree rooted at its root; at the terminal unrooted tree,
/// of the virtual root on taxon 0's edge). The global part is `[k / n, terminal]` for `k` trees,
/// followed with factorised branch actions by the one-hot phase of the pending merge
/// `[awaiting left bin, awaiting right bin, awaiting commit, final merge awaiting commit]` and the
/// one-hot chosen left bin (the fused edge's bin in a final merge) and right bin (`B` each), and
/// with [`PhyloConfig::temperature_feature`](super::config::PhyloConfig::temperature_feature) the
/// log reward temperature `ln T` last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureLayout {
    /// The number of slots (`n`).
    pub slots: usize,
    /// The features per slot.
    pub slot_dim: usize,
    /// The per-slot features before the root vector.
    pub slot_header: usize,
    /// The global features after the slots.
    pub global_dim: usize,
}

impl FeatureLayout {
    /// The per-slot header features of both modes (`[present, leaves / n]`).
    pub const SLOT_HEADER: usize = 2;
    /// The global features of both modes (`[k / n, terminal]`).
    pub const GLOBAL: usize = 2;
    /// The factorised mode's extra per-slot flags (left, right of the pending merge).
    pub const PENDING_FLAGS: usize = 2;
    /// The factorised mode's pending-merge phases.
    pub const PHASES: usize = 4;

    /// The total feature dimension.
    pub fn dim(&self) -> usize {
        self.slots * self.slot_dim + self.global_dim
    }
}

impl PhyloEnv {
    /// The feature layout of `Environment::encode`.
    pub fn feature_layout(&self) -> FeatureLayout {
        let per_pattern = match self.config.reward {
            PhyloReward::Parsimony => FITCH_STATES,
            PhyloReward::Jc69 => NUCLEOTIDE_STATES,
        };
        let pending = if self.is_continuous() { BranchActions::Joint } else { self.actions.mode };
        let (slot_header, global_dim) = match pending {
            BranchActions::Joint => (FeatureLayout::SLOT_HEADER, FeatureLayout::GLOBAL),
            BranchActions::Factorised => (
                FeatureLayout::SLOT_HEADER + FeatureLayout::PENDING_FLAGS,
                FeatureLayout::GLOBAL + FeatureLayout::PHASES + 2 * self.bins(),
            ),
        };
        FeatureLayout {
            slots: self.taxon_count(),
            slot_dim: slot_header + per_pattern * self.alignment.pattern_count(),
            slot_header,
            global_dim: global_dim + usize::from(self.config.temperature_feature),
        }
    }

    /// Writes the features of `state` (see [`FeatureLayout`]) into the zeroed `out`.
    pub(super) fn write_features(&self, state: &Forest, out: &mut [f32]) {
        let layout = self.feature_layout();
        let n = self.taxon_count() as f32;
        for (tree, slot) in state.trees.iter().zip(out.chunks_exact_mut(layout.slot_dim)) {
            slot[0] = 1.0;
            slot[1] = tree.leaf_count() as f32 / n;
            let root = &mut slot[layout.slot_header..];
            match self.config.reward {
                PhyloReward::Parsimony => {
                    let (set, _) = self.fitch_tree(tree);
                    for (p, chunk) in root.chunks_exact_mut(FITCH_STATES).enumerate() {
                        let bits = set.state_set(p);
                        for (s, x) in chunk.iter_mut().enumerate() {
                            *x = f32::from(bits >> s & 1);
                        }
                    }
                }
                PhyloReward::Jc69 => self.partials_tree(tree).0.write_normalised(root),
            }
        }
        let (slots, global) = out.split_at_mut(layout.slots * layout.slot_dim);
        global[0] = state.trees.len() as f32 / n;
        global[1] = f32::from(u8::from(state.is_terminal()));
        if self.config.temperature_feature {
            global[layout.global_dim - 1] = self.config.temperature.ln() as f32;
        }
        let Some(pending) = state.pending else { return };
        let ((i, j), phase, left, right) = match pending {
            Pending::Pair { i, j } => ((i, j), 0, None, None),
            Pending::Left { i, j, left } => ((i, j), 1, Some(left), None),
            Pending::Ready { i, j, left, right } => ((i, j), 2, Some(left), Some(right)),
            Pending::Fused { bin } => ((0, 1), 3, Some(bin), None),
        };
        slots[i * layout.slot_dim + FeatureLayout::SLOT_HEADER] = 1.0;
        slots[j * layout.slot_dim + FeatureLayout::SLOT_HEADER + 1] = 1.0;
        let rest = &mut global[FeatureLayout::GLOBAL..];
        rest[phase] = 1.0;
        let (left_hot, right_hot) = rest[FeatureLayout::PHASES..].split_at_mut(self.bins());
        for (hot, bin) in [(left_hot, left), (right_hot, right)] {
            if let Some(bin) = bin {
                hot[usize::from(bin)] = 1.0;
            }
        }
    }
}
