//! The PhyloGFN environment: build a phylogenetic tree by merging the trees of a forest.
//!
//! - **States** ([`Forest`]): a forest of canonical rooted binary trees over the taxa, sorted by
//!   minimum taxon; the source is the `n` single leaves. A forest of one tree is the terminal
//!   *unrooted* tree, in the canonical form of [`super::forest`], so the same unrooted tree reached
//!   by different last merges is one state and the terminal distribution is over unrooted trees.
//! - **Actions** (DOMAINS §1.1), with `B` branch-length bins (`B = 1` for parsimony), in one of two
//!   [`BranchActions`] modes (parsimony always uses the joint one, which then has no bin choices):
//!   - *joint* (module `joint`): *merge* `{i, j}` of trees `i < j` with bins `(l, r)` for the two
//!     new edges: index `pair(i, j) · B² + l · B + r`, where `pair` is the `triu_indices(n, 1)`
//!     order over the maximal `n` trees, masked to `j < k` for `k` current trees (`k ≥ 3`);
//!     *final merge* of the last two trees into an unrooted tree whose fused edge has bin `b`:
//!     index `P · B² + e · B + b`, where `P = n(n−1)/2` and `e` is the canonical number of the
//!     created edge in the resulting tree (`0..2n−3`). A two-tree forest allows exactly the `B`
//!     actions of its own `e`; the edge number is what makes the `2n − 3` parents of an unrooted
//!     tree reach it by distinct actions;
//!   - *factorised* (module `factorised`, the default): `P` pair actions, `B` bin actions and
//!     `2n − 3` edge actions. A merge is the chain pair → left bin → right bin → pair again
//!     (commit), the final merge bin → edge (commit), through [`Pending`] states;
//!   - *exit*, the last index, only at the unrooted tree.
//! - **Continuous branch lengths** ([`BranchLengths::Continuous`], [`super::continuous`]): the
//!   actions are `[pair: P][edge: 2n − 3][exit]`; a pair action merges at once, drawing the two new
//!   edges' log-lengths, and the edge action of a two-tree forest draws the fused edge's.
//! - **Backward policy**: the uniform backward policy of the engine (uniform over backward-mask
//!   actions) is exactly PhyloGFN's: a forest has one parent per non-leaf tree (split its root;
//!   `P_B = 1 / #non-leaf trees`) and an unrooted tree has one parent per edge (`P_B = 1/(2n − 3)`),
//!   since branch lengths are stored in the state; a pending state has one parent.
//! - **Rewards**: `log R_train = (C + log R) / T` with `log R = −M` (Fitch parsimony) or
//!   `log P(Y | T, b) + log P(b)` (JC69, Exponential prior); see [`PhyloConfig`]. On non-terminal
//!   forests [`Environment::log_reward`] gives the forward-looking partial reward: the same formula
//!   summed over the trees (each JC69 tree with a stationary root).
//! - **Features** ([`FeatureLayout`]): one slot per tree in canonical order, then a global part
//!   (with factorised actions, the pending merge is flagged in both).
//!   With the merge actions as unordered slot pairs this is the environment's `SlotLayout`, so
//!   it trains with the permutation-equivariant pair policy (`Architecture::Pairs`) as well as the
//!   MLP.

use std::borrow::Cow;

use gfn_core::env::{DEFAULT_STATE_LIMIT, Enumerable, Environment, PairKind, SlotLayout};
use gfn_core::{Error, Result};

use super::actions::{ActionLayout, Move};
use super::alignment::Alignment;
use super::config::{BranchActions, BranchLengths, PhyloConfig, PhyloReward};
pub use super::features::FeatureLayout;
use super::fitch::FitchSet;
use super::forest::{Edge, Node, RootedTree, unroot};
use super::likelihood::{Partials, log_exponential_prior};

/// The most taxa the environment accepts.
pub const MAX_TAXA: usize = 128;
/// The largest action space the environment builds (joint: `P · B² + (2n − 3) · B + 1`).
pub const MAX_ACTIONS: usize = 1 << 24;

