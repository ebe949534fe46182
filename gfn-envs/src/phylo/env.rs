//! The PhyloGFN environment: build a phylogenetic tree by merging the trees of a forest.
//!
//! - **States** ([`Forest`]): a forest of canonical rooted binary trees over the taxa, sorted by
//!   minimum taxon; the source is the `n` single leaves. A forest of one tree is the terminal
//!   *unrooted* tree, in the canonical form of [`super::forest`], so the same unrooted tree reached
//!   by different last merges is one state and the terminal distribution is over unrooted trees.
//! - **Actions** (DOMAINS §1.1), with `B` branch-length bins (`B = 1` for parsimony):
//!   - *merge* `{i, j}` of trees `i < j` with bins `(l, r)` for the two new edges: index
//!     `pair(i, j) · B² + l · B + r`, where `pair` is the `triu_indices(n, 1)` order over the
//!     maximal `n` trees, masked to `j < k` for `k` current trees (`k ≥ 3`);
//!   - *final merge* of the last two trees into an unrooted tree whose fused edge has bin `b`:
//!     index `P · B² + e · B + b`, where `P = n(n−1)/2` and `e` is the canonical number of the
//!     created edge in the resulting tree (`0..2n−3`). A two-tree forest allows exactly the `B`
//!     actions of its own `e`; the edge number is what makes the `2n − 3` parents of an unrooted
//!     tree reach it by distinct actions;
//!   - *exit*, the last index, only at the unrooted tree.
//! - **Backward policy**: the uniform backward policy of the engine (uniform over backward-mask
//!   actions) is exactly PhyloGFN's: a forest has one parent per non-leaf tree (split its root;
//!   `P_B = 1 / #non-leaf trees`) and an unrooted tree has one parent per edge (`P_B = 1/(2n − 3)`),
//!   since branch lengths are stored in the state.
//! - **Rewards**: `log R_train = (C + log R) / T` with `log R = −M` (Fitch parsimony) or
//!   `log P(Y | T, b) + log P(b)` (JC69, Exponential prior); see [`PhyloConfig`]. On non-terminal
//!   forests [`Environment::log_reward`] gives the forward-looking partial reward: the same formula
//!   summed over the trees (each JC69 tree with a stationary root).
//! - **Features** ([`FeatureLayout`]): one slot per tree in canonical order, then a global part.
//!   With the merge actions as unordered slot pairs this is the environment's `SlotLayout`, so
//!   it trains with the permutation-equivariant pair policy (`Architecture::Pairs`) as well as the
//!   MLP.

use std::borrow::Cow;

use gfn_core::env::{Enumerable, Environment, PairKind, SlotLayout};
use gfn_core::{Error, Result};

use super::alignment::Alignment;
use super::config::{PhyloConfig, PhyloReward};
use super::fitch::{FITCH_STATES, FitchSet};
use super::forest::{NO_BIN, RootedTree, cut, unroot};
use super::likelihood::{NUCLEOTIDE_STATES, Partials, log_exponential_prior};
use super::newick::quote;

/// The most taxa the environment accepts.
pub const MAX_TAXA: usize = 128;
/// The largest action space the environment builds (`P · B² + (2n − 3) · B + 1`).
pub const MAX_ACTIONS: usize = 1 << 24;

/// A state: the trees of the forest in canonical order (one tree: the terminal unrooted tree).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Forest {
    /// The trees, sorted by minimum taxon.
    pub trees: Vec<RootedTree>,
}

impl Forest {
    /// Whether this is a terminal unrooted tree.
    pub fn is_terminal(&self) -> bool {
        self.trees.len() == 1
    }
}

/// The layout of [`Environment::encode`]: `slots × slot_dim` per-tree features, then `global_dim`
/// global ones.
///
/// Slot `i` describes the `i`-th tree in canonical order (all zero when the forest has fewer
/// trees): `[1 (present), leaves / n, root vector]`, where the root vector is, per site pattern,
/// the 5 Fitch state bits (A, C, G, T, gap) for parsimony or the 4 normalised Felsenstein partials
/// for JC69 (of the tree rooted at its root; at the terminal unrooted tree, of the virtual root on
/// taxon 0's edge). The global part is `[k / n, terminal]` for `k` trees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureLayout {
    /// The number of slots (`n`).
    pub slots: usize,
    /// The features per slot.
    pub slot_dim: usize,
    /// The global features after the slots.
    pub global_dim: usize,
}

