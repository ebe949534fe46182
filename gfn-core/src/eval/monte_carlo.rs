//! Monte-Carlo evaluation for state spaces too large to enumerate.

use super::divergence::logsumexp;
use super::{EvalReport, Evaluate};
use crate::backend::Backend;
use crate::env::Environment;
use crate::objective::Requirements;
use crate::policy::{Exploration, Policy};
use crate::rng::Purpose;
use crate::sampler::{Draw, sample_backward_from, sample_forward_range};
use crate::terms::{StepTerms, take_feature_matrix};
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// Monte-Carlo estimate of the L1 distance between the terminal distribution and `R/Z`.
///
/// With `x_i ∼ p_T` from `samples` forward trajectories, `Ẑ` the importance-sampling estimate
/// `mean exp(log R + log P_B − log P_F)` over those trajectories, and `p̂_T(x_i)` the estimate
/// `mean_k exp(log P_F(τ_k) − log P_B(τ_k|x_i))` over `backward_samples` trajectories
/// `τ_k ∼ P_B(·|x_i)`:
///
/// `L1 = Σ_x |p_T(x) − R(x)/Z| = 2 Σ_x (p_T(x) − R(x)/Z)⁺ = 2 E_{x∼p_T} (1 − R(x)/(Z p_T(x)))⁺
///  ≈ 2 mean_i (1 − R(x_i)/(Ẑ p̂_T(x_i)))⁺`
///
/// (both distributions sum to one, so the positive and negative parts of `p_T − R/Z` have the same
/// mass). Unlike `mean_i |1 − R/(Ẑ p̂_T)|`, which has the same limit, every term lies in `[0, 2]`: a
/// terminal object whose `p̂_T` is underestimated by many orders of magnitude (few backward
/// samples in a large state space) cannot blow the estimate up to `10³²`. The estimate is
/// consistent (it converges as both sample counts grow) but biased for finite samples — in
/// particular, mass the sampler never reaches also lowers `Ẑ`, and the estimate does not see
/// it; it is exact-free and works on any environment. For a hybrid environment
/// ([`crate::env::continuous`]), which has no backward sampler, it reports `log Z` and the ELBO only.
///
/// The cost of an evaluation grows with the feature values its trajectories encode (states ×
/// feature dimension: the policy's first layer reads each of them), which for a 27-taxon
/// phylogenetic forest (10⁵ features, 100 steps) is 10⁷ per trajectory. With a
/// `feature_budget`, the forward trajectories stop (at a chunk boundary) once they have used half
/// of it, and the L1 estimate takes the first of their terminal objects whose `backward_samples`
/// backward trajectories fit in the rest (none: no L1). [`EvalReport::samples`] and
/// [`EvalReport::l1_objects`] say how many were used. Small environments never reach the default
/// budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonteCarloEvaluator {
    /// Forward trajectories per evaluation.
    pub samples: usize,
    /// Backward trajectories per sampled terminal object.
    pub backward_samples: usize,
    /// The run's seed (evaluation streams derive from it).
    pub seed: u64,
    /// Trajectories sampled and scored at a time; `None` sizes chunks from the feature dimension
    /// (about 2²⁰ feature values per trajectory step). The sampled trajectories do not depend on
    /// it; the reported values only up to floating-point rounding (the f32 matrix kernels may
    /// round differently for different row counts).
    pub chunk_len: Option<usize>,
    /// The most feature values that the evaluation's trajectories encode; `None`: no limit.
    pub feature_budget: Option<usize>,
}

/// The default [`MonteCarloEvaluator::feature_budget`]: 2²⁹ feature values (a 256-wide first layer
/// spends about 0.3 TFLOP reading them, seconds to tens of seconds on one core).
pub const DEFAULT_FEATURE_BUDGET: usize = 1 << 29;

impl MonteCarloEvaluator {
    /// An evaluator with the given sample counts and the [`DEFAULT_FEATURE_BUDGET`].
    pub fn new(samples: usize, backward_samples: usize, seed: u64) -> Result<Self> {
        if samples == 0 {
            return Err(Error::config("eval.samples", samples, "must be positive"));
        }
        if backward_samples == 0 {
            return Err(Error::config("eval.backward_samples", backward_samples, "must be positive"));
        }
        Ok(MonteCarloEvaluator {
            samples,
            backward_samples,
            seed,
            chunk_len: None,
            feature_budget: Some(DEFAULT_FEATURE_BUDGET),
        })
    }
}

