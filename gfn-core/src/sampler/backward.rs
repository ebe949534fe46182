//! Backward sampling from given terminal objects with `P_B`.

use rayon::prelude::*;

use super::forward::Draw;
use super::{MAX_TRAJECTORY_LENGTH, Record, Running, Slot, dead_end, round_features, too_long};
use crate::backend::Backend;
use crate::env::{Environment, EnvironmentExt};
use crate::policy::categorical::{backward_log_probs_into, sample_action};
use crate::policy::{Exploration, Policy};
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// Samples one trajectory ending at each of `terminals`, walking back to the source with `P_B`
/// (uniform over parents, or the policy's learned backward logits).
///
/// Fails if a terminal object may not exit, has an invalid log-reward, or if a state without
/// parents is not the source, and for hybrid environments (whose steps' continuous values it
/// cannot read back from states).
pub fn sample_backward<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    terminals: &[E::State],
    draw: Draw,
) -> Result<Trajectories<E::State>> {
    sample_backward_from(env, policy, terminals, 0, draw)
}

/// [`sample_backward`] for trajectories numbered from `first`: the trajectory ending at
/// `terminals[j]` draws from `draw.rng(first + j)`, so a long list of terminal objects can be
/// processed in chunks with the same result as one call.
pub fn sample_backward_from<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    terminals: &[E::State],
    first: usize,
    draw: Draw,
) -> Result<Trajectories<E::State>> {
    if env.continuous().is_some() && !terminals.is_empty() {
        return Err(Error::config(
            "sampler",
            env.name(),
            "backward trajectories are not supported for environments with continuous steps",
        ));
    }
    let actions = env.action_count();
    let exit = env.exit_action();
    let source = env.source();
    let mut log_rewards = Vec::with_capacity(terminals.len());
    let mut active = Vec::with_capacity(terminals.len());
    for (i, x) in terminals.iter().enumerate() {
        let mut running = Running::new(env, x.clone());
        if !running.forward_mask[exit] {
            return Err(Error::InvalidAction {
                action: exit,
                state: format!("{x:?}"),
                reason: "backward trajectories must start at a terminal object, which allows the exit action".into(),
            });
        }
        log_rewards.push(env.checked_log_reward(x)?);
        running.push(exit);
        active.push(Slot::new(running, draw.rng(first + i), i));
    }
    let mut done: Vec<Option<Record<E::State>>> = (0..terminals.len()).map(|_| None).collect();
    // Trajectories already at the source are complete.
    let mut length = 0;
    loop {
        let (finished, still): (Vec<_>, Vec<_>) =
            active.into_iter().partition(|s| s.running.backward_mask.iter().all(|m| !m));
        for slot in finished {
            if slot.running.state != source {
                return Err(dead_end(&slot.running.state, "backward"));
            }
            done[slot.index] = Some(slot.running.record);
        }
        active = still;
        if active.is_empty() {
            break;
        }
        length += 1;
        if length > MAX_TRAJECTORY_LENGTH {
            return Err(too_long(&active[0].running.state));
        }
        let (output, column_of) = if policy.learned_backward() {
            let (features, column_of) = round_features(env.feature_dim(), active.iter().map(|s| &s.running));
            (Some(policy.infer(&features)?), column_of)
        } else {
            (None, Vec::new())
        };
        let retreat = |(j, slot): (usize, &mut Slot<E::State>)| -> Result<()> {
            let r = &mut slot.running;
            let logits = output.as_ref().and_then(|o| o.backward_logits(column_of[j]));
            backward_log_probs_into(logits, &r.backward_mask, &mut slot.log_probs);
            let action = sample_action(
                &slot.log_probs,
                &r.backward_mask,
                Exploration::default(),
                &mut slot.rng,
                &mut slot.scratch,
            );
            env.backward_step(&mut r.state, action)?;
            r.refresh(env);
            r.push(action);
            Ok(())
        };
        if rayon::current_num_threads() > 1 && active.len() > 1 {
            active.par_iter_mut().enumerate().try_for_each(retreat)?;
        } else {
            active.iter_mut().enumerate().try_for_each(retreat)?;
        }
    }
    let (features, masks) = (env.feature_dim(), actions);
    let mut out = Trajectories::new(features, masks);
    for (record, log_reward) in done.into_iter().flatten().zip(log_rewards) {
        // Records run from the terminal back to the source; reverse them step by step.
        let steps = record.actions.len();
        for t in (0..steps).rev() {
            out.states.push(record.states[t].clone());
            out.actions.push(record.actions[t]);
            out.features.extend_from_slice(&record.features[t * features..(t + 1) * features]);
            out.forward_masks.extend_from_slice(&record.forward_masks[t * masks..(t + 1) * masks]);
            out.backward_masks.extend_from_slice(&record.backward_masks[t * masks..(t + 1) * masks]);
        }
        out.log_reward.push(log_reward);
        out.offsets.push(out.actions.len());
    }
    Ok(out)
}
