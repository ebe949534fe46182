//! VarGrad, the log-partition variance loss (ALGORITHMS §1.2).

use super::{Objective, Requirements, Residual, TermGrads, TrajectoryTerms, delta};
use crate::Result;

/// VarGrad: `L = (1/B) Σ_i ρ(δ_i − δ̄)` with `δ̄ = mean_j δ_j`; no `log Z`.
///
/// Coefficients on `δ_k` (spread like trajectory balance): `(ρ'(d_k) − mean_i ρ'(d_i)) / B` with
/// `d_i = δ_i − δ̄`; for the squared penalty the mean term vanishes and this is `2 d_k / B`. A batch
/// of one trajectory has loss 0.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VarGrad {
    /// The penalty applied to `δ_i − δ̄`.
    pub residual: Residual,
}

impl VarGrad {
    /// VarGrad with the given penalty.
    pub fn new(residual: Residual) -> Self {
        Self { residual }
    }

    /// The loss and `dL/dδ_k` for the given per-trajectory `δ`.
    pub(crate) fn on_deltas(&self, deltas: &[f64]) -> (f64, Vec<f64>) {
        let b = deltas.len() as f64;
        let mean = deltas.iter().sum::<f64>() / b;
        let loss = deltas.iter().map(|d| self.residual.value(d - mean)).sum::<f64>() / b;
        let slopes: Vec<f64> = deltas.iter().map(|d| self.residual.derivative(d - mean)).collect();
        let mean_slope = slopes.iter().sum::<f64>() / b;
        (loss, slopes.iter().map(|s| (s - mean_slope) / b).collect())
    }
}

impl Objective for VarGrad {
    fn name(&self) -> &'static str {
        "vargrad"
    }

    fn requirements(&self) -> Requirements {
        Requirements::default()
    }

    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> Result<f64> {
        self.residual.validate()?;
        let deltas = delta::deltas(terms)?;
        let (loss, coeffs) = self.on_deltas(&deltas);
        grads.reset(terms.step_count(), &self.requirements());
        delta::scatter(terms, &coeffs, grads);
        Ok(loss)
    }
}
