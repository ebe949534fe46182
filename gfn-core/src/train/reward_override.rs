//! Trajectory-level log-rewards that replace the environment's reward in training batches.

use crate::Result;
use crate::trajectory::Trajectories;

/// Computes the log-reward the objective sees for each trajectory of a batch, in place of
/// `log R(x)` from the environment (set with [`Trainer::set_log_reward_override`]).
///
/// The value may depend on the whole trajectory, not only on its terminal object: the
/// EP-GFlowNet server trains on `Σ_n log P_F^(n)(τ) − log P_B^(n)(τ|x)` of frozen client
/// policies ([`crate::ep::ClientEnsemble`]).
///
/// [`Trainer::set_log_reward_override`]: super::Trainer::set_log_reward_override
pub trait LogRewardOverride<S>: Send + Sync + std::fmt::Debug {
    /// One log-reward per trajectory of `traj`.
    fn log_rewards(&self, traj: &Trajectories<S>) -> Result<Vec<f64>>;
}
