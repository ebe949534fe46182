//! α-KL and α-TB (Zimmermann et al.; ALGORITHMS §2.6): mixtures of a forward (on-policy) half and
//! a backward (target-sample) half of the batch, with `α` the backward ratio.

use super::{ControlVariate, DEFAULT_ALPHA, Estimate, Estimator, ForwardKl, ReverseKl, Sampling, check_mix_alpha};
use crate::objective::{Requirements, TrajectoryTerms, delta, validate};
use crate::{Error, Result};

/// `δ` split into the forward half (the first `B/2` trajectories) and the backward half.
fn halves(terms: &TrajectoryTerms<'_>) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut forward = delta::deltas(terms)?;
    if !forward.len().is_multiple_of(2) {
        return Err(Error::config(
            "batch_size",
            forward.len(),
            "α-KL and α-TB need an even batch: forward trajectories, then as many backward ones",
        ));
    }
    let backward = forward.split_off(forward.len() / 2);
    Ok((forward, backward))
}

/// α-KL: `(1−α) KL(p_F ‖ p̄_B) + α KL(p̄_B ‖ p_F)` (α = 0.5 is the Jeffreys divergence).
///
/// Batch layout: an even batch whose first `B/2` trajectories are drawn on-policy from `P_F` and
/// whose last `B/2` are backward trajectories `τ ~ P_B(·|x)` from target samples `x`. Coefficients:
/// `(1−α)` times the [`ReverseKl`] estimate (with the control variate, and the squared score norms
/// of the forward half) on the first half, and `α` times the [`ForwardKl`] estimate with
/// [`Sampling::Target`] (no baseline) on the second; the loss mixes their losses likewise. Unbiased
/// for `(1−α)∇KL(p_F‖p̄_B) + α∇KL(p̄_B‖p_F)` whenever the reverse-KL control variate is. Score
/// norms, when given, have one entry per trajectory of the whole batch; only the forward half's are
/// read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlphaKl {
    /// The backward ratio `α ∈ [0, 1]`.
    pub alpha: f64,
    /// The reverse-KL baseline of the forward half.
    pub control_variate: ControlVariate,
}

impl Default for AlphaKl {
    /// `α = 0.5` with the RLOO baseline.
    fn default() -> Self {
        AlphaKl { alpha: DEFAULT_ALPHA, control_variate: ControlVariate::LeaveOneOut }
    }
}

impl AlphaKl {
    /// α-KL with the given backward ratio and baseline.
    pub fn new(alpha: f64, control_variate: ControlVariate) -> Result<Self> {
        check_mix_alpha(alpha)?;
        ReverseKl::new(control_variate)?;
        Ok(AlphaKl { alpha, control_variate })
    }
}

impl Estimator for AlphaKl {
    fn name(&self) -> &'static str {
        "alpha_kl"
    }

    fn requirements(&self) -> Requirements {
        Requirements { log_z: self.control_variate.needs_log_z(), even_batch: true, ..Requirements::default() }
    }

    fn estimate(&self, terms: &TrajectoryTerms<'_>, norms: Option<&[f64]>) -> Result<Estimate> {
        check_mix_alpha(self.alpha)?;
        let (forward, backward) = halves(terms)?;
        let norms = match norms {
            Some(n) => {
                validate::length("score_sq_norms", terms.batch_size(), n.len())?;
                Some(&n[..forward.len()])
            }
            None => None,
        };
        let rkl = ReverseKl { control_variate: self.control_variate }.on_deltas(forward, norms, terms.log_z)?;
        let fkl = ForwardKl { sampling: Sampling::Target, control_variate: ControlVariate::None };
        Ok(Estimate::mix(rkl, 1.0 - self.alpha, fkl.target_on_deltas(backward)?, self.alpha))
    }
}

/// α-TB: `(1−α) mean_{forward} Δ_i² + α mean_{backward} Δ_i²` with the trajectory-balance residual
/// `Δ_i = log Z + δ_i`, on the same batch layout as [`AlphaKl`].
///
/// Coefficients: `2 w Δ_i` on `log P_F` steps, `−2 w Δ_i` on `log P_B` steps and their sum on
/// `log Z`, with `w = (1−α)/(B/2)` on the forward half and `α/(B/2)` on the backward half. On
/// the forward half the `θ`-gradient is `2 ∇KL(p_F‖p̄_B)` in expectation for any `log Z`
/// (ALGORITHMS §1.1); the backward half is off-policy trajectory balance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlphaTb {
    /// The backward ratio `α ∈ [0, 1]`.
    pub alpha: f64,
}

impl Default for AlphaTb {
    /// `α = 0.5`.
    fn default() -> Self {
        AlphaTb { alpha: DEFAULT_ALPHA }
    }
}

impl AlphaTb {
    /// α-TB with the given backward ratio.
    pub fn new(alpha: f64) -> Result<Self> {
        check_mix_alpha(alpha)?;
        Ok(AlphaTb { alpha })
    }
}

impl Estimator for AlphaTb {
    fn name(&self) -> &'static str {
        "alpha_tb"
    }

    fn requirements(&self) -> Requirements {
        Requirements { log_z: true, even_batch: true, ..Requirements::default() }
    }

    fn estimate(&self, terms: &TrajectoryTerms<'_>, _norms: Option<&[f64]>) -> Result<Estimate> {
        check_mix_alpha(self.alpha)?;
        let log_z = validate::log_z(terms)?;
        let (forward, backward) = halves(terms)?;
        let tb = |deltas: Vec<f64>| {
            let b = deltas.len() as f64;
            let residuals: Vec<f64> = deltas.iter().map(|d| log_z + d).collect();
            let pf: Vec<f64> = residuals.iter().map(|r| 2.0 * r / b).collect();
            Estimate {
                loss: residuals.iter().map(|r| r * r).sum::<f64>() / b,
                pb: pf.iter().map(|c| -c).collect(),
                log_z: pf.iter().sum(),
                pf,
            }
        };
        Ok(Estimate::mix(tb(forward), 1.0 - self.alpha, tb(backward), self.alpha))
    }
}