/// A state: the trees of the forest in canonical order (one tree: the terminal unrooted tree),
/// and with factorised branch actions the merge in progress.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Forest {
    /// The trees, sorted by minimum taxon.
    pub trees: Vec<RootedTree>,
    /// The merge in progress (factorised branch actions only; `None` between merges).
    pub pending: Option<Pending>,
}

impl Forest {
    /// Whether this is a terminal unrooted tree.
    pub fn is_terminal(&self) -> bool {
        self.trees.len() == 1
    }
}

/// A merge in progress with factorised branch actions: what has been chosen so far. Trees `i < j`
/// are positions in the forest; `left` is the bin of tree `i`'s new edge, `right` of tree `j`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pending {
    /// The pair is chosen; the left bin comes next.
    Pair {
        /// The left tree.
        i: usize,
        /// The right tree.
        j: usize,
    },
    /// The left bin is chosen; the right bin comes next.
    Left {
        /// The left tree.
        i: usize,
        /// The right tree.
        j: usize,
        /// The left bin.
        left: u16,
    },
    /// Both bins are chosen; the pair action commits the merge.
    Ready {
        /// The left tree.
        i: usize,
        /// The right tree.
        j: usize,
        /// The left bin.
        left: u16,
        /// The right bin.
        right: u16,
    },
    /// The final merge of a two-tree forest: the fused edge's bin is chosen; the edge action of
    /// the edge it creates commits it.
    Fused {
        /// The fused edge's bin.
        bin: u16,
    },
}

/// The phylogenetics environment; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct PhyloEnv {
    pub(super) alignment: Alignment,
    pub(super) config: PhyloConfig,
    pub(super) actions: ActionLayout,
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
        // Continuous lengths use the factorised layout without bins: [pair][edge][exit].
        let (bins, mode) = match (config.reward, config.branch_lengths) {
            (PhyloReward::Parsimony, _) => (1, BranchActions::Joint),
            (PhyloReward::Jc69, BranchLengths::Bins) => (config.bins, config.branch_actions),
            (PhyloReward::Jc69, BranchLengths::Continuous) => (0, BranchActions::Factorised),
        };
        let actions = ActionLayout::action_count_wide(mode, n, bins);
        if actions > MAX_ACTIONS as u128 {
            return Err(Error::config(
                "bins",
                bins,
                format!(
                    "{n} taxa with {bins} bins need {actions} {mode} branch actions, more than {MAX_ACTIONS} (use \
                     factorised branch actions)"
                ),
            ));
        }
        let (fitch_leaves, partial_leaves) = match config.reward {
            PhyloReward::Parsimony => ((0..n).map(|t| FitchSet::leaf(&alignment, t, config.missing)).collect(), vec![]),
            PhyloReward::Jc69 => (vec![], (0..n).map(|t| Partials::leaf(&alignment, t)).collect()),
        };
        let actions = ActionLayout::new(mode, n, bins);
        Ok(PhyloEnv { alignment, config, actions, fitch_leaves, partial_leaves })
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

    /// The number of branch-length bins `B` of the action space (1 for parsimony, 0 with
    /// continuous branch lengths).
    pub fn bins(&self) -> usize {
        self.actions.bins
    }

    /// The branch-length action mode in effect (always [`BranchActions::Joint`] for parsimony,
    /// which has one bin and no bin steps).
    pub fn branch_actions(&self) -> BranchActions {
        self.actions.mode
    }

    /// Whether branch lengths are real numbers drawn by the policy ([`BranchLengths::Continuous`]).
    pub fn is_continuous(&self) -> bool {
        self.config.branch_lengths == BranchLengths::Continuous
    }

    /// The length of the edge above `node`: the bin's length or the real length (JC69), `None`
    /// at a root or without branch lengths (parsimony).
    pub fn edge_length(&self, node: &Node) -> Option<f64> {
        match (self.config.reward, node.edge()) {
            (PhyloReward::Parsimony, _) | (_, Edge::ROOT) => None,
            (PhyloReward::Jc69, edge) if self.is_continuous() => Some(edge.real_length()),
            (PhyloReward::Jc69, edge) => Some(self.config.bin_length(edge.bin)),
        }
    }

    /// The edge created by the final merge of a two-tree forest.
    pub(super) fn final_edge(&self, forest: &Forest) -> usize {
        unroot(&forest.trees[0], &forest.trees[1], 0, self.taxon_count()).1
    }

    /// The split of the tree at position `i` back into the parent forest: `(j, left, left_edge,
    /// right, right_edge)`, where `j` is the position of `right` in the parent, or `None` for a leaf.
    pub(super) fn split_at(&self, forest: &Forest, i: usize) -> Option<(usize, RootedTree, Edge, RootedTree, Edge)> {
        let (left, left_edge, right, right_edge) = forest.trees[i].split_edges()?;
        let j = 1 + forest.trees.iter().enumerate().filter(|&(x, t)| x != i && t.min_leaf() < right.min_leaf()).count();
        Some((j, left, left_edge, right, right_edge))
    }

    pub(super) fn invalid(&self, forest: &Forest, action: usize, reason: impl Into<String>) -> Error {
        Error::InvalidAction { action, state: format!("{forest:?}"), reason: reason.into() }
    }
}

