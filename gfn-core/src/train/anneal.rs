//! Reward-temperature annealing during training: PhyloGFN's cascading schedule (DOMAINS §1.3).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which reward-temperature schedule a run follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnealKind {
    /// The temperature stays fixed.
    #[default]
    None,
    /// PhyloGFN's cascading halving; see [`AnnealConfig`].
    Cascading,
}

impl std::fmt::Display for AnnealKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnnealKind::None => "none",
            AnnealKind::Cascading => "cascading",
        })
    }
}

impl std::str::FromStr for AnnealKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(AnnealKind::None),
            "cascading" => Ok(AnnealKind::Cascading),
            other => Err(Error::config("anneal", other, "unknown schedule; expected none or cascading")),
        }
    }
}

/// Reward-temperature annealing settings (`[train.anneal]` in TOML files).
///
/// The environment must have a reward temperature ([`Environment::reward_temperature`]). Every
/// `interval` iterations the trainer checks the model's probability of the best terminal object
/// seen so far in training batches, `exp(log R_best − log Z)` (at the temperature in effect,
/// with the trainer's [`log Z`](super::Trainer::log_z)), and halves the temperature while that
/// probability is below `threshold` and the temperature is above `min_temperature`; the
/// environment is then rebuilt with [`Environment::with_reward_temperature`], and the best
/// object's and the replay buffer's log-rewards are recomputed at the new temperature.
///
/// **Epochs.** PhyloGFN checks every `max(30, epochs / 5)` epochs of `steps_per_epoch` batches.
/// Here one epoch is one training iteration (one batch), so the default interval is
/// `max(30, iterations / 5)` iterations; to reproduce a PhyloGFN schedule with `E` epochs of `S`
/// steps set `interval = max(30, E / 5) · S`. The interval is resolved from `iterations` when the
/// trainer is built and stored in the configuration (so in checkpoints): resuming a run for
/// longer keeps it.
///
/// [`Environment::reward_temperature`]: crate::env::Environment::reward_temperature
/// [`Environment::with_reward_temperature`]: crate::env::Environment::with_reward_temperature
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnnealConfig {
    /// The schedule.
    pub kind: AnnealKind,
    /// Halve only while the best object's model probability `exp(log R_best − log Z)` is below
    /// this, in `(0, 1]` (PhyloGFN: 1e-4).
    pub threshold: f64,
    /// Halve only while the temperature is above this (`> 0`; PhyloGFN: 0.25).
    pub min_temperature: f64,
    /// Iterations between checks (`> 0`); `None`: `max(30, iterations / 5)`, resolved when the
    /// trainer is built.
    pub interval: Option<u64>,
}

impl Default for AnnealConfig {
    fn default() -> Self {
        AnnealConfig { kind: AnnealKind::None, threshold: 1e-4, min_temperature: 0.25, interval: None }
    }
}

impl AnnealConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::config("anneal.threshold", self.threshold, "must be a probability in (0, 1]"));
        }
        if !(self.min_temperature.is_finite() && self.min_temperature > 0.0) {
            return Err(Error::config("anneal.min_temperature", self.min_temperature, "must be finite and > 0"));
        }
        if self.interval == Some(0) {
            return Err(Error::config("anneal.interval", 0, "must be at least 1 iteration"));
        }
        Ok(())
    }

    /// Whether the temperature can change.
    pub fn is_active(&self) -> bool {
        self.kind != AnnealKind::None
    }

    /// The check interval of a run of `iterations` iterations: the configured one, else
    /// `max(30, iterations / 5)`.
    pub fn resolved_interval(&self, iterations: u64) -> u64 {
        self.interval.unwrap_or((iterations / 5).max(30))
    }

    /// The temperature after a check at `temperature`, given the log-reward of the best object seen
    /// (at `temperature`) and `log Z`: halved if `log R_best − log Z < log threshold` and
    /// `temperature > min_temperature`, else unchanged.
    pub fn next_temperature(&self, temperature: f64, log_reward_best: f64, log_z: f64) -> f64 {
        if log_reward_best - log_z < self.threshold.ln() && temperature > self.min_temperature {
            temperature / 2.0
        } else {
            temperature
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_only_while_the_best_object_is_improbable_and_above_the_floor() {
        let a = AnnealConfig { kind: AnnealKind::Cascading, ..AnnealConfig::default() };
        assert_eq!(a.next_temperature(4.0, -20.0, 0.0), 2.0);
        // log 1e-4 = −9.21: a gap of −9 is not below it.
        assert_eq!(a.next_temperature(4.0, -9.0, 0.0), 4.0);
        assert_eq!(a.next_temperature(4.0, 5.0, 14.3), 2.0);
        assert_eq!(a.next_temperature(0.25, -20.0, 0.0), 0.25);
        assert_eq!(a.next_temperature(0.3, -20.0, 0.0), 0.15);
        assert_eq!((a.resolved_interval(100), a.resolved_interval(500)), (30, 100));
        assert_eq!(AnnealConfig { interval: Some(7), ..a.clone() }.resolved_interval(500), 7);
        assert_eq!("cascading".parse::<AnnealKind>().unwrap(), AnnealKind::Cascading);
    }

    #[test]
    fn invalid_values_name_the_field_and_value() {
        let bad = [
            (AnnealConfig { threshold: 0.0, ..AnnealConfig::default() }, "anneal.threshold"),
            (AnnealConfig { threshold: -1e-4, ..AnnealConfig::default() }, "anneal.threshold"),
            (AnnealConfig { threshold: f64::NAN, ..AnnealConfig::default() }, "NaN"),
            (AnnealConfig { threshold: 1.5, ..AnnealConfig::default() }, "1.5"),
            (AnnealConfig { min_temperature: 0.0, ..AnnealConfig::default() }, "anneal.min_temperature"),
            (AnnealConfig { min_temperature: f64::NAN, ..AnnealConfig::default() }, "NaN"),
            (AnnealConfig { min_temperature: f64::INFINITY, ..AnnealConfig::default() }, "inf"),
            (AnnealConfig { interval: Some(0), ..AnnealConfig::default() }, "anneal.interval"),
        ];
        for (config, needle) in bad {
            let message = config.validate().expect_err("invalid").to_string();
            assert!(message.contains(needle), "{message:?} should name {needle}");
        }
        let err = "linear".parse::<AnnealKind>().expect_err("unknown").to_string();
        assert!(err.contains("linear"), "{err}");
        AnnealConfig::default().validate().expect("the defaults are valid");
    }
}
