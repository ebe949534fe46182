//! The environments, `log Z` estimates and logit scales of temperature-conditioned training, one
//! per temperature of [`ConditionConfig::temperatures`].

use serde::{Deserialize, Serialize};

use super::condition::ConditionConfig;
use super::trainer::Trainer;
use crate::backend::Backend;
use crate::env::Environment;
use crate::optim::ScalarAdam;
use crate::rng::{Purpose, stream};
use crate::{Error, Result};

/// The learned scalars of one conditioning temperature and their optimiser states (saved in
/// checkpoints): `log Z`, and the log of the factor on the forward logits
/// ([`Policy::logit_scale`](crate::policy::Policy::logit_scale)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct TemperatureScalars {
    pub(super) log_z: f64,
    pub(super) log_z_adam: ScalarAdam,
    pub(super) log_logit_scale: f64,
    pub(super) logit_scale_adam: ScalarAdam,
}

impl TemperatureScalars {
    /// The initial scalars of every temperature of `config`: `log Z = log_z_init`, and the logit
    /// scale `T_ref / T`, which turns the reference temperature's logits into the tempered ones
    /// exactly when every object has a single trajectory (a tree-shaped DAG) and is a
    /// good starting point otherwise.
    pub(super) fn initial(
        config: &ConditionConfig,
        log_z_init: f64,
        log_z_adam: &ScalarAdam,
        adam: &ScalarAdam,
    ) -> Vec<Self> {
        let reference = config.reference().map_or(1.0, |k| config.temperatures[k]);
        config
            .temperatures
            .iter()
            .map(|t| TemperatureScalars {
                log_z: log_z_init,
                log_z_adam: log_z_adam.clone(),
                log_logit_scale: (reference / t).ln(),
                logit_scale_adam: adam.clone(),
            })
            .collect()
    }
}

/// The environment at every conditioning temperature. The trainer holds the current one; the
/// others are parked here, so switching temperature moves environments instead of rebuilding them.
#[derive(Debug)]
pub(super) struct TemperatureEnvs<E> {
    parked: Vec<Option<E>>,
    current: usize,
    reference: usize,
}

impl<E: Environment> TemperatureEnvs<E> {
    /// Builds `env` at every temperature of `config` (active); returns the set and the environment
    /// at the reference temperature, which becomes the current one.
    ///
    /// Errors when `env` has no reward temperature, or when its source features are the same at
    /// two temperatures of the set (a policy could not tell them apart).
    pub(super) fn build(env: &E, config: &ConditionConfig) -> Result<(Self, E)> {
        if env.reward_temperature().is_none() {
            return Err(Error::config(
                "condition.temperatures",
                format!("{:?}", config.temperatures),
                format!("environment {} has no reward temperature to condition on", env.name()),
            ));
        }
        let reference = config.reference().ok_or_else(|| {
            Error::config("condition.temperatures", "[]", "temperature conditioning needs at least one temperature")
        })?;
        let mut parked = config
            .temperatures
            .iter()
            .map(|&t| env.with_reward_temperature(t).map(Some))
            .collect::<Result<Vec<_>>>()?;
        if let [Some(a), Some(b), ..] = parked.as_slice() {
            let features = |e: &E| {
                let mut out = vec![0.0f32; e.feature_dim()];
                e.encode(&e.source(), &mut out);
                out
            };
            if features(a) == features(b) {
                return Err(Error::config(
                    "condition.temperatures",
                    format!("{:?}", config.temperatures),
                    format!(
                        "environment {} does not encode its reward temperature in its features, so a policy cannot \
                         be conditioned on it (the phylo environment does with temperature_feature = true)",
                        env.name()
                    ),
                ));
            }
        }
        let current = parked[reference].take().ok_or_else(|| {
            Error::InconsistentEnvironment("the reference temperature's environment is missing".into())
        })?;
        Ok((TemperatureEnvs { parked, current: reference, reference }, current))
    }

    /// The index of the temperature of the trainer's environment.
    pub(super) fn current(&self) -> usize {
        self.current
    }

    /// The index of the reference (lowest) temperature.
    pub(super) fn reference(&self) -> usize {
        self.reference
    }

    /// The environment at the reference temperature, given the trainer's current one.
    pub(super) fn reference_env<'a>(&'a self, current: &'a E) -> &'a E {
        self.parked[self.reference].as_ref().unwrap_or(current)
    }

