//! [`SlotLayout`]: how an environment made of interchangeable parts (the trees of a forest, the
//! nodes of a graph) lays out its features and pair actions, so that a permutation-equivariant
//! policy ([`crate::nn::PairEncoder`]) can be trained on it.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which pairs of slots the pair actions range over, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    /// Unordered pairs `{i, j}`, `i < j`, in row-major upper-triangular order
    /// (`(0,1), (0,2), …, (0,S-1), (1,2), …`, numpy's `triu_indices(S, 1)`): `S(S-1)/2` pairs.
    /// Merging two trees of a forest.
    Unordered,
    /// Ordered pairs `(i, j)` with index `i·S + j`, the diagonal `i == j` included (an environment
    /// masks it if it is meaningless): `S²` pairs. Adding the edge `i → j` of a graph on `S` nodes,
    /// so the DAG environment's `d²` edge actions map directly.
    Ordered,
}

/// The structure of an environment's features and forward actions in terms of `slots`
/// interchangeable parts.
///
/// - [`Environment::encode`](super::Environment::encode) writes `slots × slot_dim` slot features
///   (slot `i` at `i·slot_dim..(i+1)·slot_dim`) followed by `global_dim` global features, so
///   `feature_dim() == slots·slot_dim + global_dim`.
/// - Forward action `pair_index·per_pair + k` (`k < per_pair`, e.g. a branch-length bin) acts on
///   the pair of slots [`SlotLayout::pair`]`(pair_index)`; the `extra_actions` actions after the
///   `pair_count()·per_pair` pair actions (the exit / stop action among them) act on the whole
///   state. So `action_count() == pair_count()·per_pair + extra_actions` must hold
///   ([`SlotLayout::validate`]).
///
/// Empty slots (a forest with fewer trees than slots) are encoded as the environment likes (all
/// zeros is natural) and their pairs are masked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlotLayout {
    /// The number of slots `S`.
    pub slots: usize,
    /// Features per slot.
    pub slot_dim: usize,
    /// Global features after the slot features.
    pub global_dim: usize,
    /// Which pairs the pair actions range over.
    pub pairs: PairKind,
    /// Actions (and logits) per pair.
    pub per_pair: usize,
    /// Actions after the pair actions.
    pub extra_actions: usize,
}

impl SlotLayout {
    /// The number of pairs: `S(S-1)/2` (unordered) or `S²` (ordered).
    pub fn pair_count(&self) -> usize {
        match self.pairs {
            PairKind::Unordered => self.slots * self.slots.saturating_sub(1) / 2,
            PairKind::Ordered => self.slots * self.slots,
        }
    }

    /// The number of pair actions, `pair_count()·per_pair`.
    pub fn pair_actions(&self) -> usize {
        self.pair_count() * self.per_pair
    }

    /// The number of forward actions the layout describes.
    pub fn action_count(&self) -> usize {
        self.pair_actions() + self.extra_actions
    }

    /// The feature length the layout describes.
    pub fn feature_dim(&self) -> usize {
        self.slots * self.slot_dim + self.global_dim
    }

    /// The index of the pair `(i, j)`, or `None` if it is not a pair of this layout (a slot out of
    /// range, or `i >= j` for unordered pairs).
    pub fn pair_index(&self, i: usize, j: usize) -> Option<usize> {
        let s = self.slots;
        match self.pairs {
            _ if i >= s || j >= s => None,
            PairKind::Unordered if i >= j => None,
            PairKind::Unordered => Some(i * (2 * s - i - 1) / 2 + (j - i - 1)),
            PairKind::Ordered => Some(i * s + j),
        }
    }

    /// The pair `(i, j)` of index `index`, or `None` past the last pair.
    pub fn pair(&self, index: usize) -> Option<(usize, usize)> {
        self.pairs().nth(index)
    }

