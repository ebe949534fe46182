//! Monte-Carlo evaluation for state spaces too large to enumerate.

use super::divergence::logsumexp;
use super::{EvalReport, Evaluate};
use crate::backend::Backend;
use crate::env::Environment;
use crate::objective::Requirements;
use crate::policy::{Exploration, Policy};
use crate::rng::Purpose;
use crate::sampler::{Draw, sample_backward, sample_forward};
use crate::terms::{StepTerms, feature_matrix};
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// Monte-Carlo estimate of the L1 distance between the terminal distribution and `R/Z`.
///
/// With `x_i ∼ p_T` from `samples` forward trajectories, `Ẑ` the importance-sampling estimate
/// `mean exp(log R + log P_B − log P_F)` over those trajectories, and `p̂_T(x_i)` the estimate
/// `mean_k exp(log P_F(τ_k) − log P_B(τ_k|x_i))` over `backward_samples` trajectories
/// `τ_k ∼ P_B(·|x_i)`:
///
/// `L1 = Σ_x |p_T(x) − R(x)/Z| = E_{x∼p_T} |1 − R(x)/(Z p_T(x))| ≈ mean_i |1 − R(x_i)/(Ẑ p̂_T(x_i))|`.
///
/// The estimate is consistent (it converges as both sample counts grow) but biased for finite
/// samples; it is exact-free and works on any environment. For a hybrid environment
/// ([`crate::env::continuous`]), which has no backward sampler, it reports `log Z` and the ELBO only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonteCarloEvaluator {
    /// Forward trajectories per evaluation.
    pub samples: usize,
    /// Backward trajectories per sampled terminal object.
    pub backward_samples: usize,
    /// The run's seed (evaluation streams derive from it).
    pub seed: u64,
}

impl MonteCarloEvaluator {
    /// An evaluator with the given sample counts.
    pub fn new(samples: usize, backward_samples: usize, seed: u64) -> Result<Self> {
        if samples == 0 {
            return Err(Error::config("eval.samples", samples, "must be positive"));
        }
        if backward_samples == 0 {
            return Err(Error::config("eval.backward_samples", backward_samples, "must be positive"));
        }
        Ok(MonteCarloEvaluator { samples, backward_samples, seed })
    }
}

/// `log w = log R + Σ log P_B − Σ log P_F` per trajectory under `policy`.
fn log_weights<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    traj: &Trajectories<E::State>,
) -> Result<Vec<f64>> {
    let output = policy.infer(&feature_matrix(traj))?;
    let terms = StepTerms::compute(env, traj, &output, &Requirements::default())?;
    Ok(terms.log_weights(traj))
}

impl<E: Environment, B: Backend> Evaluate<E, B> for MonteCarloEvaluator {
    fn evaluate(&self, env: &E, policy: &Policy<B>, round: u64) -> Result<EvalReport> {
        let draw = Draw { seed: self.seed, purpose: Purpose::Eval, round };
        let forward = sample_forward(env, policy, self.samples, Exploration::default(), draw)?;
        let log_w = log_weights(env, policy, &forward)?;
        let n = log_w.len() as f64;
        let log_z = logsumexp(&log_w) - n.ln();
        let elbo = log_w.iter().sum::<f64>() / n;
        if env.continuous().is_some() {
            // No backward trajectories (their continuous values cannot be read back from states):
            // log Z and the ELBO only.
            return Ok(EvalReport {
                exact: false,
                log_z_exact: Some(log_z),
                elbo: Some(elbo),
                ..EvalReport::default()
            });
        }
        // Backward trajectories: `backward_samples` per sampled terminal object.
        let k = self.backward_samples;
        let terminals: Vec<E::State> =
            (0..forward.len()).flat_map(|i| std::iter::repeat_n(forward.terminal(i).clone(), k)).collect();
        let back_draw = Draw { seed: self.seed, purpose: Purpose::Backward, round: round ^ (1 << 63) };
        let backward = sample_backward(env, policy, &terminals, back_draw)?;
        // `log P_F(τ) − log P_B(τ|x) = log R(x) − log w(τ)` for each backward trajectory.
        let back_ratios: Vec<f64> =
            backward.log_reward.iter().zip(log_weights(env, policy, &backward)?).map(|(r, w)| r - w).collect();
        let mut total = 0.0;
        for (i, chunk) in back_ratios.chunks(k).enumerate() {
            let log_pt = logsumexp(chunk) - (k as f64).ln();
            total += (1.0 - (forward.log_reward[i] - log_z - log_pt).exp()).abs();
        }
        let l1 = total / n;
        Ok(EvalReport {
            l1: Some(l1),
            exact: false,
            tv: Some(0.5 * l1),
            log_z_exact: Some(log_z),
            elbo: Some(elbo),
            ..EvalReport::default()
        })
    }

    fn mode_threshold(&self) -> Option<f64> {
        None
    }
}
