//! The continuous part of the step log-terms of hybrid environments ([`crate::env::continuous`]):
//! the mixture log-densities of the drawn values, added to `log P_F`, and their gradients with
//! respect to the trunk's raw mixture outputs.

use crate::env::Environment;
use crate::env::continuous::checked_step;
use crate::policy::PolicyOutput;
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// `∂ log p(x_t) / ∂ trunk[row, t]` for the mixture rows of every hybrid step, as
/// `(step, row, value)`.
pub(super) type DensityGrads = Vec<(usize, usize, f64)>;

/// Adds `log p(x_t | s_t, a_t)` to `log_pf[t]` for every step of `traj` that drew values and
/// returns the gradients of those log-densities (empty for a discrete environment).
pub(super) fn add_log_densities<E: Environment>(
    env: &E,
    traj: &Trajectories<E::State>,
    output: &PolicyOutput,
    log_pf: &mut [f64],
) -> Result<DensityGrads> {
    let Some(steps) = env.continuous() else {
        return Ok(Vec::new());
    };
    let block = output.mixture_head().map_or(0, |m| m.block());
    let mut grads = Vec::new();
    let mut d_raw = vec![0.0; block];
    for (t, lp) in log_pf.iter_mut().enumerate() {
        let (count, head) = checked_step(steps, &traj.states[t], traj.actions[t])?;
        if count > 0 && traj.continuous_dim < count {
            return Err(Error::InconsistentEnvironment(format!(
                "step {t} draws {count} continuous values but the batch stores {} per step",
                traj.continuous_dim
            )));
        }
        for (coord, &x) in traj.continuous_values(t)[..count].iter().enumerate() {
            let (Some(mixture), Some(row)) = (output.mixture(t, head, coord), output.mixture_row(head, coord)) else {
                return Err(Error::InconsistentEnvironment(
                    "a hybrid step needs a policy with a mixture head (Policy::for_env)".into(),
                ));
            };
            *lp += mixture.log_density(x);
            d_raw.fill(0.0);
            mixture.add_log_density_grad(x, 1.0, &mut d_raw);
            grads.extend(d_raw.iter().enumerate().map(|(i, &g)| (t, row + i, g)));
        }
    }
    Ok(grads)
}
