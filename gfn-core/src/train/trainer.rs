//! The trainer: one training step at a time.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::config::{ObjectiveConfig, ObjectiveKind, TrainConfig};
use super::flow_step::flow_matching_step;
use super::reward_override::LogRewardOverride;
use crate::backend::{Backend, Cpu};
use crate::env::{Environment, EnvironmentExt};
use crate::eval::TargetSampler;
use crate::objective::{
    AlphaKl, AlphaTb, ContrastiveBalance, ControlVariate, DetailedBalance, FlowMatching, ForwardKl,
    ModifiedDetailedBalance, Objective, Pairing, Renyi, Requirements, ReverseKl, Sampling, SubTrajectoryBalance,
    TermGrads, TrajectoryBalance, Tsallis, VarGrad,
};
use crate::optim::{Adam, ScalarAdam, clip_grad_norm};
use crate::policy::{Policy, PolicyCache};
use crate::replay::{ReplayBuffer, ReplayEntry};
use crate::rng::{Purpose, stream};
use crate::sampler::{Draw, sample_backward, sample_forward};
use crate::terms::{StepTerms, feature_matrix};
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// The loss a trainer optimises.
#[derive(Debug)]
pub(super) enum Loss {
    /// An objective over trajectory log-terms.
    Balance(Box<dyn Objective>),
    /// Flow matching over edge log-flows.
    Flow(FlowMatching),
    /// Tsallis-α, rebuilt every step around a running reference `log Z` (the previous batch's
    /// mean `log w`), which fixes the scale of its weights without making it batch-normalised.
    Tsallis {
        /// The order α.
        alpha: f64,
        /// The baseline.
        control_variate: ControlVariate,
    },
}

impl Loss {
    fn build(config: &ObjectiveConfig) -> Result<Self> {
        let residual = config.residual;
        let cv = config.control_variate().control_variate();
        let balance: Box<dyn Objective> = match config.kind {
            ObjectiveKind::Tb => Box::new(TrajectoryBalance::new(residual)),
            ObjectiveKind::Db => Box::new(DetailedBalance::new(residual)),
            ObjectiveKind::Moddb => Box::new(ModifiedDetailedBalance::new(residual)),
            ObjectiveKind::Subtb => Box::new(SubTrajectoryBalance::new(config.lambda, residual)?),
            ObjectiveKind::Vargrad => Box::new(VarGrad::new(residual)),
            ObjectiveKind::Cb => Box::new(ContrastiveBalance::new(Pairing::Halves, residual)),
            ObjectiveKind::Cbf => Box::new(ContrastiveBalance::new(Pairing::AllPairs, residual)),
            ObjectiveKind::Fm => return Ok(Loss::Flow(FlowMatching::new(residual))),
            ObjectiveKind::Rkl => Box::new(ReverseKl::new(cv)?),
            ObjectiveKind::Fkl => Box::new(ForwardKl::new(Sampling::OnPolicy, cv)?),
            ObjectiveKind::Renyi => Box::new(Renyi::new(config.alpha, cv)?),
            ObjectiveKind::Akl => Box::new(AlphaKl::new(config.alpha, cv)?),
            ObjectiveKind::Atb => Box::new(AlphaTb::new(config.alpha)?),
            ObjectiveKind::Tsallis => {
                Tsallis::new(config.alpha, 0.0, cv)?;
                return Ok(Loss::Tsallis { alpha: config.alpha, control_variate: cv });
            }
        };
        Ok(Loss::Balance(balance))
    }

    fn requirements(&self) -> Requirements {
        match self {
            Loss::Balance(o) => o.requirements(),
            Loss::Flow(_) => Requirements::default(),
            Loss::Tsallis { alpha, control_variate } => {
                Tsallis { alpha: *alpha, log_z_ref: 0.0, control_variate: *control_variate }.requirements()
            }
        }
    }
}

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// The loss of the batch.
    pub loss: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Trajectories trained on (replayed ones included).
    pub trajectories: usize,
    /// Transitions trained on.
    pub transitions: usize,
    /// The batch estimate `mean(log R + log P_B − log P_F)` (an ELBO of `log Z` on-policy).
    pub log_w_mean: f64,
}

