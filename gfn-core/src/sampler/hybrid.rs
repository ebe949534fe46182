//! The continuous part of forward sampling in hybrid environments ([`crate::env::continuous`]):
//! after its discrete action, a step draws its continuous values on-policy from the policy's
//! mixture head (head `head(s, a)`, `count(s, a)` values), which `step_with` then applies.

use crate::backend::Backend;
use crate::env::ContinuousSteps;
use crate::env::continuous::checked_step;
use crate::policy::{Policy, PolicyOutput};
use crate::rng::Rng;
use crate::{Error, Result};

/// Checks that `policy` has the mixture head the continuous steps `steps` need.
pub(super) fn check_policy<B: Backend, S>(steps: &dyn ContinuousSteps<S>, policy: &Policy<B>) -> Result<()> {
    let dim = steps.dim();
    if policy.mixture().is_none_or(|m| m.dim != dim || m.heads != steps.heads()) {
        return Err(Error::config(
            "policy",
            format!("{:?}", policy.mixture()),
            format!(
                "the environment draws up to {dim} continuous values per step with {} heads: build the policy \
                 with Policy::for_env",
                steps.heads()
            ),
        ));
    }
    Ok(())
}

/// Draws the continuous values of the step `(state, action)` from the mixtures of state `j`.
pub(super) fn draw_values<S: std::fmt::Debug>(
    steps: &dyn ContinuousSteps<S>,
    output: &PolicyOutput,
    j: usize,
    state: &S,
    action: usize,
    rng: &mut Rng,
) -> Result<Vec<f64>> {
    let (count, head) = checked_step(steps, state, action)?;
    (0..count)
        .map(|coord| {
            let mixture = output.mixture(j, head, coord).ok_or_else(|| {
                Error::InconsistentEnvironment("a hybrid step needs a policy with a mixture head".into())
            })?;
            Ok(mixture.sample(rng))
        })
        .collect()
}
