//! Aggregating balance (ALGORITHMS §1.4; seed eqs. 7–8): the EP-GFlowNet server loss.
//!
//! With frozen clients `(P_F^(n), P_B^(n))` and `r̂(τ) = Σ_n log P_F^(n)(τ) − log P_B^(n)(τ|x)`,
//! the server residual is `δ_AB(τ) = log P_F(τ) − log P_B(τ|x) − r̂(τ)` and
//! `L_AB = E[(δ_AB(τ) − δ_AB(τ'))²]`: contrastive balance with `log R` replaced by `r̂`. Its
//! minimisers sample `x` with probability `∝ E_{P_B(τ|x)}[Π_n P_F^(n)(τ)/P_B^(n)(τ|x)]`, which is
//! `∝ Π_n R_n(x)` when every client is exact.

use crate::objective::{ContrastiveBalance, Objective, Pairing, Residual, TermGrads, TrajectoryTerms};
use crate::train::{ObjectiveConfig, ObjectiveKind};
use crate::{Error, Result};

/// The aggregating-balance loss of the server.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AggregatingBalance {
    /// Contrastive balance on `δ_AB`.
    pub contrastive: ContrastiveBalance,
}

impl AggregatingBalance {
    /// Aggregating balance with the given pairing and penalty.
    pub fn new(pairing: Pairing, residual: Residual) -> Self {
        AggregatingBalance { contrastive: ContrastiveBalance::new(pairing, residual) }
    }

    /// The aggregating balance a server training configuration asks for: `cb` pairs the halves of
    /// the batch (the reference implementation), `cbf` uses all pairs. Other objectives are
    /// rejected.
    pub fn from_config(config: &ObjectiveConfig) -> Result<Self> {
        let pairing = match config.kind {
            ObjectiveKind::Cb => Pairing::Halves,
            ObjectiveKind::Cbf => Pairing::AllPairs,
            other => {
                return Err(Error::config(
                    "objective",
                    other,
                    "the server trains with aggregating balance: cb (half-batch pairs) or cbf (all pairs)",
                ));
            }
        };
        Ok(Self::new(pairing, config.residual))
    }

    /// The loss and its coefficients on the server's terms. `server.log_reward` is ignored;
    /// `client_log_ratio[i]` is `r̂(τ_i)`. Coefficients on `log P_F` and `log P_B` are those of
    /// contrastive balance on `δ_AB`.
    pub fn evaluate(
        &self,
        server: &TrajectoryTerms<'_>,
        client_log_ratio: &[f64],
        grads: &mut TermGrads,
    ) -> Result<f64> {
        if client_log_ratio.len() != server.batch_size() {
            return Err(Error::ShapeMismatch {
                op: "aggregating balance: client log-ratios per trajectory",
                expected: (server.batch_size(), 1),
                got: (client_log_ratio.len(), 1),
            });
        }
        let terms = TrajectoryTerms { log_reward: client_log_ratio, ..*server };
        self.contrastive.evaluate(&terms, grads)
    }
}