/// Trainer state that is not a tensor, saved in checkpoint sidecars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct ScalarState {
    pub(super) iteration: u64,
    pub(super) log_z: f64,
    pub(super) log_z_adam: ScalarAdam,
    pub(super) replay: ReplayBuffer,
    pub(super) modes: Vec<Vec<usize>>,
    pub(super) last_log_w_mean: f64,
    pub(super) loss_sum: f64,
    pub(super) loss_count: u64,
}

/// Trains a [`Policy`] on an environment.
///
/// ```no_run
/// # fn demo<E: gfn_core::env::Environment>(env: E) -> gfn_core::Result<()> {
/// use gfn_core::train::{RunOptions, TrainConfig, Trainer};
/// let mut trainer = Trainer::new(env, TrainConfig::default())?;
/// let summary = trainer.fit(None, &RunOptions::default())?;
/// println!("loss {:.3}", summary.final_loss);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Trainer<E: Environment, B: Backend = Cpu> {
    pub(super) env: E,
    pub(super) config: TrainConfig,
    pub(super) backend: B,
    pub(super) policy: Policy<B>,
    pub(super) adam: Adam<B>,
    pub(super) loss: Loss,
    pub(super) scalars: ScalarState,
    requirements: Requirements,
    cache: PolicyCache<B>,
    parent_cache: PolicyCache<B>,
    grads: TermGrads,
    mode_threshold: Option<f64>,
    mode_set: HashSet<E::State>,
    target: Option<Arc<dyn TargetSampler<E::State>>>,
    log_reward_override: Option<Arc<dyn LogRewardOverride<E::State>>>,
}

impl<E: Environment> Trainer<E, Cpu> {
    /// A trainer on the CPU backend.
    pub fn new(env: E, config: TrainConfig) -> Result<Self> {
        Trainer::with_backend(env, config, Cpu)
    }
}

impl<E: Environment, B: Backend> Trainer<E, B> {
    /// A trainer on the given backend; the policy is initialised from the seed.
    pub fn with_backend(env: E, config: TrainConfig, backend: B) -> Result<Self> {
        config.validate()?;
        let loss = Loss::build(&config.objective)?;
        let requirements = loss.requirements();
        let mut rng = stream(config.seed, Purpose::Init, &[]);
        let policy = Policy::new(
            backend.clone(),
            &config.policy,
            env.feature_dim(),
            env.action_count(),
            requirements.log_flow,
            &mut rng,
        )?;
        let adam = Adam::new(config.optim.adam)?;
        let log_z_adam = ScalarAdam::new(crate::optim::AdamConfig { lr: config.optim.lr_log_z, ..config.optim.adam })?;
        let scalars = ScalarState {
            iteration: 0,
            log_z: config.policy.log_z_init,
            log_z_adam,
            replay: ReplayBuffer::new(config.replay.clone()),
            modes: Vec::new(),
            last_log_w_mean: f64::NAN,
            loss_sum: 0.0,
            loss_count: 0,
        };
        Ok(Trainer {
            env,
            config,
            backend,
            policy,
            adam,
            loss,
            scalars,
            requirements,
            cache: PolicyCache::default(),
            parent_cache: PolicyCache::default(),
            grads: TermGrads::default(),
            mode_threshold: None,
            mode_set: HashSet::new(),
            target: None,
            log_reward_override: None,
        })
    }

