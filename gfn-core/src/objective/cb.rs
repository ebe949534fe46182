//! Contrastive balance (ALGORITHMS §1.3).

use super::{Objective, Requirements, Residual, TermGrads, TrajectoryTerms, VarGrad, delta};
use crate::{Error, Result};

/// How contrastive balance pairs the trajectories of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pairing {
    /// Pair trajectory `i` with `i + B/2` (the batch size must be even):
    /// `L = (2/B) Σ_{i < B/2} ρ(δ_i − δ_{i+B/2})`.
    #[default]
    Halves,
    /// Every ordered pair: `L = (1/B²) Σ_{i,j} ρ(δ_i − δ_j)`; with the squared penalty this is
    /// exactly twice [`VarGrad`].
    AllPairs,
}

/// Contrastive balance: a balance loss on differences `δ_i − δ_j` of per-trajectory log-ratios;
/// needs neither `log Z` nor flows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ContrastiveBalance {
    /// How trajectories are paired.
    pub pairing: Pairing,
    /// The penalty applied to `δ_i − δ_j`.
    pub residual: Residual,
}

impl ContrastiveBalance {
    /// Contrastive balance with the given pairing and penalty.
    pub fn new(pairing: Pairing, residual: Residual) -> Self {
        Self { pairing, residual }
    }

    /// The loss and `dL/dδ_k` for the given per-trajectory `δ`.
    fn on_deltas(&self, deltas: &[f64]) -> Result<(f64, Vec<f64>)> {
        let n = deltas.len();
        let b = n as f64;
        let mut coeffs = vec![0.0; n];
        let mut loss = 0.0;
        match (self.pairing, self.residual) {
            (Pairing::Halves, _) => {
                if !n.is_multiple_of(2) {
                    return Err(Error::config(
                        "batch_size",
                        n,
                        "contrastive balance with `Halves` pairing needs an even batch size",
                    ));
                }
                let half = n / 2;
                for i in 0..half {
                    let d = deltas[i] - deltas[i + half];
                    loss += 2.0 * self.residual.value(d) / b;
                    let c = 2.0 * self.residual.derivative(d) / b;
                    coeffs[i] = c;
                    coeffs[i + half] = -c;
                }
            }
            (Pairing::AllPairs, Residual::Squared) => {
                let (vg_loss, vg_coeffs) = VarGrad::new(Residual::Squared).on_deltas(deltas);
                loss = 2.0 * vg_loss;
                coeffs = vg_coeffs.iter().map(|c| 2.0 * c).collect();
            }
            (Pairing::AllPairs, residual) => {
                // ρ' is odd, so the (k, j) and (j, k) terms contribute equally to dL/dδ_k.
                for (k, &dk) in deltas.iter().enumerate() {
                    for &dj in deltas {
                        loss += residual.value(dk - dj) / (b * b);
                        coeffs[k] += 2.0 * residual.derivative(dk - dj) / (b * b);
                    }
                }
            }
        }
        Ok((loss, coeffs))
    }
}

impl Objective for ContrastiveBalance {
    fn name(&self) -> &'static str {
        match self.pairing {
            Pairing::Halves => "cb",
            Pairing::AllPairs => "cb_all_pairs",
        }
    }

    fn requirements(&self) -> Requirements {
        Requirements { even_batch: self.pairing == Pairing::Halves, ..Requirements::default() }
    }

    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> Result<f64> {
        self.residual.validate()?;
        let deltas = delta::deltas(terms)?;
        let (loss, coeffs) = self.on_deltas(&deltas)?;
        grads.reset(terms.step_count(), &self.requirements());
        delta::scatter(terms, &coeffs, grads);
        Ok(loss)
    }
}