impl FeatureLayout {
    /// The number of per-slot header features before the root vector.
    pub const SLOT_HEADER: usize = 2;
    /// The number of global features.
    pub const GLOBAL: usize = 2;

    /// The total feature dimension.
    pub fn dim(&self) -> usize {
        self.slots * self.slot_dim + self.global_dim
    }
}

/// A decoded action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Move {
    Merge { i: usize, j: usize, left: u16, right: u16 },
    Final { edge: usize, bin: u16 },
    Exit,
}

/// The phylogenetics environment; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct PhyloEnv {
    pub(super) alignment: Alignment,
    pub(super) config: PhyloConfig,
    pub(super) bins: usize,
    pub(super) pairs: Vec<(usize, usize)>,
    pub(super) fitch_leaves: Vec<FitchSet>,
    pub(super) partial_leaves: Vec<Partials>,
}

impl PhyloEnv {
    /// Validates `config` and builds the environment over `alignment` (3 to [`MAX_TAXA`] taxa).
    pub fn new(alignment: Alignment, config: PhyloConfig) -> Result<PhyloEnv> {
        config.validate()?;
        let n = alignment.taxon_count();
        if n > MAX_TAXA {
            return Err(Error::config("taxa", n, format!("the environment supports at most {MAX_TAXA} taxa")));
        }
        let bins = match config.reward {
            PhyloReward::Parsimony => 1,
            PhyloReward::Jc69 => config.bins,
        };
        let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).collect();
        let actions = pairs.len() * bins * bins + (2 * n - 3) * bins + 1;
        if actions > MAX_ACTIONS {
            return Err(Error::config(
                "bins",
                bins,
                format!("{n} taxa with {bins} bins need {actions} actions, more than {MAX_ACTIONS}"),
            ));
        }
        let (fitch_leaves, partial_leaves) = match config.reward {
            PhyloReward::Parsimony => ((0..n).map(|t| FitchSet::leaf(&alignment, t, config.missing)).collect(), vec![]),
            PhyloReward::Jc69 => (vec![], (0..n).map(|t| Partials::leaf(&alignment, t)).collect()),
        };
        Ok(PhyloEnv { alignment, config, bins, pairs, fitch_leaves, partial_leaves })
    }

    /// The alignment.
    pub fn alignment(&self) -> &Alignment {
        &self.alignment
    }

    /// The configuration.
    pub fn config(&self) -> &PhyloConfig {
        &self.config
    }

    /// The number of taxa `n`.
    pub fn taxon_count(&self) -> usize {
        self.alignment.taxon_count()
    }

    /// The number of branch-length bins `B` of the action space (1 for parsimony).
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The feature layout of [`Environment::encode`].
    pub fn feature_layout(&self) -> FeatureLayout {
        let per_pattern = match self.config.reward {
            PhyloReward::Parsimony => FITCH_STATES,
            PhyloReward::Jc69 => NUCLEOTIDE_STATES,
        };
        FeatureLayout {
            slots: self.taxon_count(),
            slot_dim: FeatureLayout::SLOT_HEADER + per_pattern * self.alignment.pattern_count(),
            global_dim: FeatureLayout::GLOBAL,
        }
    }

    /// The index of the first final-merge action (`P · B²`).
    fn final_base(&self) -> usize {
        self.pairs.len() * self.bins * self.bins
    }

    /// The index of the merge of trees `i < j` with bins `(left, right)`.
    fn merge_action(&self, i: usize, j: usize, left: u16, right: u16) -> usize {
        let n = self.taxon_count();
        let pair = i * (2 * n - i - 1) / 2 + (j - i - 1);
        (pair * self.bins + usize::from(left)) * self.bins + usize::from(right)
    }

    /// The index of the final merge creating edge `edge` with bin `bin`.
    fn final_action(&self, edge: usize, bin: u16) -> usize {
        self.final_base() + edge * self.bins + usize::from(bin)
    }

    fn decode(&self, action: usize) -> Option<Move> {
        let b = self.bins;
        let bin = |x: usize| u16::try_from(x).expect("bins fit in u16");
        if action < self.final_base() {
            let (i, j) = self.pairs[action / (b * b)];
            Some(Move::Merge { i, j, left: bin(action / b % b), right: bin(action % b) })
        } else if action < self.exit_index() {
            let rest = action - self.final_base();
            Some(Move::Final { edge: rest / b, bin: bin(rest % b) })
        } else if action == self.exit_index() {
            Some(Move::Exit)
        } else {
            None
        }
    }

    fn exit_index(&self) -> usize {
        self.final_base() + (2 * self.taxon_count() - 3) * self.bins
    }

    /// The edge created by the final merge of a two-tree forest.
    fn final_edge(&self, forest: &Forest) -> usize {
        unroot(&forest.trees[0], &forest.trees[1], 0, self.taxon_count()).1
    }

    /// The split of the tree at position `i` back into the parent forest: `(j, left, left_bin,
    /// right, right_bin)`, where `j` is the position of `right` in the parent, or `None` for a leaf.
    fn split_at(&self, forest: &Forest, i: usize) -> Option<(usize, RootedTree, u16, RootedTree, u16)> {
        let (left, left_bin, right, right_bin) = forest.trees[i].split()?;
        let j = 1 + forest.trees.iter().enumerate().filter(|&(x, t)| x != i && t.min_leaf() < right.min_leaf()).count();
        Some((j, left, left_bin, right, right_bin))
    }

    fn invalid(&self, forest: &Forest, action: usize, reason: impl Into<String>) -> Error {
        Error::InvalidAction { action, state: format!("{forest:?}"), reason: reason.into() }
    }
}

