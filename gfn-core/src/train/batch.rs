//! [`Batch`]: assembling the training batch of one iteration.

use super::loss::Loss;
use super::trainer::Trainer;
use crate::backend::Backend;
use crate::env::Environment;
use crate::replay::ReplayEntry;
use crate::rng::{Purpose, stream};
use crate::sampler::{Draw, sample_backward, sample_forward, sample_forward_recorded};
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// The training batch of one iteration.
pub(super) struct Batch<S> {
    /// Every trajectory trained on.
    pub(super) traj: Trajectories<S>,
    /// The replay entries of the freshly sampled (on-policy) trajectories.
    pub(super) fresh: Vec<ReplayEntry>,
    /// Whether `traj` is exactly the on-policy trajectories, with their sampling passes kept in
    /// the trainer's `rounds` for the training forward pass to reuse.
    pub(super) recorded: bool,
}

impl<E: Environment, B: Backend> Trainer<E, B> {
    /// The training batch of iteration `round`: on-policy trajectories, replayed ones and backward
    /// trajectories from target samples as configured.
    pub(super) fn sample_batch(&mut self, round: u64) -> Result<Batch<E::State>> {
        let seed = self.config.seed;
        let backward = Draw { seed, purpose: Purpose::Backward, round };
        let targets = if self.config.objective.needs_targets() {
            let sampler = self.target.as_ref().ok_or_else(|| {
                Error::config(
                    "objective",
                    self.config.objective.kind,
                    "trains on backward trajectories from target samples: call Trainer::set_target_sampler",
                )
            })?;
            let mut rng = stream(seed, Purpose::Target, &[round]);
            Some(sampler.sample_targets(self.config.batch_size, &mut rng))
        } else {
            None
        };
        if self.config.objective.targets_only() {
            let targets = targets.unwrap_or_default();
            let traj = sample_backward(&self.env, &self.policy, &targets, backward)?;
            return Ok(Batch { traj, fresh: Vec::new(), recorded: false });
        }
        let draws = self.config.replay.draws(self.config.batch_size);
        let replaying = draws > 0 && !self.scalars.replay.is_empty();
        let record = !replaying
            && targets.is_none()
            && matches!(self.loss, Loss::Balance(_) | Loss::Divergence(_))
            && self.policy.can_gather();
        let (n, exploration) = (self.config.batch_size, self.config.exploration.exploration());
        let draw = Draw { seed, purpose: Purpose::Forward, round };
        let mut traj = if record {
            sample_forward_recorded(&self.env, &self.policy, n, exploration, draw, &mut self.rounds)?
        } else {
            sample_forward(&self.env, &self.policy, n, exploration, draw)?
        };
        // Stored entries (best, modes, replay) keep the reference temperature's log-reward.
        let rescore =
            self.temperatures.as_ref().filter(|t| t.current() != t.reference()).map(|t| t.reference_env(&self.env));
        let fresh: Vec<ReplayEntry> = (0..traj.len())
            .map(|i| ReplayEntry {
                path: traj.action_path(i).to_vec(),
                log_reward: rescore.map_or(traj.log_reward[i], |env| env.log_reward(traj.terminal(i))),
                values: traj.values_path(i).to_vec(),
            })
            .collect();
        if replaying {
            let mut rng = stream(seed, Purpose::Replay, &[round]);
            let drawn = self.scalars.replay.draw(draws, &mut rng);
            let terminals = drawn.into_iter().map(|e| self.replay_entry(e)).collect::<Result<Vec<_>>>()?;
            traj.append(sample_backward(&self.env, &self.policy, &terminals, backward)?);
        }
        if let Some(targets) = targets {
            traj.append(sample_backward(&self.env, &self.policy, &targets, backward)?);
        }
        if let Some(source) = &self.log_reward_override {
            traj.log_reward = source.log_rewards(&traj)?;
        }
        Ok(Batch { traj, fresh, recorded: record })
    }
}
