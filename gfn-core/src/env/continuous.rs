//! Hybrid steps: a discrete action together with a few real numbers drawn at the same step.
//!
//! Some environments build objects with continuous parts, e.g. the branch lengths of a
//! phylogenetic tree (DOMAINS §1.3, variant 2). Such an environment keeps its discrete action
//! space (masks, exit action, backward masks) and additionally declares, through
//! [`Environment::continuous`](super::Environment::continuous), that the step `(s, a)` also draws
//! `count(s, a)` real values `x ∈ ℝ^k`. The policy then has a mixture-of-Gaussians head per
//! coordinate ([`crate::policy::mixture`]), the sampler draws `x` after `a`, the trajectory stores
//! it, and the forward log-probability of the step is
//!
//! ```text
//! log P_F(a, x | s) = log P_F(a | s) + log p(x | s, a)      (a density in the drawn coordinates x)
//! ```
//!
//! **Conventions.**
//! - *Measure.* Densities are with respect to Lebesgue measure on the drawn values themselves, so
//!   the environment's `log_reward` must be a log-density in the same coordinates. An environment
//!   that draws `u = log b` but has a reward density over `b` adds the log-Jacobian
//!   `Σ log |db/du| = Σ u` to its log-reward; then `log R + log P_B − log P_F` is unchanged by the
//!   change of variables and importance-sampled marginal likelihoods need no correction.
//! - *Backward policy.* The drawn values are stored in the child state, so undoing a step is
//!   deterministic in them: `P_B` stays the (uniform or learned) categorical over the backward
//!   mask, and `backward_step` must restore the parent exactly.
//! - *Conditioning.* The density of a step's values may depend on the discrete action through
//!   [`ContinuousSteps::head`]: each head has its own mixture parameters, output by the policy for
//!   every state.
//!
//! Hybrid environments support on-policy forward sampling (ε-uniform exploration and the logit
//! temperature apply to the discrete part only) and the trajectory-level balance objectives; the
//! engine rejects what would need to re-create states from discrete action paths alone (replay
//! buffers, backward trajectories from target samples, flow matching, exact enumeration).

use crate::{Error, Result};

/// The continuous part of a hybrid environment; see the [module documentation](self).
pub trait ContinuousSteps<S>: Send + Sync {
    /// The most values one step draws, `D` (`count` never exceeds it).
    fn dim(&self) -> usize;
    /// The number of mixture heads `G`: a step's values use the parameters of head
    /// [`ContinuousSteps::head`]`(s, a)` in `0..G`.
    fn heads(&self) -> usize {
        1
    }
    /// The number of values the step `(state, action)` draws (0 for a purely discrete step, and
    /// always 0 for the exit action).
    fn count(&self, state: &S, action: usize) -> usize;
    /// The mixture head of the step `(state, action)`: conditions the density on the discrete
    /// action.
    fn head(&self, state: &S, action: usize) -> usize {
        let _ = (state, action);
        0
    }
    /// Applies the forward action `action` with its drawn `values` (`values.len() == count(state,
    /// action)`) to `state` in place. On error the state is left unchanged.
    fn step_with(&self, state: &mut S, action: usize, values: &[f64]) -> Result<()>;
    /// Where the values typically lie, `(center, scale)`: the mixture means start at `center` and
    /// move like `center + scale · output` near it (squashed into [`ContinuousSteps::mean_bounds`]),
    /// and the standard deviations scale with `scale`, so a freshly initialised policy draws
    /// values around `center` with a spread of a fraction of `scale`.
    fn location(&self) -> (f64, f64) {
        (0.0, 1.0)
    }
    /// The open interval `(low, high)` the mixture means are squashed into; it must contain the
    /// centre of [`ContinuousSteps::location`]. Values can still be drawn outside it, within a
    /// few standard deviations. The default is the centre ± 8 scales.
    fn mean_bounds(&self) -> (f64, f64) {
        let (center, scale) = self.location();
        (center - 8.0 * scale, center + 8.0 * scale)
    }
}

/// The number of values and the mixture head of the step `(state, action)`, or an error when they
/// exceed the declared [`ContinuousSteps::dim`] and [`ContinuousSteps::heads`].
pub fn checked_step<S: std::fmt::Debug>(
    steps: &dyn ContinuousSteps<S>,
    state: &S,
    action: usize,
) -> Result<(usize, usize)> {
    let (count, head) = (steps.count(state, action), steps.head(state, action));
    if count > steps.dim() || (count > 0 && head >= steps.heads()) {
        return Err(Error::InconsistentEnvironment(format!(
            "step (state {state:?}, action {action}) draws {count} values with head {head}, but the environment \
             declares at most {} values and {} heads",
            steps.dim(),
            steps.heads()
        )));
    }
    Ok((count, head))
}