    /// Every pair `(i, j)` in index order.
    pub fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let s = self.slots;
        (0..s).flat_map(move |i| {
            let first = if self.pairs == PairKind::Unordered { i + 1 } else { 0 };
            (first..s).map(move |j| (i, j))
        })
    }

    /// Checks the layout against an environment's `feature_dim` and `action_count`
    /// ([`Error::InvalidConfig`] naming the mismatch otherwise).
    pub fn validate(&self, feature_dim: usize, action_count: usize) -> Result<()> {
        let min_slots = if self.pairs == PairKind::Unordered { 2 } else { 1 };
        if self.slots < min_slots {
            return Err(Error::config(
                "slot_layout.slots",
                self.slots,
                format!("{:?} pairs need at least {min_slots} slots", self.pairs),
            ));
        }
        if self.slot_dim == 0 {
            return Err(Error::config("slot_layout.slot_dim", 0, "every slot needs at least one feature"));
        }
        if self.per_pair == 0 {
            return Err(Error::config("slot_layout.per_pair", 0, "every pair needs at least one action"));
        }
        if self.feature_dim() != feature_dim {
            return Err(Error::config(
                "slot_layout.feature_dim",
                self.feature_dim(),
                format!(
                    "slots·slot_dim + global_dim = {}·{} + {} must equal the environment's feature_dim {feature_dim}",
                    self.slots, self.slot_dim, self.global_dim
                ),
            ));
        }
        if self.action_count() != action_count {
            return Err(Error::config(
                "slot_layout.action_count",
                self.action_count(),
                format!(
                    "pair_count·per_pair + extra_actions = {}·{} + {} must equal the environment's action_count \
                     {action_count}",
                    self.pair_count(),
                    self.per_pair,
                    self.extra_actions
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(pairs: PairKind) -> SlotLayout {
        SlotLayout { slots: 4, slot_dim: 3, global_dim: 2, pairs, per_pair: 2, extra_actions: 1 }
    }

    #[test]
    fn unordered_pairs_are_in_triu_order_and_invert() {
        let l = layout(PairKind::Unordered);
        let pairs: Vec<_> = l.pairs().collect();
        assert_eq!(pairs, [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]);
        assert_eq!(l.pair_count(), 6);
        for (k, &(i, j)) in pairs.iter().enumerate() {
            assert_eq!(l.pair_index(i, j), Some(k));
            assert_eq!(l.pair(k), Some((i, j)));
        }
        assert_eq!((l.pair_index(1, 1), l.pair_index(2, 1), l.pair_index(0, 4), l.pair(6)), (None, None, None, None));
        assert_eq!((l.action_count(), l.feature_dim()), (13, 14));
    }

    #[test]
    fn ordered_pairs_are_row_major_with_the_diagonal() {
        let l = SlotLayout { extra_actions: 1, per_pair: 1, ..layout(PairKind::Ordered) };
        assert_eq!(l.pair_count(), 16);
        for (k, (i, j)) in l.pairs().enumerate() {
            assert_eq!(k, i * 4 + j);
            assert_eq!(l.pair_index(i, j), Some(k));
        }
        // The DAG environment on d = 4 nodes: d² edge actions and stop.
        assert!(l.validate(14, 17).is_ok());
    }

    #[test]
    fn mismatches_are_named() {
        let l = layout(PairKind::Unordered);
        assert!(l.validate(14, 13).is_ok());
        let e = l.validate(15, 13).unwrap_err().to_string();
        assert!(e.contains("slot_layout.feature_dim") && e.contains("4·3 + 2") && e.contains("15"), "{e}");
        let e = l.validate(14, 12).unwrap_err().to_string();
        assert!(e.contains("slot_layout.action_count") && e.contains("6·2 + 1") && e.contains("12"), "{e}");
        let e = SlotLayout { slots: 1, ..l }.validate(5, 1).unwrap_err().to_string();
        assert!(e.contains("slot_layout.slots") && e.contains("at least 2"), "{e}");
        assert!(SlotLayout { slot_dim: 0, ..l }.validate(2, 13).is_err());
        assert!(SlotLayout { per_pair: 0, ..l }.validate(14, 1).is_err());
    }
}