impl Environment for PhyloEnv {
    type State = Forest;

    fn name(&self) -> String {
        "phylo".into()
    }

    fn action_count(&self) -> usize {
        self.exit_index() + 1
    }

    fn exit_action(&self) -> usize {
        self.exit_index()
    }

    fn feature_dim(&self) -> usize {
        self.feature_layout().dim()
    }

    /// The [`FeatureLayout`] slots (one per tree, `n` of them), the merge actions as unordered pairs
    /// in `triu` order with `B²` bin pairs each, and the `(2n − 3)·B` final merges and exit as the
    /// extra actions, so the permutation-equivariant pair policy applies.
    fn slot_layout(&self) -> Option<SlotLayout> {
        let layout = self.feature_layout();
        Some(SlotLayout {
            slots: layout.slots,
            slot_dim: layout.slot_dim,
            global_dim: layout.global_dim,
            pairs: PairKind::Unordered,
            per_pair: self.bins * self.bins,
            extra_actions: self.action_count() - self.final_base(),
        })
    }

    fn source(&self) -> Forest {
        let n = u16::try_from(self.taxon_count()).expect("at most MAX_TAXA taxa");
        Forest { trees: (0..n).map(RootedTree::leaf).collect() }
    }

    fn forward_mask(&self, state: &Forest, mask: &mut [bool]) {
        mask.fill(false);
        let k = state.trees.len();
        match k {
            1 => mask[self.exit_index()] = true,
            2 => {
                let base = self.final_action(self.final_edge(state), 0);
                mask[base..base + self.bins].fill(true);
            }
            _ => {
                for &(i, j) in self.pairs.iter().filter(|&&(_, j)| j < k) {
                    let base = self.merge_action(i, j, 0, 0);
                    mask[base..base + self.bins * self.bins].fill(true);
                }
            }
        }
    }

    fn backward_mask(&self, state: &Forest, mask: &mut [bool]) {
        mask.fill(false);
        if state.is_terminal() {
            let tree = &state.trees[0];
            for edge in 0..2 * self.taxon_count() - 3 {
                mask[self.final_action(edge, tree.nodes()[edge + 1].bin)] = true;
            }
            return;
        }
        for i in 0..state.trees.len() {
            if let Some((j, _, left_bin, _, right_bin)) = self.split_at(state, i) {
                mask[self.merge_action(i, j, left_bin, right_bin)] = true;
            }
        }
    }

