//! The trainer: one training step at a time.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::batch::Batch;
use super::config::TrainConfig;
use super::divergence_step;
use super::flow_step::flow_matching_step;
use super::loss::Loss;
use super::reward_override::LogRewardOverride;
use super::temperature_set::{TemperatureEnvs, TemperatureScalars};
use crate::backend::{Backend, Cpu};
use crate::env::{Environment, EnvironmentExt};
use crate::eval::TargetSampler;
use crate::objective::{Requirements, TermGrads};
use crate::optim::{Adam, ScalarAdam, clip_grad_norm};
use crate::policy::{Policy, PolicyCache, RoundCaches};
use crate::replay::{ReplayBuffer, ReplayEntry};
use crate::rng::{Purpose, stream};
use crate::terms::{StepTerms, take_feature_matrix};
use crate::trajectory::Trajectories;
use crate::{Error, Result};
use nalgebra::DMatrix;

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
    /// The reward temperature the batch was trained at, if the environment has one (with
    /// temperature conditioning, the temperature drawn for this batch).
    pub reward_temperature: Option<f64>,
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
    /// The best terminal object of the fresh training trajectories so far, with its log-reward
    /// at the temperature in effect.
    #[serde(default)]
    pub(super) best: Option<ReplayEntry>,
    /// The reward temperature in effect while annealing, or the reference temperature of
    /// temperature-conditioned training (`None` otherwise).
    #[serde(default)]
    pub(super) reward_temperature: Option<f64>,
    /// Temperature-conditioned training: the `log Z` and logit scale of each conditioning
    /// temperature, in the order of [`super::ConditionConfig::temperatures`] (`log_z` and
    /// `log_z_adam` above mirror the current temperature's entry).
    #[serde(default)]
    pub(super) condition_scalars: Vec<TemperatureScalars>,
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
    pub(super) requirements: Requirements,
    cache: PolicyCache<B>,
    /// The passes of the last on-policy sampling run, reused by its training step.
    pub(super) rounds: RoundCaches<B>,
    parent_cache: PolicyCache<B>,
    grads: TermGrads,
    mode_threshold: Option<f64>,
    mode_set: HashSet<E::State>,
    pub(super) target: Option<Arc<dyn TargetSampler<E::State>>>,
    pub(super) log_reward_override: Option<Arc<dyn LogRewardOverride<E::State>>>,
    /// Temperature-conditioned training: the environments at the other temperatures.
    pub(super) temperatures: Option<TemperatureEnvs<E>>,
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
        super::hybrid::check_supported(&env, &config)?;
        let mut config = config;
        let (env, temperatures) = if config.condition.is_active() {
            let (set, reference) = TemperatureEnvs::build(&env, &config.condition)?;
            (reference, Some(set))
        } else {
            (env, None)
        };
        let reward_temperature = if temperatures.is_some() {
            env.reward_temperature()
        } else if config.anneal.is_active() {
            let t = env.reward_temperature().ok_or_else(|| {
                Error::config(
                    "anneal",
                    config.anneal.kind,
                    format!("environment {} has no reward temperature to anneal", env.name()),
                )
            })?;
            config.anneal.interval = Some(config.anneal.resolved_interval(config.iterations));
            Some(t)
        } else {
            None
        };
        let loss = Loss::build(&config.objective)?;
        if let Loss::Divergence(spec) = &loss {
            spec.check_backend(&backend)?;
        }
        let requirements = loss.requirements()?;
        let mut rng = stream(config.seed, Purpose::Init, &[]);
        let policy = Policy::for_env(backend.clone(), &config.policy, &env, requirements.log_flow, &mut rng)?;
        let adam = Adam::new(config.optim.adam)?;
        let log_z_adam = ScalarAdam::new(crate::optim::AdamConfig { lr: config.optim.lr_log_z, ..config.optim.adam })?;
        let scale_adam = ScalarAdam::new(config.optim.adam)?;
        let condition_scalars =
            TemperatureScalars::initial(&config.condition, config.policy.log_z_init, &log_z_adam, &scale_adam);
        let scalars = ScalarState {
            iteration: 0,
            log_z: config.policy.log_z_init,
            log_z_adam,
            replay: ReplayBuffer::new(config.replay.clone()),
            modes: Vec::new(),
            last_log_w_mean: f64::NAN,
            loss_sum: 0.0,
            loss_count: 0,
            best: None,
            reward_temperature,
            condition_scalars,
        };
        let mut trainer = Trainer {
            env,
            config,
            backend,
            policy,
            adam,
            loss,
            scalars,
            requirements,
            cache: PolicyCache::default(),
            rounds: RoundCaches::new(),
            parent_cache: PolicyCache::default(),
            grads: TermGrads::default(),
            mode_threshold: None,
            mode_set: HashSet::new(),
            target: None,
            log_reward_override: None,
            temperatures,
        };
        trainer.load_temperature_scalars();
        Ok(trainer)
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

    /// The best terminal object of the fresh training trajectories so far (its action path and
    /// its log-reward at the current reward temperature).
    pub fn best_seen(&self) -> Option<&ReplayEntry> {
        self.scalars.best.as_ref()
    }

    /// The terminal state of [`Trainer::best_seen`].
    pub fn best_terminal(&self) -> Result<Option<E::State>> {
        self.scalars.best.as_ref().map(|b| self.replay_entry(b)).transpose()
    }

    /// The terminal state of a stored entry: its action path replayed from the source, with the
    /// stored values of each step in a hybrid environment.
    pub fn replay_entry(&self, entry: &ReplayEntry) -> Result<E::State> {
        let Some(steps) = self.env.continuous() else {
            return self.replay_path(&entry.path);
        };
        let dim = steps.dim();
        if entry.values.len() != entry.path.len() * dim {
            return Err(Error::InconsistentEnvironment(format!(
                "a stored path of {} steps has {} continuous values, expected {} per step",
                entry.path.len(),
                entry.values.len(),
                dim
            )));
        }
        let mut state = self.env.source();
        for (t, &a) in entry.path.iter().enumerate() {
            let count = steps.count(&state, a).min(dim);
            steps.step_with(&mut state, a, &entry.values[t * dim..t * dim + count])?;
        }
        Ok(state)
    }

    /// The environment's reward temperature in effect (changed by annealing), if it has one.
    pub fn reward_temperature(&self) -> Option<f64> {
        self.env.reward_temperature()
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

    /// Runs one training iteration (temperature-conditioned training: at the batch's temperature,
    /// then back at the reference one).
    pub fn step(&mut self) -> Result<StepStats> {
        let round = self.scalars.iteration;
        self.at_batch_temperature(round, Self::step_here)
    }

    /// Runs one training iteration at the current temperature.
    fn step_here(&mut self) -> Result<StepStats> {
        let it = self.scalars.iteration;
        let Batch { mut traj, fresh, recorded } = self.sample_batch(it)?;
        self.record_modes(&traj, &fresh);
        self.record_best(&fresh);
        self.scalars.replay.extend(fresh);
        // Temperature conditioning: a temperature's first batch starts its log Z at the batch's
        // importance-sampling estimate instead of at log_z_init (which can be far from the
        // tempered log Z).
        let warm_start = self.temperatures.is_some() && self.requirements.log_z && self.scalars.log_z_adam.steps() == 0;
        let (loss, log_w_mean) = self.accumulate_gradient(&mut traj, recorded, warm_start)?;
        if !loss.is_finite() {
            return Err(Error::NonFinite { what: format!("loss at iteration {it}"), value: loss });
        }
        let mut scalar_grads = [self.grads.log_z, self.log_logit_scale_grad().unwrap_or(0.0)];
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
        self.step_logit_scale(scalar_grads[1]);
        self.scalars.iteration += 1;
        self.scalars.last_log_w_mean = log_w_mean;
        self.scalars.loss_sum += loss;
        self.scalars.loss_count += 1;
        self.anneal()?;
        Ok(StepStats {
            loss,
            grad_norm,
            trajectories: traj.len(),
            transitions: traj.step_count(),
            log_w_mean,
            reward_temperature: self.env.reward_temperature(),
        })
    }

    /// The gradient estimate of one batch at the current parameters, without updating anything:
    /// every tensor parameter's gradient in the order of [`Policy::params`] (flattened
    /// column-major), then `dL/d log Z`. The batch is the one [`Trainer::step`] would draw at
    /// iteration `round`, so distinct rounds give independent estimates (e.g. to measure the
    /// variance of an estimator).
    pub fn gradient(&mut self, round: u64) -> Result<Vec<f64>> {
        self.at_batch_temperature(round, |t| t.gradient_here(round))
    }

    /// [`Trainer::gradient`] at the current temperature.
    fn gradient_here(&mut self, round: u64) -> Result<Vec<f64>> {
        let Batch { mut traj, recorded, .. } = self.sample_batch(round)?;
        self.accumulate_gradient(&mut traj, recorded, false)?;
        let mut out = Vec::new();
        for (_, p) in self.policy.params() {
            out.extend(self.backend.download(&p.grad)?.iter().map(|&g| f64::from(g)));
        }
        out.push(self.grads.log_z);
        Ok(out)
    }

    /// Zeroes the gradients and accumulates the objective's gradient on `traj` (whose features
    /// trajectory objectives take over: they are not needed afterwards); returns the loss
    /// and the batch mean of `log w`. `recorded`: `traj` is the batch whose sampling passes
    /// `self.rounds` holds; `warm_start_log_z`: set `log Z` to the batch's estimate `log mean w` first.
    fn accumulate_gradient(
        &mut self,
        traj: &mut Trajectories<E::State>,
        recorded: bool,
        warm_start_log_z: bool,
    ) -> Result<(f64, f64)> {
        self.policy.zero_grad()?;
        let result = match &self.loss {
            Loss::Balance(_) | Loss::Divergence(_) => {
                let features = take_feature_matrix(traj);
                self.balance_step(traj, features, recorded, warm_start_log_z)
            }
            Loss::Flow(fm) => {
                let fm = *fm;
                let loss = flow_matching_step(
                    &self.env,
                    &mut self.policy,
                    &fm,
                    traj,
                    &mut self.cache,
                    &mut self.parent_cache,
                )?;
                self.grads.log_z = 0.0;
                Ok(loss)
            }
        };
        // The caches own the batch's features since the forward pass and never reuse them: free
        // them now rather than hold them through the next step's sampling.
        self.cache.release_inputs();
        self.parent_cache.release_inputs();
        result
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

    /// Keeps the first fresh object whose log-reward beats the best seen so far.
    fn record_best(&mut self, fresh: &[ReplayEntry]) {
        for e in fresh {
            if self.scalars.best.as_ref().is_none_or(|b| e.log_reward > b.log_reward) {
                self.scalars.best = Some(e.clone());
            }
        }
    }

    /// The annealing check after an iteration (see [`super::AnnealConfig`]): on the interval,
    /// halves the reward temperature while the best object's model probability is below the
    /// threshold and the temperature above the floor.
    fn anneal(&mut self) -> Result<()> {
        let anneal = &self.config.anneal;
        if !anneal.is_active()
            || !self.scalars.iteration.is_multiple_of(anneal.resolved_interval(self.config.iterations))
        {
            return Ok(());
        }
        let (Some(temperature), Some(best)) = (self.scalars.reward_temperature, &self.scalars.best) else {
            return Ok(());
        };
        let next = anneal.next_temperature(temperature, best.log_reward, self.log_z()?);
        if next != temperature {
            self.set_reward_temperature(next)?;
        }
        Ok(())
    }

    /// Rebuilds the environment at reward temperature `temperature` and recomputes the log-rewards
    /// of the best object and of the replay buffer under it.
    fn set_reward_temperature(&mut self, temperature: f64) -> Result<()> {
        self.env = self.env.with_reward_temperature(temperature)?;
        self.scalars.reward_temperature = Some(temperature);
        if let Some(best) = &self.scalars.best {
            let log_reward = self.env.log_reward(&self.replay_entry(best)?);
            self.scalars.best = Some(ReplayEntry { log_reward, ..best.clone() });
        }
        let rescored = self
            .scalars
            .replay
            .entries()
            .iter()
            .map(|e| Ok(self.env.log_reward(&self.replay_entry(e)?)))
            .collect::<Result<Vec<f64>>>()?;
        self.scalars.replay.rescore(&rescored)
    }

    /// Rebuilds the set of modes found after loading saved state.
    pub(super) fn restore_mode_set(&mut self) -> Result<()> {
        self.mode_set = self.scalars.modes.iter().map(|p| self.replay_path(p)).collect::<Result<_>>()?;
        Ok(())
    }

    /// One step of an objective over trajectory log-terms, with `features` the batch's features
    /// ([`take_feature_matrix`] of `traj`); returns the loss and the batch mean of
    /// `log w`. `recorded`: reuse the sampling passes of `traj` in `self.rounds` instead of
    /// evaluating the policy again; `warm_start_log_z`: set `log Z` to the batch's estimate
    /// `log mean w` before evaluating the objective.
    fn balance_step(
        &mut self,
        traj: &Trajectories<E::State>,
        features: DMatrix<f32>,
        recorded: bool,
        warm_start_log_z: bool,
    ) -> Result<(f64, f64)> {
        let output = if recorded {
            debug_assert_eq!(self.rounds.len(), traj.step_count());
            // Steps in the same state share a network column unless per-sample gradients follow.
            let distinct = !self.loss.needs_per_sample_gradients();
            self.policy.forward_gathered(&self.rounds, features, &mut self.cache, distinct)?
        } else {
            self.policy.forward(features, &mut self.cache)?
        };
        let terms = StepTerms::compute(&self.env, traj, &output, &self.requirements)?;
        let log_w = terms.log_weights(traj);
        let log_w_mean = log_w.iter().sum::<f64>() / traj.len() as f64;
        if warm_start_log_z {
            // The importance-sampling estimate log((1/n) Σ w): like mean log w a lower bound of
            // log Z in expectation on-policy, but a tighter one.
            let log_z_hat = crate::eval::divergence::logsumexp(&log_w) - (log_w.len() as f64).ln();
            if log_z_hat.is_finite() {
                self.scalars.log_z = log_z_hat;
                self.policy.log_z = log_z_hat;
            }
        }
        let log_z = self.requirements.log_z.then_some(self.scalars.log_z);
        let view = terms.view(traj, log_z);
        let (loss, theta) = match &self.loss {
            Loss::Balance(objective) => {
                if self.requirements.log_reward_state
                    && let Some(t) = terms.log_reward_state.iter().position(|r| *r == f64::NEG_INFINITY)
                {
                    return Err(Error::config(
                        "objective",
                        objective.name(),
                        format!("needs every state to be terminating, but state {:?} cannot exit", traj.states[t]),
                    ));
                }
                (objective.evaluate(&view, &mut self.grads)?, None)
            }
            Loss::Divergence(spec) => {
                let previous = self.scalars.last_log_w_mean;
                let reference = if previous.is_finite() { previous } else { log_w_mean };
                let exit = self.env.exit_action();
                let batch = divergence_step::Batch {
                    traj,
                    terms: &terms,
                    view,
                    policy: &self.policy,
                    cache: &self.cache,
                    exit,
                };
                divergence_step::evaluate(spec, reference, &batch, &mut self.grads)?
            }
            Loss::Flow(_) => unreachable!("balance_step is only called for trajectory objectives"),
        };
        let layout = self.policy.layout();
        let separate = self.policy.config().backward == crate::policy::BackwardPolicy::Learned;
        let (d_trunk, d_back) = terms.logit_grads(traj, &self.grads, layout, separate, self.env.exit_action());
        self.policy.backward(&self.cache, &d_trunk, d_back.as_ref())?;
        if let Some(theta) = theta {
            self.policy.add_trunk_grad(&theta)?;
        }
        Ok((loss, log_w_mean))
    }
}
