//! Reverse and forward Kullback–Leibler divergences (ALGORITHMS §2.1, §2.2).

use super::{ControlVariate, Estimate, Estimator, ScoreSignal, Signal, shifted_exp};
use crate::objective::{Requirements, TrajectoryTerms, delta};
use crate::{Error, Result};

/// Reverse KL `KL(p_F ‖ p̄_B) = E_{p_F}[δ] + log Z` on an on-policy batch.
///
/// Coefficients: `a_i = (δ_i − β_i)/B` with the baseline `β_i` of the control variate (every
/// [`ControlVariate`] but `OptVector` is supported; the pathwise term `E[∇lF] = 0` is dropped,
/// which is the score control variate at its optimum `a* = 1`), and `b_i = −1/B` on the `log P_B`
/// steps (pathwise gradient `−E[∇lB]`). Loss: `mean_i δ_i = KL − log Z`, the negative ELBO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReverseKl {
    /// The baseline of the score term.
    pub control_variate: ControlVariate,
}

impl Default for ReverseKl {
    /// Reverse KL with the RLOO baseline.
    fn default() -> Self {
        ReverseKl { control_variate: ControlVariate::LeaveOneOut }
    }
}

impl ReverseKl {
    /// Reverse KL with the given control variate.
    pub fn new(control_variate: ControlVariate) -> Result<Self> {
        control_variate.check("reverse_kl", true)?;
        Ok(ReverseKl { control_variate })
    }
}

impl ReverseKl {
    /// The estimate from the per-trajectory `δ` (with the learned ψ in `log_z`).
    pub(super) fn on_deltas(&self, deltas: Vec<f64>, norms: Option<&[f64]>, log_z: Option<f64>) -> Result<Estimate> {
        self.control_variate.check("reverse_kl", true)?;
        let scale = 1.0 / deltas.len() as f64;
        let signal = Signal { values: deltas, scale };
        let (pf, log_z) = signal.coefficients(self.control_variate, norms, log_z)?;
        let loss = signal.values.iter().sum::<f64>() * scale;
        Ok(Estimate { loss, pf, pb: vec![-scale; signal.values.len()], log_z })
    }
}

impl ScoreSignal for ReverseKl {
    /// `v_i = δ_i`, scale `1/B`.
    fn signal(&self, terms: &TrajectoryTerms<'_>) -> Result<Signal> {
        let values = delta::deltas(terms)?;
        let scale = 1.0 / values.len() as f64;
        Ok(Signal { values, scale })
    }
}

impl Estimator for ReverseKl {
    fn name(&self) -> &'static str {
        "reverse_kl"
    }

    fn requirements(&self) -> Requirements {
        Requirements { log_z: self.control_variate.needs_log_z(), ..Requirements::default() }
    }

    fn estimate(&self, terms: &TrajectoryTerms<'_>, norms: Option<&[f64]>) -> Result<Estimate> {
        self.on_deltas(delta::deltas(terms)?, norms, terms.log_z)
    }
}

/// Where the trajectories of a [`ForwardKl`] batch come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sampling {
    /// i.i.d. from the current `P_F`, corrected by self-normalised importance weights.
    #[default]
    OnPolicy,
    /// Backward trajectories `τ ~ P_B(·|x)` from exact target samples `x ~ R/Z` (data).
    Target,
}

/// Forward KL `KL(p̄_B ‖ p_F) = −E_{p̄_B}[δ] − log Z`, with `∇_θ = −E_{p̄_B}[∇lF]`.
///
/// [`Sampling::OnPolicy`]: self-normalised importance weights `w̃_i = w_i / Σ_j w_j`,
/// `w_i = exp(−δ_i − max_j(−δ_j))`; signal `v_i = w_i`, `a_i = −(w_i − β_i)/Σ_j w_j`,
/// `b_i = −w̃_i δ_i`. Consistent, biased at finite `B` (the normaliser is a batch statistic).
/// Supported control variates: `None`, `LeaveOneOut`, `OptScalar`. Loss:
/// `−Σ w̃_i δ_i − log mean_i exp(−δ_i)`, a consistent estimate of the divergence itself.
///
/// [`Sampling::Target`]: maximum likelihood on backward trajectories, `a_i = −1/B` (unbiased) and
/// `b_i = −(δ_i − β_i)/B` with `β` from `None` or `LeaveOneOut` applied to the `log P_B`
/// coefficients (valid because `E_{p̄_B}[∇lB] = 0`). Loss: `−mean_i δ_i = KL + log Z`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardKl {
    /// Where the batch comes from.
    pub sampling: Sampling,
    /// The baseline (see the type's documentation for the supported ones).
    pub control_variate: ControlVariate,
}