    fn step(&self, state: &mut Forest, action: usize) -> Result<()> {
        let k = state.trees.len();
        match self.decode(action) {
            Some(Move::Merge { i, j, left, right }) if k >= 3 && j < k => {
                let joined = RootedTree::join(&state.trees[i], left, &state.trees[j], right);
                state.trees[i] = joined;
                state.trees.remove(j);
                Ok(())
            }
            Some(Move::Final { edge, bin }) if k == 2 => {
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
            Some(Move::Exit) => Err(self.invalid(state, action, "the exit action has no child state")),
            None => Err(self.invalid(state, action, format!("outside the action space 0..{}", self.action_count()))),
            Some(_) => Err(self.invalid(state, action, format!("not allowed in a forest of {k} trees"))),
        }
    }

    fn backward_step(&self, state: &mut Forest, action: usize) -> Result<()> {
        let k = state.trees.len();
        match self.decode(action) {
            Some(Move::Merge { i, j, left, right }) if k >= 2 && i < k => match self.split_at(state, i) {
                Some((found, l, lb, r, rb)) if (found, lb, rb) == (j, left, right) => {
                    state.trees[i] = l;
                    state.trees.insert(j, r);
                    Ok(())
                }
                _ => Err(self.invalid(state, action, format!("tree {i} does not split into this merge"))),
            },
            Some(Move::Final { edge, bin }) if k == 1 => match cut(&state.trees[0], edge, self.taxon_count()) {
                Some((first, second, found)) if found == bin => {
                    state.trees = vec![first, second];
                    Ok(())
                }
                _ => Err(self.invalid(state, action, format!("edge {edge} with bin {bin} is not in the tree"))),
            },
            Some(Move::Exit) => Err(self.invalid(state, action, "the exit action is never a backward action")),
            None => Err(self.invalid(state, action, format!("outside the action space 0..{}", self.action_count()))),
            Some(_) => Err(self.invalid(state, action, format!("no parent of a forest of {k} trees by this action"))),
        }
    }

    fn log_reward(&self, state: &Forest) -> f64 {
        let log_r: f64 = state.trees.iter().map(|t| self.tree_log_reward(t)).sum();
        (self.config.offset + log_r) / self.config.temperature
    }

    fn encode(&self, state: &Forest, out: &mut [f32]) {
        let layout = self.feature_layout();
        let n = self.taxon_count() as f32;
        for (tree, slot) in state.trees.iter().zip(out.chunks_exact_mut(layout.slot_dim)) {
            slot[0] = 1.0;
            slot[1] = tree.leaf_count() as f32 / n;
            let root = &mut slot[FeatureLayout::SLOT_HEADER..];
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
        let global = &mut out[layout.slots * layout.slot_dim..];
        global[0] = state.trees.len() as f32 / n;
        global[1] = f32::from(u8::from(state.is_terminal()));
    }

    /// [`PhyloConfig::temperature`].
    fn reward_temperature(&self) -> Option<f64> {
        Some(self.config.temperature)
    }

    /// The same environment with [`PhyloConfig::temperature`] set to `temperature` (validated).
    fn with_reward_temperature(&self, temperature: f64) -> Result<PhyloEnv> {
        let config = PhyloConfig { temperature, ..self.config.clone() };
        config.validate()?;
        Ok(PhyloEnv { config, ..self.clone() })
    }

    fn signature(&self) -> String {
        let c = &self.config;
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for t in 0..self.taxon_count() {
            for &byte in self.alignment.taxa()[t].as_bytes().iter().chain(self.alignment.codes(t)) {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!(
            "phylo:{}:{}x{}:{hash:016x}:T{}:C{}:B{}:S{}:L{}:{:?}",
            c.reward,
            self.taxon_count(),
            self.alignment.site_count(),
            c.temperature,
            c.offset,
            self.bins,
            c.bin_size,
            c.prior_rate,
            c.missing
        )
    }
}

impl Enumerable for PhyloEnv {}

impl PhyloEnv {
    /// The Fitch state sets at the root of `tree` and its parsimony score.
    pub fn fitch_tree(&self, tree: &RootedTree) -> (FitchSet, f64) {
        let weights = self.alignment.weights();
        let mut sets: Vec<Cow<'_, FitchSet>> = Vec::with_capacity(tree.nodes().len());
        let mut score = 0.0;
        for node in tree.nodes() {
            sets.push(match node.children {
                None => Cow::Borrowed(&self.fitch_leaves[usize::from(node.min_leaf)]),
                Some((l, r)) => {
                    let (set, cost) = FitchSet::merge(&sets[usize::from(l)], &sets[usize::from(r)], weights);
                    score += cost;
                    Cow::Owned(set)
                }
            });
        }
        (sets.pop().expect("non-empty").into_owned(), score)
    }

    /// The JC69 partials at the root of `tree` and the log prior density of its branch lengths.
    pub fn partials_tree(&self, tree: &RootedTree) -> (Partials, f64) {
        let lengths: Vec<f64> =
            tree.nodes().iter().map(|n| if n.bin == NO_BIN { 0.0 } else { self.config.bin_length(n.bin) }).collect();
        let edges: Vec<f64> =
            lengths.iter().zip(tree.nodes()).filter(|(_, n)| n.bin != NO_BIN).map(|(l, _)| *l).collect();
        (self.partials_with_lengths(tree, &lengths), log_exponential_prior(&edges, self.config.prior_rate))
    }

    /// The JC69 partials at the root of `tree` with explicit branch lengths: `lengths[i]` is the
    /// length of the edge above node `i` (ignored at the root).
    pub fn partials_with_lengths(&self, tree: &RootedTree, lengths: &[f64]) -> Partials {
        let mut partials: Vec<Cow<'_, Partials>> = Vec::with_capacity(tree.nodes().len());
        for node in tree.nodes() {
            partials.push(match node.children {
                None => Cow::Borrowed(&self.partial_leaves[usize::from(node.min_leaf)]),
                Some((l, r)) => {
                    let (l, r) = (usize::from(l), usize::from(r));
                    Cow::Owned(Partials::combine(&partials[l], lengths[l], &partials[r], lengths[r]))
                }
            });
        }
        partials.pop().expect("non-empty").into_owned()
    }

    /// `tree` in Newick with the alignment's taxon names, and for JC69 the branch lengths of its
    /// bins. The terminal unrooted tree (rooted on taxon 0's edge) is written with a bifurcating
    /// root whose taxon-0 side has length 0, which is the same unrooted tree.
    pub fn newick(&self, tree: &RootedTree) -> String {
        fn write(env: &PhyloEnv, tree: &RootedTree, i: usize, out: &mut String) {
            let node = &tree.nodes()[i];
            match node.children {
                None => out.push_str(&quote(&env.alignment.taxa()[usize::from(node.min_leaf)])),
                Some((l, r)) => {
                    out.push('(');
                    write(env, tree, usize::from(l), out);
                    out.push(',');
                    write(env, tree, usize::from(r), out);
                    out.push(')');
                }
            }
            if env.config.reward == PhyloReward::Jc69 && i + 1 != tree.nodes().len() {
                let length = if node.bin == NO_BIN { 0.0 } else { env.config.bin_length(node.bin) };
                out.push_str(&format!(":{length}"));
            }
        }
        let mut out = String::new();
        write(self, tree, tree.nodes().len() - 1, &mut out);
        out.push(';');
        out
    }

    /// The untempered `log R` of one tree: `−M` or `log P(Y | T, b) + log P(b)` (for the terminal
    /// unrooted tree, whose virtual root lies on an edge, this is the reward of the unrooted tree).
    pub fn tree_log_reward(&self, tree: &RootedTree) -> f64 {
        match self.config.reward {
            PhyloReward::Parsimony => -self.fitch_tree(tree).1,
            PhyloReward::Jc69 => {
                let (partials, log_prior) = self.partials_tree(tree);
                partials.log_likelihood(self.alignment.weights()) + log_prior
            }
        }
    }
}
