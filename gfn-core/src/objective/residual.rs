//! The penalty `ρ` that balance objectives apply to their residuals.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The penalty `ρ(d)` applied to a balance residual `d`.
///
/// Serialized externally tagged in snake case: `"squared"` or `{ "huber": { "delta": 1.0 } }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residual {
    /// `ρ(d) = d²`, `ρ'(d) = 2d`.
    #[default]
    Squared,
    /// `ρ(d) = d²` for `|d| ≤ δ`, else `2δ|d| − δ²`; `ρ'(d) = 2d` or `2δ·sign(d)`.
    ///
    /// This is twice the textbook Huber loss, so it matches [`Residual::Squared`] near zero.
    Huber {
        /// The threshold `δ > 0` where the penalty turns linear.
        delta: f64,
    },
}

impl Residual {
    /// A Huber penalty with threshold `delta`, which must be positive and finite.
    pub fn huber(delta: f64) -> Result<Self> {
        let residual = Residual::Huber { delta };
        residual.validate()?;
        Ok(residual)
    }

    /// Checks the parameters (a Huber `delta` must be positive and finite).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Residual::Squared => Ok(()),
            Residual::Huber { delta } if delta > 0.0 && delta.is_finite() => Ok(()),
            Residual::Huber { delta } => {
                Err(Error::config("residual.huber.delta", delta, "the Huber threshold must be positive and finite"))
            }
        }
    }

    /// The penalty `ρ(d)`.
    pub fn value(&self, d: f64) -> f64 {
        match *self {
            Residual::Huber { delta } if d.abs() > delta => 2.0 * delta * d.abs() - delta * delta,
            _ => d * d,
        }
    }

    /// The derivative `ρ'(d)`.
    pub fn derivative(&self, d: f64) -> f64 {
        match *self {
            Residual::Huber { delta } if d.abs() > delta => 2.0 * delta * d.signum(),
            _ => 2.0 * d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_residual_branches_and_derivatives() {
        let huber = Residual::huber(0.5).unwrap();
        for &d in &[-3.0, -0.7, -0.2, 0.0, 0.3, 0.5, 1.9] {
            assert_eq!(Residual::Squared.value(d), d * d);
            assert_eq!(Residual::Squared.derivative(d), 2.0 * d);
            let h = 1e-6;
            let fd = (huber.value(d + h) - huber.value(d - h)) / (2.0 * h);
            assert!((fd - huber.derivative(d)).abs() < 1e-6, "d = {d}");
            if d.abs() <= 0.5 {
                assert_eq!(huber.value(d), d * d);
            } else {
                assert!(huber.value(d) < d * d);
            }
        }
        assert_eq!(huber.derivative(-3.0), -1.0);
    }

    #[test]
    fn objective_residual_validation_and_serde() {
        assert!(matches!(Residual::huber(0.0), Err(Error::InvalidConfig { .. })));
        assert!(Residual::huber(f64::NAN).is_err());
        assert!(Residual::huber(f64::INFINITY).is_err());
        assert_eq!(Residual::default(), Residual::Squared);
        let json = serde_json::to_string(&Residual::Huber { delta: 1.5 }).unwrap();
        assert_eq!(json, r#"{"huber":{"delta":1.5}}"#);
        assert_eq!(serde_json::from_str::<Residual>(&json).unwrap(), Residual::Huber { delta: 1.5 });
        assert_eq!(serde_json::from_str::<Residual>(r#""squared""#).unwrap(), Residual::Squared);
    }
}