impl ForwardKl {
    /// Forward KL with the given sampling and control variate.
    pub fn new(sampling: Sampling, control_variate: ControlVariate) -> Result<Self> {
        let fkl = ForwardKl { sampling, control_variate };
        fkl.check()?;
        Ok(fkl)
    }

    fn check(&self) -> Result<()> {
        self.control_variate.check("forward_kl", false)?;
        let supported = match self.sampling {
            Sampling::OnPolicy => self.control_variate != ControlVariate::LogZ,
            Sampling::Target => matches!(self.control_variate, ControlVariate::None | ControlVariate::LeaveOneOut),
        };
        if supported {
            Ok(())
        } else {
            Err(Error::config(
                "control_variate",
                self.control_variate.name(),
                format!("forward_kl with {:?} sampling supports none, rloo (and opt_scalar on-policy)", self.sampling),
            ))
        }
    }

    /// The [`Sampling::Target`] estimate from the per-trajectory `δ`.
    pub(super) fn target_on_deltas(&self, deltas: Vec<f64>) -> Result<Estimate> {
        self.check()?;
        let b = deltas.len() as f64;
        let signal = Signal { values: deltas, scale: -1.0 / b };
        let (pb, _) = signal.coefficients(self.control_variate, None, None)?;
        let loss = signal.values.iter().sum::<f64>() * signal.scale;
        Ok(Estimate { loss, pf: vec![-1.0 / b; signal.values.len()], pb, log_z: 0.0 })
    }

    /// `δ`, the shifted weights `w` and their sum.
    fn weights(terms: &TrajectoryTerms<'_>) -> Result<(Vec<f64>, Vec<f64>, f64, f64)> {
        let deltas = delta::deltas(terms)?;
        let neg: Vec<f64> = deltas.iter().map(|d| -d).collect();
        let (w, m) = shifted_exp(&neg);
        let sum = w.iter().sum();
        Ok((deltas, w, m, sum))
    }
}

impl ScoreSignal for ForwardKl {
    /// On-policy only: `v_i = w_i`, scale `−1/Σ_j w_j`.
    fn signal(&self, terms: &TrajectoryTerms<'_>) -> Result<Signal> {
        if self.sampling == Sampling::Target {
            return Err(Error::config("sampling", "Target", "the data estimator has no score signal"));
        }
        let (_, values, _, sum) = Self::weights(terms)?;
        Ok(Signal { values, scale: -1.0 / sum })
    }
}

impl Estimator for ForwardKl {
    fn name(&self) -> &'static str {
        "forward_kl"
    }

    fn requirements(&self) -> Requirements {
        Requirements::default()
    }

    fn estimate(&self, terms: &TrajectoryTerms<'_>, norms: Option<&[f64]>) -> Result<Estimate> {
        self.check()?;
        match self.sampling {
            Sampling::OnPolicy => {
                let (deltas, values, m, sum) = Self::weights(terms)?;
                let b = deltas.len() as f64;
                let pb: Vec<f64> = values.iter().zip(&deltas).map(|(w, d)| -w * d / sum).collect();
                let loss = pb.iter().sum::<f64>() - (m + (sum / b).ln());
                let signal = Signal { values, scale: -1.0 / sum };
                let (pf, _) = signal.coefficients(self.control_variate, norms, None)?;
                Ok(Estimate { loss, pf, pb, log_z: 0.0 })
            }
            Sampling::Target => self.target_on_deltas(delta::deltas(terms)?),
        }
    }
}