impl Environment for PhyloEnv {
    type State = Forest;

    fn name(&self) -> String {
        "phylo".into()
    }

    fn action_count(&self) -> usize {
        self.actions.action_count()
    }

    fn exit_action(&self) -> usize {
        self.actions.exit()
    }

    fn feature_dim(&self) -> usize {
        self.feature_layout().dim()
    }

    /// The [`FeatureLayout`] slots (one per tree, `n` of them) and the pair actions as unordered
    /// pairs in `triu` order — with `B²` bin pairs each (joint), or one choose-or-commit action each
    /// (factorised) — so the permutation-equivariant pair policy applies. The extra actions are
    /// the `(2n − 3)·B` final merges and exit (joint), or the `B` bins, `2n − 3` edges and exit
    /// (factorised: the bin logits come from the pooled slot embeddings and the global features,
    /// where the pending merge is flagged).
    fn slot_layout(&self) -> Option<SlotLayout> {
        let layout = self.feature_layout();
        Some(SlotLayout {
            slots: layout.slots,
            slot_dim: layout.slot_dim,
            global_dim: layout.global_dim,
            pairs: PairKind::Unordered,
            per_pair: self.actions.per_pair(),
            extra_actions: self.action_count() - self.actions.pair_block(),
        })
    }

    fn source(&self) -> Forest {
        let n = u16::try_from(self.taxon_count()).expect("at most MAX_TAXA taxa");
        Forest { trees: (0..n).map(RootedTree::leaf).collect(), pending: None }
    }

    fn forward_mask(&self, state: &Forest, mask: &mut [bool]) {
        mask.fill(false);
        if self.is_continuous() {
            return self.continuous_forward_mask(state, mask);
        }
        match self.actions.mode {
            BranchActions::Joint => self.joint_forward_mask(state, mask),
            BranchActions::Factorised => self.factorised_forward_mask(state, mask),
        }
    }

    fn backward_mask(&self, state: &Forest, mask: &mut [bool]) {
        mask.fill(false);
        if self.is_continuous() {
            return self.continuous_backward_mask(state, mask);
        }
        match self.actions.mode {
            BranchActions::Joint => self.joint_backward_mask(state, mask),
            BranchActions::Factorised => self.factorised_backward_mask(state, mask),
        }
    }

    fn step(&self, state: &mut Forest, action: usize) -> Result<()> {
        match self.actions.decode(action) {
            None => Err(self.invalid(state, action, format!("outside the action space 0..{}", self.action_count()))),
            Some(Move::Exit) => Err(self.invalid(state, action, "the exit action has no child state")),
            Some(_) if self.is_continuous() => {
                Err(self.invalid(state, action, "continuous branch lengths: every merge draws lengths (step_with)"))
            }
            Some(m) => match self.actions.mode {
                BranchActions::Joint => self.joint_step(state, action, m),
                BranchActions::Factorised => self.factorised_step(state, action, m),
            },
        }
    }

