//! Evaluation: how close a policy's terminal distribution is to the normalised reward.
//!
//! For enumerable environments, [`ExactEvaluator`] computes the terminal distribution exactly by
//! dynamic programming over the state DAG and reports L1, total variation, both KLs, JSD, exact
//! `log Z` and the exact ELBO. For larger spaces, [`MonteCarloEvaluator`] estimates the L1
//! distance from samples with importance-sampled marginals.

pub mod divergence;
mod exact;
mod monte_carlo;
mod samples;

pub use exact::{ExactEvaluator, LogProbTables, TargetSampler};
pub use monte_carlo::{DEFAULT_FEATURE_BUDGET, MonteCarloEvaluator, default_chunk_len};
pub use samples::TargetSamples;

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::backend::Backend;
use crate::env::Environment;
use crate::policy::Policy;

/// What an evaluation measured. Fields a method cannot compute are `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// `Σ_x |p_T(x) − R(x)/Z|` (exact, or a Monte-Carlo estimate; see `exact`).
    pub l1: Option<f64>,
    /// Whether `l1` is exact.
    pub exact: bool,
    /// Total variation (half the L1).
    pub tv: Option<f64>,
    /// `KL(π ‖ p_T)` with `π = R/Z`.
    pub kl_target_model: Option<f64>,
    /// `KL(p_T ‖ π)`.
    pub kl_model_target: Option<f64>,
    /// Jensen–Shannon divergence between `p_T` and `π`.
    pub jsd: Option<f64>,
    /// The exact (or estimated) `log Z`.
    pub log_z_exact: Option<f64>,
    /// `E_{τ∼P_F}[log R(x) + log P_B(τ|x) − log P_F(τ)]`, a lower bound on `log Z`.
    pub elbo: Option<f64>,
    /// Number of distinct terminal objects of maximal reward.
    pub modes_total: Option<usize>,
    /// Monte-Carlo: the forward trajectories sampled.
    pub samples: Option<usize>,
    /// Monte-Carlo: the sampled terminal objects whose backward trajectories estimate `l1`.
    pub l1_objects: Option<usize>,
}

/// Something that can evaluate a policy on an environment.
pub trait Evaluate<E: Environment, B: Backend>: Send + Sync {
    /// Evaluates `policy`; `round` names the random streams used (if any).
    fn evaluate(&self, env: &E, policy: &Policy<B>, round: u64) -> Result<EvalReport>;
    /// Terminal objects with log-reward at or above this value count as modes.
    fn mode_threshold(&self) -> Option<f64>;
}
