//! Forward sampling from the source.

use std::ops::Range;

use rayon::prelude::*;

use super::{MAX_TRAJECTORY_LENGTH, Running, Slot, dead_end, round_features, too_long};
use crate::backend::Backend;
use crate::env::{Environment, EnvironmentExt};
use crate::policy::categorical::{masked_log_softmax_into, sample_action};
use crate::policy::{Exploration, Policy, RoundCaches};
use crate::rng::{Purpose, Rng, stream};
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// Names the random streams of one batch: trajectory `i` draws from
/// `stream(seed, purpose, [round, i])`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    /// The run's seed.
    pub seed: u64,
    /// What the batch is for.
    pub purpose: Purpose,
    /// The round (usually the training iteration).
    pub round: u64,
}

impl Draw {
    /// The stream of trajectory `i`.
    pub fn rng(&self, i: usize) -> Rng {
        stream(self.seed, self.purpose, &[self.round, i as u64])
    }
}

/// Samples `n` complete trajectories from the source with the forward policy under
/// `exploration`, drawing from the streams named by `draw`.
///
/// Fails if a state has no allowed action, if a trajectory never ends, or if a sampled terminal
/// object has a NaN or infinite log-reward.
pub fn sample_forward<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    n: usize,
    exploration: Exploration,
    draw: Draw,
) -> Result<Trajectories<E::State>> {
    sample_forward_range(env, policy, 0..n, exploration, draw)
}

/// Samples the trajectories numbered `range` of the draw: trajectory `i` uses the stream
/// `draw.rng(i)`, so sampling `0..a` and then `a..n` gives the same trajectories as
/// [`sample_forward`] with `n`. Evaluators use it to process a large sample in chunks.
pub fn sample_forward_range<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    range: Range<usize>,
    exploration: Exploration,
    draw: Draw,
) -> Result<Trajectories<E::State>> {
    sample_rounds(env, policy, range, exploration, draw, None)
}

/// [`sample_forward`] that also keeps each round's forward pass in `rounds`, with the round and
/// column of every step of the returned trajectories, so that a training step on the same policy
/// can reuse the activations ([`Policy::forward_gathered`]). The trajectories are the same as
/// [`sample_forward`]'s.
pub fn sample_forward_recorded<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    n: usize,
    exploration: Exploration,
    draw: Draw,
    rounds: &mut RoundCaches<B>,
) -> Result<Trajectories<E::State>> {
    sample_rounds(env, policy, 0..n, exploration, draw, Some(rounds))
}

/// The lock-step sampling loop behind [`sample_forward_range`] and [`sample_forward_recorded`].
fn sample_rounds<E: Environment, B: Backend>(
    env: &E,
    policy: &Policy<B>,
    range: Range<usize>,
    exploration: Exploration,
    draw: Draw,
    mut rounds: Option<&mut RoundCaches<B>>,
) -> Result<Trajectories<E::State>> {
    if let Some(rounds) = rounds.as_deref_mut() {
        rounds.start();
    }
    let recording = rounds.is_some();
    let n = range.len();
    let first = range.start;
    // Hybrid environments also draw each step's continuous values from the mixture head.
    let hybrid = env.continuous();
    if let Some(steps) = hybrid {
        super::hybrid::check_policy(steps, policy)?;
    }
    let dim = hybrid.map_or(0, |steps| steps.dim());
    let actions = env.action_count();
    let exit = env.exit_action();
    let mut active: Vec<Slot<E::State>> =
        range.map(|i| Slot::new(Running::new(env, env.source()), draw.rng(i), i - first)).collect();
    let mut done: Vec<Option<(super::Record<E::State>, f64)>> = (0..n).map(|_| None).collect();
    let mut length = 0;
    while !active.is_empty() {
        length += 1;
        if length > MAX_TRAJECTORY_LENGTH {
            return Err(too_long(&active[0].running.state));
        }
        let (features, column_of) = round_features(env.feature_dim(), active.iter().map(|s| &s.running));
        let output = match rounds.as_deref_mut() {
            Some(rounds) => {
                // The training step gets the features again from the trajectories.
                let cache = rounds.next_round(features.ncols());
                let output = policy.forward(features, cache)?;
                cache.release_inputs();
                output
            }
            None => policy.infer(&features)?,
        };
        let round = length - 1;
        // Per trajectory: draw an action and apply it. Returns Some(log R) when the trajectory ends.
        let advance = |(i, slot): (usize, &mut Slot<E::State>)| -> Result<Option<f64>> {
            let r = &mut slot.running;
            // The trajectory's column of the round's pass (shared by trajectories in the same state).
            let j = column_of[i];
            if !masked_log_softmax_into(output.forward_logits(j), &r.forward_mask, &mut slot.log_probs) {
                return Err(dead_end(&r.state, "forward"));
            }
            let action = sample_action(&slot.log_probs, &r.forward_mask, exploration, &mut slot.rng, &mut slot.scratch);
            r.push(action);
            if recording {
                r.record.columns.push((round, j));
            }
            let values = match hybrid {
                Some(steps) => {
                    let values = super::hybrid::draw_values(steps, &output, j, &r.state, action, &mut slot.rng)?;
                    r.record.continuous.extend(&values);
                    r.record.continuous.resize(r.record.actions.len() * dim, 0.0);
                    values
                }
                None => Vec::new(),
            };
            if action == exit {
                let log_reward = env.checked_log_reward(&r.state)?;
                if log_reward == f64::NEG_INFINITY {
                    let reason = if hybrid.is_some() {
                        "a sampled terminal object has zero reward density"
                    } else {
                        "a sampled terminal object has zero reward; mask its exit action instead"
                    };
                    return Err(Error::InvalidReward {
                        value: log_reward,
                        state: format!("{:?}", r.state),
                        reason: reason.into(),
                    });
                }
                return Ok(Some(log_reward));
            }
            match hybrid {
                Some(steps) => steps.step_with(&mut r.state, action, &values)?,
                None => env.step(&mut r.state, action)?,
            }
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
    let mut out = Trajectories::with_continuous(env.feature_dim(), actions, dim);
    let mut columns = Vec::new();
    for (record, log_reward) in done.into_iter().flatten() {
        columns.extend(record.columns);
        out.states.extend(record.states);
        out.actions.extend(record.actions);
        out.features.extend(record.features);
        out.forward_masks.extend(record.forward_masks);
        out.backward_masks.extend(record.backward_masks);
        out.continuous.extend(record.continuous);
        out.log_reward.push(log_reward);
        out.offsets.push(out.actions.len());
    }
    if let Some(rounds) = rounds {
        rounds.set_columns(columns);
    }
    Ok(out)
}