    /// The environment.
    pub fn env(&self) -> &E {
        &self.env
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Changes the number of iterations to train to (e.g. when resuming for longer).
    pub fn set_iterations(&mut self, iterations: u64) {
        self.config.iterations = iterations;
    }

    /// The policy being trained.
    pub fn policy(&self) -> &Policy<B> {
        &self.policy
    }

    /// Iterations completed.
    pub fn iteration(&self) -> u64 {
        self.scalars.iteration
    }

    /// Sets the source of target samples `x ~ R/Z` that α-KL and α-TB train on (e.g. an
    /// [`ExactEvaluator`](crate::eval::ExactEvaluator) of an enumerable environment).
    pub fn set_target_sampler(&mut self, sampler: Arc<dyn TargetSampler<E::State>>) {
        self.target = Some(sampler);
    }

    /// Replaces the environment's log-reward of every training trajectory by `source`'s
    /// (replayed and target-sampled trajectories included; the replay buffer keeps the
    /// environment's reward).
    pub fn set_log_reward_override(&mut self, source: Arc<dyn LogRewardOverride<E::State>>) {
        self.log_reward_override = Some(source);
    }

    /// Terminal objects with log-reward at or above `threshold` count as modes from now on.
    pub fn track_modes(&mut self, threshold: Option<f64>) {
        self.mode_threshold = threshold;
    }

    /// Distinct modes found in training batches so far.
    pub fn modes_found(&self) -> usize {
        self.scalars.modes.len()
    }

    /// The current estimate of `log Z`: the learned scalar for TB and SubTB, the source flow for DB
    /// and FM, and the last batch's `mean(log R + log P_B − log P_F)` otherwise.
    pub fn log_z(&self) -> Result<f64> {
        if self.requirements.log_z {
            return Ok(self.scalars.log_z);
        }
        if self.requirements.log_flow || matches!(self.loss, Loss::Flow(_)) {
            let mut features = nalgebra::DMatrix::<f32>::zeros(self.env.feature_dim(), 1);
            let source = self.env.source();
            self.env.encode(&source, features.as_mut_slice());
            let out = self.policy.infer(&features)?;
            if let Some(f) = out.log_flow(0) {
                return Ok(f);
            }
            let mut mask = vec![false; self.env.action_count()];
            self.env.forward_mask(&source, &mut mask);
            let logits: Vec<f64> =
                out.forward_logits(0).iter().zip(&mask).filter(|(_, m)| **m).map(|(l, _)| f64::from(*l)).collect();
            return Ok(crate::eval::divergence::logsumexp(&logits));
        }
        Ok(self.scalars.last_log_w_mean)
    }

    /// The state reached from the source by `path`, validating every action.
    pub fn replay_path(&self, path: &[usize]) -> Result<E::State> {
        let mut state = self.env.source();
        for &a in path {
            state = self.env.child(&state, a)?;
        }
        Ok(state)
    }

    /// Runs one training iteration.
    pub fn step(&mut self) -> Result<StepStats> {
        let it = self.scalars.iteration;
        let seed = self.config.seed;
        let mut traj = sample_forward(
            &self.env,
            &self.policy,
            self.config.batch_size,
            self.config.exploration.exploration(),
            Draw { seed, purpose: Purpose::Forward, round: it },
        )?;
        let fresh: Vec<ReplayEntry> = (0..traj.len())
            .map(|i| ReplayEntry { path: traj.action_path(i).to_vec(), log_reward: traj.log_reward[i] })
            .collect();
        let draws = self.config.replay.draws(self.config.batch_size);
        if draws > 0 && !self.scalars.replay.is_empty() {
            let mut rng = stream(seed, Purpose::Replay, &[it]);
            let paths: Vec<Vec<usize>> =
                self.scalars.replay.draw(draws, &mut rng).into_iter().map(|e| e.path.clone()).collect();
            let terminals = paths.iter().map(|p| self.replay_path(p)).collect::<Result<Vec<_>>>()?;
            let replayed = sample_backward(
                &self.env,
                &self.policy,
                &terminals,
                Draw { seed, purpose: Purpose::Backward, round: it },
            )?;
            traj.append(replayed);
        }
        if self.config.objective.kind.needs_targets() {
            let sampler = self.target.as_ref().ok_or_else(|| {
                Error::config(
                    "objective",
                    self.config.objective.kind,
                    "trains on backward trajectories from target samples: call Trainer::set_target_sampler",
                )
            })?;
            let mut rng = stream(seed, Purpose::Target, &[it]);
            let targets = sampler.sample_targets(self.config.batch_size, &mut rng);
            let draw = Draw { seed, purpose: Purpose::Backward, round: it };
            traj.append(sample_backward(&self.env, &self.policy, &targets, draw)?);
        }
        if let Some(source) = &self.log_reward_override {
            traj.log_reward = source.log_rewards(&traj)?;
        }
        self.record_modes(&traj, &fresh);
        self.scalars.replay.extend(fresh);

        self.policy.zero_grad()?;
        let (loss, log_w_mean) = match &self.loss {
            Loss::Balance(_) | Loss::Tsallis { .. } => self.balance_step(&traj)?,
            Loss::Flow(fm) => {
                let fm = *fm;
                flow_matching_step(&self.env, &mut self.policy, &fm, &traj, &mut self.cache, &mut self.parent_cache)?
            }
        };
        if !loss.is_finite() {
            return Err(Error::NonFinite { what: format!("loss at iteration {it}"), value: loss });
        }
        let mut scalar_grads = [self.grads.log_z];
        let backend = self.backend.clone();
        let mut params: Vec<_> = self.policy.params_mut().into_iter().map(|(_, p)| p).collect();
        let grad_norm = clip_grad_norm(
            &backend,
            &mut params,
            &mut scalar_grads,
            self.config.optim.clip_grad_norm.unwrap_or(f64::INFINITY),
        )?;
        if !grad_norm.is_finite() {
            return Err(Error::NonFinite { what: format!("gradient norm at iteration {it}"), value: grad_norm });
        }
        self.adam.step(&backend, &mut params)?;
        if self.requirements.log_z {
            self.scalars.log_z_adam.step(&mut self.scalars.log_z, scalar_grads[0]);
            self.policy.log_z = self.scalars.log_z;
        }
        self.scalars.iteration += 1;
        self.scalars.last_log_w_mean = log_w_mean;
        self.scalars.loss_sum += loss;
        self.scalars.loss_count += 1;
        Ok(StepStats { loss, grad_norm, trajectories: traj.len(), transitions: traj.step_count(), log_w_mean })
    }

    /// Adds the distinct terminal objects of `traj` at or above the mode threshold to the modes
    /// found (keeping one action path per object, for checkpoints).
    fn record_modes(&mut self, traj: &Trajectories<E::State>, fresh: &[ReplayEntry]) {
        if let Some(threshold) = self.mode_threshold {
            for (i, e) in fresh.iter().enumerate().filter(|(_, e)| e.log_reward >= threshold) {
                if self.mode_set.insert(traj.terminal(i).clone()) {
                    self.scalars.modes.push(e.path.clone());
                }
            }
        }
    }

    /// Rebuilds the set of modes found after loading saved state.
    pub(super) fn restore_mode_set(&mut self) -> Result<()> {
        self.mode_set = self.scalars.modes.iter().map(|p| self.replay_path(p)).collect::<Result<_>>()?;
        Ok(())
    }

    /// One step of an objective over trajectory log-terms; returns the loss and the batch mean of
    /// `log w`.
    fn balance_step(&mut self, traj: &Trajectories<E::State>) -> Result<(f64, f64)> {
        let output = self.policy.forward(&feature_matrix(traj), &mut self.cache)?;
        let terms = StepTerms::compute(&self.env, traj, &output, &self.requirements)?;
        let log_w_mean = terms.log_weights(traj).iter().sum::<f64>() / traj.len() as f64;
        let tsallis;
        let objective: &dyn Objective = match &self.loss {
            Loss::Balance(objective) => objective.as_ref(),
            Loss::Tsallis { alpha, control_variate } => {
                let previous = self.scalars.last_log_w_mean;
                let reference = if previous.is_finite() { previous } else { log_w_mean };
                tsallis = Tsallis::new(*alpha, reference, *control_variate)?;
                &tsallis
            }
            Loss::Flow(_) => unreachable!("balance_step is only called for trajectory objectives"),
        };
        if self.requirements.log_reward_state
            && let Some(t) = terms.log_reward_state.iter().position(|r| *r == f64::NEG_INFINITY)
        {
            return Err(Error::config(
                "objective",
                objective.name(),
                format!("needs every state to be terminating, but state {:?} cannot exit", traj.states[t]),
            ));
        }
        let log_z = self.requirements.log_z.then_some(self.scalars.log_z);
        let loss = objective.evaluate(&terms.view(traj, log_z), &mut self.grads)?;
        let layout = self.policy.layout();
        let separate = self.policy.config().backward == crate::policy::BackwardPolicy::Learned;
        let (d_trunk, d_back) = terms.logit_grads(traj, &self.grads, layout, separate, self.env.exit_action());
        self.policy.backward(&self.cache, &d_trunk, d_back.as_ref())?;
        Ok((loss, log_w_mean))
    }
}
