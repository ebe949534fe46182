//! [`ScalarAdam`]: Adam on one f64 scalar (for `log Z` and other learned scalars).

use super::AdamConfig;
use super::config::check_lr;
use crate::Result;
use serde::{Deserialize, Serialize};

/// Adam for a single f64 scalar with its own hyperparameters (a one-element parameter group).
/// The whole struct is serde-serialisable, so checkpoints resume it exactly.
///
/// ```
/// use gfn_core::optim::{AdamConfig, ScalarAdam};
/// let mut opt = ScalarAdam::new(AdamConfig { lr: 0.1, ..AdamConfig::default() })?;
/// let mut log_z = 0.0;
/// opt.step(&mut log_z, 2.0);
/// assert!((log_z + 0.1).abs() < 1e-6); // the first Adam step moves by ≈ lr
/// # Ok::<(), gfn_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalarAdam {
    config: AdamConfig,
    t: u64,
    m: f64,
    v: f64,
}

impl ScalarAdam {
    /// A fresh optimiser; an invalid `config` is [`Error::InvalidConfig`](crate::Error).
    pub fn new(config: AdamConfig) -> Result<Self> {
        config.validate()?;
        Ok(ScalarAdam { config, t: 0, m: 0.0, v: 0.0 })
    }

    /// One Adam step on `value` with gradient `grad` (the [`AdamStep`](super::AdamStep) formula
    /// in f64).
    pub fn step(&mut self, value: &mut f64, grad: f64) {
        let c = &self.config;
        self.t += 1;
        let t = i32::try_from(self.t).unwrap_or(i32::MAX);
        let g = if c.weight_decay != 0.0 { grad + c.weight_decay * *value } else { grad };
        self.m = c.beta1 * self.m + (1.0 - c.beta1) * g;
        self.v = c.beta2 * self.v + (1.0 - c.beta2) * g * g;
        let bias_correction1 = 1.0 - c.beta1.powi(t);
        let bias_correction2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        *value -= (c.lr / bias_correction1) * self.m / (self.v.sqrt() / bias_correction2_sqrt + c.eps);
    }

    /// Changes the learning rate (positive and finite, else [`Error::InvalidConfig`](crate::Error)).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_lr(lr)?;
        self.config.lr = lr;
        Ok(())
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_steps() {
        let config = AdamConfig { lr: 0.5, beta1: 0.5, beta2: 0.75, eps: 0.0625, weight_decay: 0.0 };
        let mut opt = ScalarAdam::new(config).unwrap();
        let mut x = 1.0;
        // t=1, g=2: m=1, v=1, m̂=2, v̂=4, x -= 0.5·2/(2+0.0625)
        opt.step(&mut x, 2.0);
        let x1 = 1.0 - 0.5 * 2.0 / (2.0 + 0.0625);
        assert!((x - x1).abs() < 1e-15);
        // t=2, g=-1: m=0, v=0.75+0.25=1.0, m̂=0 → no move
        opt.step(&mut x, -1.0);
        assert!((x - x1).abs() < 1e-15);
        assert_eq!(opt.steps(), 2);
    }

    #[test]
    fn serde_round_trip_continues_identically() {
        let mut a = ScalarAdam::new(AdamConfig::default()).unwrap();
        let mut xa = 0.3;
        for g in [0.1, -0.4, 0.25] {
            a.step(&mut xa, g);
        }
        let mut b: ScalarAdam = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        let mut xb = xa;
        for g in [0.7, -0.2] {
            a.step(&mut xa, g);
            b.step(&mut xb, g);
        }
        assert_eq!(xa.to_bits(), xb.to_bits());
        assert_eq!(a, b);
    }

    #[test]
    fn set_lr_rejects_bad_values() {
        let mut opt = ScalarAdam::new(AdamConfig::default()).unwrap();
        assert!(opt.set_lr(-1.0).is_err());
        opt.set_lr(0.01).unwrap();
        assert_eq!(opt.config().lr, 0.01);
    }
}
