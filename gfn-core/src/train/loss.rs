//! [`Loss`]: the objective a trainer optimises, built from its configuration.

use super::config::{ObjectiveConfig, ObjectiveKind};
use super::divergence_step::DivergenceSpec;
use crate::Result;
use crate::objective::{
    ContrastiveBalance, DetailedBalance, FlowMatching, ModifiedDetailedBalance, Objective, Pairing, Requirements,
    SubTrajectoryBalance, TrajectoryBalance, VarGrad,
};

/// The loss a trainer optimises.
#[derive(Debug)]
pub(super) enum Loss {
    /// A balance objective over trajectory log-terms.
    Balance(Box<dyn Objective>),
    /// Flow matching over edge log-flows.
    Flow(FlowMatching),
    /// A divergence objective, rebuilt every step: Tsallis-α moves its reference `log Z` (the
    /// previous batch's mean `log w`), which fixes the scale of its weights without making it
    /// batch-normalised.
    Divergence(DivergenceSpec),
}

impl Loss {
    /// The loss of `config` (a divergence objective is validated by building its estimator once).
    pub(super) fn build(config: &ObjectiveConfig) -> Result<Self> {
        if let Some(spec) = DivergenceSpec::new(config)? {
            return Ok(Loss::Divergence(spec));
        }
        let residual = config.residual;
        let balance: Box<dyn Objective> = match config.kind {
            ObjectiveKind::Db => Box::new(DetailedBalance::new(residual)),
            ObjectiveKind::Moddb => Box::new(ModifiedDetailedBalance::new(residual)),
            ObjectiveKind::Subtb => Box::new(SubTrajectoryBalance::new(config.lambda, residual)?),
            ObjectiveKind::Vargrad => Box::new(VarGrad::new(residual)),
            ObjectiveKind::Cb => Box::new(ContrastiveBalance::new(Pairing::Halves, residual)),
            ObjectiveKind::Cbf => Box::new(ContrastiveBalance::new(Pairing::AllPairs, residual)),
            ObjectiveKind::Fm => return Ok(Loss::Flow(FlowMatching::new(residual))),
            // Tb; the divergences returned above.
            _ => Box::new(TrajectoryBalance::new(residual)),
        };
        Ok(Loss::Balance(balance))
    }

    /// The log-terms a step computes for this loss.
    pub(super) fn requirements(&self) -> Result<Requirements> {
        match self {
            Loss::Balance(o) => Ok(o.requirements()),
            Loss::Flow(_) => Ok(Requirements::default()),
            Loss::Divergence(spec) => spec.requirements(),
        }
    }

    /// Whether a step needs per-trajectory parameter gradients (one network column per step).
    pub(super) fn needs_per_sample_gradients(&self) -> bool {
        matches!(self, Loss::Divergence(spec) if spec.needs_per_sample_gradients())
    }
}