    /// Makes `env` (the trainer's, at the current temperature) the environment at temperature `k`,
    /// parking the current one.
    pub(super) fn switch(&mut self, env: &mut E, k: usize) {
        if k == self.current {
            return;
        }
        if let Some(next) = self.parked.get_mut(k).and_then(Option::take) {
            self.parked[self.current] = Some(std::mem::replace(env, next));
            self.current = k;
        }
    }
}

impl<E: Environment, B: Backend> Trainer<E, B> {
    /// Moves a temperature-conditioned trainer to `temperature`, one of
    /// [`ConditionConfig::temperatures`]: its environment, [`Trainer::log_z`] and the policy's
    /// `log Z` are then those of `temperature`, e.g. to sample or evaluate there. The next
    /// training step returns to the reference (lowest) temperature.
    pub fn condition_on(&mut self, temperature: f64) -> Result<()> {
        if self.temperatures.is_none() {
            return Err(Error::config(
                "temperature",
                temperature,
                "this trainer is not temperature-conditioned (condition.temperatures is empty)",
            ));
        }
        let k = self.config.condition.index_of(temperature)?;
        self.switch_temperature(k);
        Ok(())
    }

    /// The environment at the reference temperature of a conditioned trainer, else the trainer's.
    pub(super) fn reference_env(&self) -> &E {
        self.temperatures.as_ref().map_or(&self.env, |t| t.reference_env(&self.env))
    }

    /// Runs `f` at the temperature drawn for batch `round`, then returns to the reference
    /// temperature (whatever `f` returned); without conditioning, just runs `f`.
    pub(super) fn at_batch_temperature<R>(&mut self, round: u64, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        let Some(reference) = self.temperatures.as_ref().map(TemperatureEnvs::reference) else {
            return f(self);
        };
        let mut rng = stream(self.config.seed, Purpose::Condition, &[round]);
        let k = self.config.condition.draw(round, self.config.iterations, &mut rng);
        self.switch_temperature(k);
        let out = f(self);
        self.switch_temperature(reference);
        out
    }

    /// Makes temperature `k` the current one: saves the current `log Z` into its table entry,
    /// switches the environment and loads `k`'s scalars.
    pub(super) fn switch_temperature(&mut self, k: usize) {
        let Some(set) = &mut self.temperatures else { return };
        if let Some(entry) = self.scalars.condition_scalars.get_mut(set.current()) {
            entry.log_z = self.scalars.log_z;
            entry.log_z_adam = self.scalars.log_z_adam.clone();
        }
        set.switch(&mut self.env, k);
        self.load_temperature_scalars();
    }

    /// Loads the current temperature's `log Z` into the trainer and the policy, and its logit
    /// scale into the policy.
    pub(super) fn load_temperature_scalars(&mut self) {
        let Some(set) = &self.temperatures else { return };
        if let Some(entry) = self.scalars.condition_scalars.get(set.current()) {
            self.scalars.log_z = entry.log_z;
            self.scalars.log_z_adam = entry.log_z_adam.clone();
            self.policy.logit_scale = Some(entry.log_logit_scale.exp());
        }
        self.policy.log_z = self.scalars.log_z;
    }

    /// Temperature conditioning: `(T, log Z at T)` for every temperature of the set, in the order
    /// of [`ConditionConfig::temperatures`] (empty without conditioning, or for an objective
    /// without a learned `log Z`).
    pub fn log_z_by_temperature(&self) -> Vec<(f64, f64)> {
        let Some(set) = self.temperatures.as_ref().filter(|_| self.requirements.log_z) else { return Vec::new() };
        let temperatures = &self.config.condition.temperatures;
        let entries = temperatures.iter().zip(&self.scalars.condition_scalars).enumerate();
        // The current temperature's entry is only written back when the trainer switches away.
        entries.map(|(k, (&t, e))| (t, if k == set.current() { self.scalars.log_z } else { e.log_z })).collect()
    }

    /// `dL/d log(logit scale)` of the last backward pass, `None` without conditioning.
    pub(super) fn log_logit_scale_grad(&self) -> Option<f64> {
        let scale = self.temperatures.as_ref().and(self.policy.logit_scale)?;
        Some(scale * self.policy.logit_scale_grad())
    }

    /// One optimiser step of the current temperature's log logit scale on gradient `grad`.
    pub(super) fn step_logit_scale(&mut self, grad: f64) {
        let Some(set) = &self.temperatures else { return };
        if let Some(entry) = self.scalars.condition_scalars.get_mut(set.current()) {
            entry.logit_scale_adam.step(&mut entry.log_logit_scale, grad);
            self.policy.logit_scale = Some(entry.log_logit_scale.exp());
        }
    }
}
