//! Trajectory balance (ALGORITHMS §1.1).

use super::{Objective, Requirements, Residual, TermGrads, TrajectoryTerms, delta, validate};
use crate::Result;

/// Trajectory balance: `Δ_i = log Z + δ_i`, `L = (1/B) Σ_i ρ(Δ_i)`, where
/// `δ_i = Σ log P_F − Σ log P_B − log R(x_i)`.
///
/// Coefficients: `ρ'(Δ_i)/B` on every `log P_F` step of trajectory `i` (exit step included), the
/// negative on every `log P_B` step, and their sum on `log Z`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrajectoryBalance {
    /// The penalty applied to `Δ_i`.
    pub residual: Residual,
}

impl TrajectoryBalance {
    /// Trajectory balance with the given penalty.
    pub fn new(residual: Residual) -> Self {
        Self { residual }
    }
}

impl Objective for TrajectoryBalance {
    fn name(&self) -> &'static str {
        "tb"
    }

    fn requirements(&self) -> Requirements {
        Requirements { log_z: true, ..Requirements::default() }
    }

    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> Result<f64> {
        self.residual.validate()?;
        let deltas = delta::deltas(terms)?;
        let log_z = validate::log_z(terms)?;
        let b = deltas.len() as f64;
        let loss = deltas.iter().map(|d| self.residual.value(log_z + d)).sum::<f64>() / b;
        let coeffs: Vec<f64> = deltas.iter().map(|d| self.residual.derivative(log_z + d) / b).collect();
        grads.reset(terms.step_count(), &self.requirements());
        delta::scatter(terms, &coeffs, grads);
        grads.log_z = coeffs.iter().sum();
        Ok(loss)
    }
}