    fn backward_step(&self, state: &mut Forest, action: usize) -> Result<()> {
        match self.actions.decode(action) {
            None => Err(self.invalid(state, action, format!("outside the action space 0..{}", self.action_count()))),
            Some(Move::Exit) => Err(self.invalid(state, action, "the exit action is never a backward action")),
            Some(m) if self.is_continuous() => self.continuous_backward_step(state, action, m),
            Some(m) => match self.actions.mode {
                BranchActions::Joint => self.joint_backward_step(state, action, m),
                BranchActions::Factorised => self.factorised_backward_step(state, action, m),
            },
        }
    }

    /// `(C + log R) / T`. With continuous lengths `log R` is the density over the log-lengths
    /// `u`, whose Jacobian `Σ u` stays outside the temperature: the tempered target is
    /// `R(b)^{1/T}` as a density over the lengths `b` (as in PhyloGFN), written in `u`.
    fn log_reward(&self, state: &Forest) -> f64 {
        let log_jacobian: f64 = state.trees.iter().map(|t| self.log_jacobian(t)).sum();
        let log_r: f64 = state.trees.iter().map(|t| self.tree_log_reward(t)).sum::<f64>() - log_jacobian;
        (self.config.offset + log_r) / self.config.temperature + log_jacobian
    }

    fn encode(&self, state: &Forest, out: &mut [f32]) {
        self.write_features(state, out);
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

    fn continuous(&self) -> Option<&dyn gfn_core::env::ContinuousSteps<Forest>> {
        self.is_continuous().then_some(self as _)
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
            "phylo:{}:{}x{}:{hash:016x}:T{}:C{}:B{}:S{}:L{}:{:?}{}{}{}",
            c.reward,
            self.taxon_count(),
            self.alignment.site_count(),
            c.temperature,
            c.offset,
            self.bins(),
            c.bin_size,
            c.prior_rate,
            c.missing,
            match self.actions.mode {
                BranchActions::Joint => "",
                BranchActions::Factorised => ":factorised",
            },
            if self.is_continuous() { ":continuous" } else { "" },
            if c.temperature_feature { ":temperature-feature" } else { "" }
        )
    }
}

impl Enumerable for PhyloEnv {
    /// The engine's default limit while the terminal objects alone could fit in it; 0 (refuse at
    /// once with `TooManyStates`) when they cannot: `(2n − 5)!!` unrooted topologies, times `B`
    /// bins on each of the `2n − 3` edges with binned lengths. Without this, `--eval auto` on a
    /// real alignment would enumerate millions of forests (with their Felsenstein partials)
    /// before giving up.
    fn state_limit(&self) -> usize {
        let n = self.taxon_count();
        let topologies = (3..=2 * n.max(3) - 5).step_by(2).fold(1usize, |acc, k| acc.saturating_mul(k));
        let edges = u32::try_from(2 * n.max(2) - 3).unwrap_or(u32::MAX);
        let terminals = topologies.saturating_mul(self.bins().max(1).saturating_pow(edges));
        if terminals <= DEFAULT_STATE_LIMIT { DEFAULT_STATE_LIMIT } else { 0 }
    }
}

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
        let lengths: Vec<f64> = tree.nodes().iter().map(|n| self.edge_length(n).unwrap_or(0.0)).collect();
        let edges: Vec<f64> = tree.nodes().iter().filter_map(|n| self.edge_length(n)).collect();
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

    /// The untempered `log R` of one tree: `−M` or `log P(Y | T, b) + log P(b)` (for the terminal
    /// unrooted tree, whose virtual root lies on an edge, this is the reward of the unrooted tree).
    /// With continuous branch lengths the density is over the drawn `u = log b`, so the
    /// log-Jacobian `Σ_e log b_e` is added ([`gfn_core::env::continuous`]).
    pub fn tree_log_reward(&self, tree: &RootedTree) -> f64 {
        match self.config.reward {
            PhyloReward::Parsimony => -self.fitch_tree(tree).1,
            PhyloReward::Jc69 => {
                let (partials, log_prior) = self.partials_tree(tree);
                partials.log_likelihood(self.alignment.weights()) + log_prior + self.log_jacobian(tree)
            }
        }
    }
}
