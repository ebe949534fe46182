//! The parameters of the phylogenetics environment.

use gfn_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::alignment::MissingCoding;

/// Which reward the environment targets (DOMAINS §1.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhyloReward {
    /// Maximum parsimony: `log R = −M(T)`, the Fitch score (gap as a fifth state). Topology only.
    #[default]
    Parsimony,
    /// Bayesian JC69: `log R = log P(Y | T, b) + log P(b)` with i.i.d. Exponential branch lengths
    /// chosen from discrete bins (the uniform topology prior is constant and left out).
    Jc69,
}

impl std::fmt::Display for PhyloReward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PhyloReward::Parsimony => "parsimony",
            PhyloReward::Jc69 => "jc69",
        })
    }
}

/// How a JC69 merge chooses the branch-length bins of its new edges (DOMAINS §1.3).
///
/// Parsimony has no branch lengths, so the setting does not change its environment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BranchActions {
    /// One action per (pair, left bin, right bin): `n(n−1)/2 · B²` merge actions (PhyloGFN's ICLR
    /// variant). Quadratic in `B`; DS1 with 50 bins needs about 880k actions.
    Joint,
    /// A merge is a short sequence of steps — choose the pair, then the left bin, then the right
    /// bin, then commit the pair — so the action space is `n(n−1)/2 + B + (2n − 3) + 1` wide.
    #[default]
    Factorised,
}

impl std::fmt::Display for BranchActions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BranchActions::Joint => "joint",
            BranchActions::Factorised => "factorised",
        })
    }
}

/// How JC69 branch lengths are represented (DOMAINS §1.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BranchLengths {
    /// Discrete bins (`bins`, `bin_size`), chosen by [`BranchActions`].
    #[default]
    Bins,
    /// Real lengths: a merge chooses the pair and draws its two edges' log-lengths from the
    /// policy's mixture head (the final merge one, for the fused edge); see
    /// [`super::continuous`]. JC69 only; not enumerable.
    Continuous,
}

impl std::fmt::Display for BranchLengths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BranchLengths::Bins => "bins",
            BranchLengths::Continuous => "continuous",
        })
    }
}

/// Parameters of [`super::env::PhyloEnv`] (besides the alignment).
///
/// The training log-reward is `(offset + log R) / temperature` (DOMAINS §4.5): the offset `C` only
/// shifts log Z, the temperature sharpens (`T < 1`) or flattens (`T > 1`) the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhyloConfig {
    /// The reward.
    pub reward: PhyloReward,
    /// The reward temperature `T > 0`.
    pub temperature: f64,
    /// The reward offset `C` (finite).
    pub offset: f64,
    /// JC69 only: the number of branch-length bins `B` in `1..=1024`; bin `k` is length
    /// `(k + 1) · bin_size`.
    pub bins: usize,
    /// JC69 only: the bin width (> 0, in expected substitutions per site).
    pub bin_size: f64,
    /// JC69 only: the rate λ > 0 of the Exponential branch-length prior.
    pub prior_rate: f64,
    /// JC69 only: joint or factorised branch-length actions (bins only).
    pub branch_actions: BranchActions,
    /// JC69 only: binned or continuous branch lengths.
    pub branch_lengths: BranchLengths,
    /// Parsimony only: how `?`/`N` are coded.
    pub missing: MissingCoding,
    /// Append the log reward temperature `ln T` to the global features, so that one policy can be
    /// trained at several temperatures (temperature-conditioned training,
    /// [`gfn_core::train::ConditionConfig`]).
    pub temperature_feature: bool,
}

impl Default for PhyloConfig {
    fn default() -> Self {
        PhyloConfig {
            reward: PhyloReward::Parsimony,
            temperature: 1.0,
            offset: 0.0,
            bins: 50,
            bin_size: 0.001,
            prior_rate: 10.0,
            branch_actions: BranchActions::Factorised,
            branch_lengths: BranchLengths::Bins,
            missing: MissingCoding::AllStates,
            temperature_feature: false,
        }
    }
}

impl PhyloConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(Error::config("temperature", self.temperature, "must be finite and > 0"));
        }
        if !self.offset.is_finite() {
            return Err(Error::config("offset", self.offset, "must be finite"));
        }
        if !(1..=1024).contains(&self.bins) {
            return Err(Error::config("bins", self.bins, "must be in 1..=1024"));
        }
        if !(self.bin_size.is_finite() && self.bin_size > 0.0) {
            return Err(Error::config("bin_size", self.bin_size, "must be finite and > 0"));
        }
        if !(self.prior_rate.is_finite() && self.prior_rate > 0.0) {
            return Err(Error::config("prior_rate", self.prior_rate, "must be finite and > 0"));
        }
        if self.branch_lengths == BranchLengths::Continuous && self.reward != PhyloReward::Jc69 {
            return Err(Error::config(
                "branch_lengths",
                self.branch_lengths,
                format!("needs the jc69 reward (the {} reward has no branch lengths)", self.reward),
            ));
        }
        Ok(())
    }

    /// The branch length of bin `bin`: `(bin + 1) · bin_size`.
    pub fn bin_length(&self, bin: u16) -> f64 {
        (f64::from(bin) + 1.0) * self.bin_size
    }
}