/// `log w = log R + Σ log P_B − Σ log P_F` per trajectory under `policy` (taking the features
/// out of `traj`: a chunk of 27-taxon forests holds hundreds of megabytes of them).
fn log_weights<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    traj: &mut Trajectories<E::State>,
) -> Result<Vec<f64>> {
    let output = policy.infer(&take_feature_matrix(traj))?;
    let terms = StepTerms::compute(env, traj, &output, &Requirements::default())?;
    Ok(terms.log_weights(traj))
}

/// The default number of trajectories that evaluations sample and score at a time for states with
/// `feature_dim` features: about 2²⁰ feature values per trajectory step, so that memory stays
/// bounded (a few hundred megabytes) even when states have 10⁵ features, as phylogenetic forests
/// do, while small environments use one chunk.
pub fn default_chunk_len(feature_dim: usize) -> usize {
    ((1 << 20) / feature_dim.max(1)).max(1)
}

impl<E: Environment, B: Backend> Evaluate<E, B> for MonteCarloEvaluator {
    fn evaluate(&self, env: &E, policy: &Policy<B>, round: u64) -> Result<EvalReport> {
        // Chunks draw from the streams of their trajectory numbers: the trajectories do not
        // depend on the chunk length.
        let chunk = self.chunk_len.unwrap_or_else(|| default_chunk_len(env.feature_dim())).max(1);
        let draw = Draw { seed: self.seed, purpose: Purpose::Eval, round };
        let budget = self.feature_budget.unwrap_or(usize::MAX);
        let backward_phase = env.continuous().is_none();
        let forward_budget = if backward_phase { budget / 2 } else { budget };
        let mut used = 0usize;
        let mut log_w = Vec::with_capacity(self.samples);
        let mut terminals = Vec::with_capacity(self.samples);
        let mut log_rewards = Vec::with_capacity(self.samples);
        for start in (0..self.samples).step_by(chunk) {
            if start > 0 && used >= forward_budget {
                break;
            }
            let range = start..(start + chunk).min(self.samples);
            let mut forward = sample_forward_range(env, policy, range, Exploration::default(), draw)?;
            used = used.saturating_add(forward.features.len());
            log_w.extend(log_weights(env, policy, &mut forward)?);
            terminals.extend((0..forward.len()).map(|i| forward.terminal(i).clone()));
            log_rewards.extend_from_slice(&forward.log_reward);
        }
        let n = log_w.len() as f64;
        let log_z = logsumexp(&log_w) - n.ln();
        let elbo = log_w.iter().sum::<f64>() / n;
        let forward_report = EvalReport {
            exact: false,
            log_z_exact: Some(log_z),
            elbo: Some(elbo),
            samples: Some(log_w.len()),
            ..EvalReport::default()
        };
        if !backward_phase {
            // No backward trajectories (their continuous values cannot be read back from states):
            // log Z and the ELBO only.
            return Ok(forward_report);
        }
        // Backward trajectories: `backward_samples` per sampled terminal object, for as many
        // objects as the rest of the budget holds at the forward trajectories' mean cost;
        // trajectory `i·k + j` is the `j`-th one ending at terminal object `i`.
        let k = self.backward_samples;
        let per_object = (used as f64 / n * k as f64).max(1.0);
        let objects = (((budget - used.min(budget)) as f64 / per_object) as usize).min(terminals.len());
        if objects == 0 {
            return Ok(EvalReport { l1_objects: Some(0), ..forward_report });
        }
        let back_draw = Draw { seed: self.seed, purpose: Purpose::Backward, round: round ^ (1 << 63) };
        let per_chunk = (chunk / k).max(1);
        let mut total = 0.0;
        for start in (0..objects).step_by(per_chunk) {
            let end = (start + per_chunk).min(objects);
            let repeated: Vec<E::State> =
                terminals[start..end].iter().flat_map(|x| std::iter::repeat_n(x.clone(), k)).collect();
            let mut backward = sample_backward_from(env, policy, &repeated, start * k, back_draw)?;
            // `log P_F(τ) − log P_B(τ|x) = log R(x) − log w(τ)` for each backward trajectory.
            let log_w = log_weights(env, policy, &mut backward)?;
            let back_ratios: Vec<f64> = backward.log_reward.iter().zip(log_w).map(|(r, w)| r - w).collect();
            for (i, ratios) in (start..end).zip(back_ratios.chunks(k)) {
                let log_pt = logsumexp(ratios) - (k as f64).ln();
                total += 2.0 * (1.0 - (log_rewards[i] - log_z - log_pt).exp()).max(0.0);
            }
        }
        let l1 = total / objects as f64;
        Ok(EvalReport { l1: Some(l1), tv: Some(0.5 * l1), l1_objects: Some(objects), ..forward_report })
    }

    fn mode_threshold(&self) -> Option<f64> {
        None
    }
}
