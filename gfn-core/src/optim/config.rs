//! [`AdamConfig`] and the per-step scalars [`AdamStep`] every backend's update uses.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Hyperparameters of Adam (PyTorch's `torch.optim.Adam` semantics: weight decay is an L2 term
/// added to the gradient, not decoupled).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate (> 0).
    pub lr: f64,
    /// Decay of the first moment, in `[0, 1)`.
    pub beta1: f64,
    /// Decay of the second moment, in `[0, 1)`.
    pub beta2: f64,
    /// Denominator offset (> 0).
    pub eps: f64,
    /// L2 penalty coefficient (≥ 0).
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// `lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0`.
    fn default() -> Self {
        AdamConfig { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 }
    }
}

impl AdamConfig {
    /// Checks every field; the error names the field and its value.
    ///
    /// ```
    /// use gfn_core::optim::AdamConfig;
    /// assert!(AdamConfig::default().validate().is_ok());
    /// let err = AdamConfig { beta2: 1.0, ..AdamConfig::default() }.validate().unwrap_err();
    /// assert!(err.to_string().contains("`beta2` = 1"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr)?;
        for (field, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::config(field, beta, "must be in [0, 1)"));
            }
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return Err(Error::config("eps", self.eps, "must be positive and finite"));
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(Error::config("weight_decay", self.weight_decay, "must be non-negative and finite"));
        }
        Ok(())
    }
}

/// Checks a learning rate: positive and finite.
pub(super) fn check_lr(lr: f64) -> Result<()> {
    if lr > 0.0 && lr.is_finite() { Ok(()) } else { Err(Error::config("lr", lr, "must be positive and finite")) }
}

/// The scalars of Adam step `t` (1-based), in f32 for the backends. Per element, with gradient
/// `g`, parameter `p` and moments `m`, `v`:
///
/// ```text
/// g ← g + weight_decay·p            (only if weight_decay ≠ 0)
/// m ← beta1·m + (1 − beta1)·g
/// v ← beta2·v + (1 − beta2)·g²
/// p ← p − (lr / bias_correction1) · m / (√v · (1 / bias_correction2_sqrt) + eps)
/// ```
///
/// (The reciprocal is computed once per step: one division per element instead of two.)
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator offset.
    pub eps: f32,
    /// L2 penalty coefficient.
    pub weight_decay: f32,
    /// `1 − beta1^t`.
    pub bias_correction1: f32,
    /// `√(1 − beta2^t)`.
    pub bias_correction2_sqrt: f32,
}

impl AdamStep {
    /// The scalars of step `t ≥ 1` (bias corrections computed in f64, then rounded).
    pub fn new(config: &AdamConfig, t: u64) -> Self {
        let t = i32::try_from(t).unwrap_or(i32::MAX);
        AdamStep {
            lr: config.lr as f32,
            beta1: config.beta1 as f32,
            beta2: config.beta2 as f32,
            eps: config.eps as f32,
            weight_decay: config.weight_decay as f32,
            bias_correction1: (1.0 - config.beta1.powi(t)) as f32,
            bias_correction2_sqrt: (1.0 - config.beta2.powi(t)).sqrt() as f32,
        }
    }

    /// The per-element update documented on [`AdamStep`] (the reference every backend follows).
    #[inline]
    pub fn update(&self, p: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
        let g = if self.weight_decay != 0.0 { g + self.weight_decay * *p } else { g };
        *m = self.beta1 * *m + (1.0 - self.beta1) * g;
        *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
        let denom = v.sqrt() * (1.0 / self.bias_correction2_sqrt) + self.eps;
        *p -= (self.lr / self.bias_correction1) * *m / denom;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_field_is_named() {
        let d = AdamConfig::default();
        let cases = [
            ("lr", AdamConfig { lr: 0.0, ..d }),
            ("lr", AdamConfig { lr: f64::INFINITY, ..d }),
            ("beta1", AdamConfig { beta1: -0.1, ..d }),
            ("beta2", AdamConfig { beta2: 1.0, ..d }),
            ("eps", AdamConfig { eps: 0.0, ..d }),
            ("weight_decay", AdamConfig { weight_decay: f64::NAN, ..d }),
        ];
        for (name, config) in cases {
            match config.validate() {
                Err(Error::InvalidConfig { field, .. }) => assert_eq!(field, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn serde_fills_defaults() {
        let c: AdamConfig = serde_json::from_str(r#"{"lr": 0.1}"#).unwrap();
        assert_eq!(c, AdamConfig { lr: 0.1, ..AdamConfig::default() });
    }
}
