//! Forward sampling in hybrid environments ([`crate::env::continuous`]): each step draws a
//! discrete action, then the step's continuous values from the policy's mixture head.

use rayon::prelude::*;

use super::forward::Draw;
use super::{MAX_TRAJECTORY_LENGTH, Record, Running, Slot, dead_end, feature_matrix, too_long};
use crate::backend::Backend;
use crate::env::continuous::checked_step;
use crate::env::{ContinuousSteps, Environment, EnvironmentExt};
use crate::policy::categorical::{masked_log_softmax_into, sample_action};
use crate::policy::{Exploration, Policy, PolicyOutput};
use crate::rng::Rng;
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// [`super::sample_forward`] for an environment with continuous steps `steps`: after the
/// discrete action `a` of state `s` (drawn under `exploration`), the `count(s, a)` values are
/// drawn on-policy from the mixture of head `head(s, a)` and applied with `step_with`.
pub(super) fn sample_forward_hybrid<E: Environment, B: Backend>(
    env: &E,
    steps: &dyn ContinuousSteps<E::State>,
    policy: &Policy<B>,
    n: usize,
    exploration: Exploration,
    draw: Draw,
) -> Result<Trajectories<E::State>> {
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
    let exit = env.exit_action();
    let mut active: Vec<Slot<E::State>> =
        (0..n).map(|i| Slot::new(Running::new(env, env.source()), draw.rng(i), i)).collect();
    let mut done: Vec<Option<(Record<E::State>, f64)>> = (0..n).map(|_| None).collect();
    let mut length = 0;
    while !active.is_empty() {
        length += 1;
        if length > MAX_TRAJECTORY_LENGTH {
            return Err(too_long(&active[0].running.state));
        }
        let output = policy.infer(&feature_matrix(env.feature_dim(), active.iter().map(|s| &s.running)))?;
        let advance = |(j, slot): (usize, &mut Slot<E::State>)| -> Result<Option<f64>> {
            let r = &mut slot.running;
            if !masked_log_softmax_into(output.forward_logits(j), &r.forward_mask, &mut slot.log_probs) {
                return Err(dead_end(&r.state, "forward"));
            }
            let action = sample_action(&slot.log_probs, &r.forward_mask, exploration, &mut slot.rng, &mut slot.scratch);
            r.push(action);
            let values = draw_values(steps, &output, j, &r.state, action, &mut slot.rng)?;
            r.record.continuous.extend(&values);
            r.record.continuous.resize(r.record.actions.len() * dim, 0.0);
            if action == exit {
                let log_reward = env.checked_log_reward(&r.state)?;
                if !log_reward.is_finite() {
                    return Err(Error::InvalidReward {
                        value: log_reward,
                        state: format!("{:?}", r.state),
                        reason: "a sampled terminal object has zero reward density".into(),
                    });
                }
                return Ok(Some(log_reward));
            }
            steps.step_with(&mut r.state, action, &values)?;
            r.refresh(env);
            if !r.backward_mask[action] {
                return Err(Error::InconsistentEnvironment(format!(
                    "action {action} leads into state {:?}, whose backward mask does not allow undoing it",
                    r.state
                )));
            }
            Ok(None)
        };
        let finished: Vec<Option<f64>> = if rayon::current_num_threads() > 1 && active.len() > 1 {
            active.par_iter_mut().enumerate().map(advance).collect::<Result<_>>()?
        } else {
            active.iter_mut().enumerate().map(advance).collect::<Result<_>>()?
        };
        let mut still = Vec::with_capacity(active.len());
        for (slot, fin) in active.into_iter().zip(finished) {
            match fin {
                Some(log_reward) => done[slot.index] = Some((slot.running.record, log_reward)),
                None => still.push(slot),
            }
        }
        active = still;
    }
    let mut out = Trajectories::with_continuous(env.feature_dim(), env.action_count(), dim);
    for (record, log_reward) in done.into_iter().flatten() {
        out.states.extend(record.states);
        out.actions.extend(record.actions);
        out.features.extend(record.features);
        out.forward_masks.extend(record.forward_masks);
        out.backward_masks.extend(record.backward_masks);
        out.continuous.extend(record.continuous);
        out.log_reward.push(log_reward);
        out.offsets.push(out.actions.len());
    }
    Ok(out)
}

/// Draws the continuous values of the step `(state, action)` from the mixtures of state `j`.
fn draw_values<S: std::fmt::Debug>(
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
