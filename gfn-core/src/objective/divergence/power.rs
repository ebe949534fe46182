//! The power family: Rényi-α and Tsallis-α divergences (ALGORITHMS §2.3, §2.4).
//!
//! Both are built on `g(τ) = exp((α−1) δ(τ))`, with `∇_θ g = (α−1) g ∇lF`, and use the
//! `1/(α(α−1))` normalisation (a divergence for every `α ∉ {0, 1}`, mass-covering for `α < 0`).

use super::{ControlVariate, DEFAULT_ALPHA, Estimate, Estimator, ScoreSignal, Signal, check_power_alpha, shifted_exp};
use crate::Result;
use crate::objective::{Requirements, TrajectoryTerms, delta, validate};

/// The weights `g_i` and their normaliser `N`: `a_i = (g_i − β_i)/((α−1) N)`,
/// `b_i = −g_i/(α N)`.
struct Weights {
    g: Vec<f64>,
    normaliser: f64,
}

impl Weights {
    fn signal(&self, alpha: f64) -> Signal {
        Signal { values: self.g.clone(), scale: 1.0 / ((alpha - 1.0) * self.normaliser) }
    }

    fn estimate(&self, alpha: f64, cv: ControlVariate, norms: Option<&[f64]>, loss: f64) -> Result<Estimate> {
        let (pf, _) = self.signal(alpha).coefficients(cv, norms, None)?;
        let pb = self.g.iter().map(|g| -g / (alpha * self.normaliser)).collect();
        Ok(Estimate { loss, pf, pb, log_z: 0.0 })
    }
}

/// Rényi-α: `R_α = 1/(α(α−1)) log E_{p_F}[(p̄_B/p_F)^{1−α}]`, with
/// `∇_θ R_α = E[g ∇lF] / ((α−1) E[g])` and `∇_φ R_α = −E[g ∇lB] / (α E[g])`.
///
/// Estimator: `g_i = exp((α−1)δ_i − m)` stabilised by the batch maximum `m` (which cancels), and
/// `E[g]` estimated by the batch sum: `a_i = (g_i − β_i)/((α−1) Σ_j g_j)`,
/// `b_i = −g_i/(α Σ_j g_j)`. The pathwise term `(α−1) g_i ∇lF` and the score term `g_i ∇lF` merge
/// into the signal `α g_i`, so the score control variate of §2.5 is the baseline `β_i`.
/// Self-normalised, hence consistent but biased at finite `B`. Supported control variates: `None`,
/// `LeaveOneOut`, `OptScalar`. Loss: `1/(α(α−1)) log mean_i exp((α−1)δ_i) = R_α − log(Z)/α`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Renyi {
    /// The order `α ∉ {0, 1}`.
    pub alpha: f64,
    /// The baseline.
    pub control_variate: ControlVariate,
}

impl Default for Renyi {
    /// `α = 0.5` with the RLOO baseline.
    fn default() -> Self {
        Renyi { alpha: DEFAULT_ALPHA, control_variate: ControlVariate::LeaveOneOut }
    }
}

impl Renyi {
    /// Rényi-α with the given baseline; `α ∈ {0, 1}` or non-finite is
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
    pub fn new(alpha: f64, control_variate: ControlVariate) -> Result<Self> {
        let renyi = Renyi { alpha, control_variate };
        renyi.check()?;
        Ok(renyi)
    }

    fn check(&self) -> Result<()> {
        check_power_alpha(self.alpha)?;
        self.control_variate.check("renyi", false)
    }

    /// The weights and the batch maximum of `(α−1)δ`.
    fn weights(&self, terms: &TrajectoryTerms<'_>) -> Result<(Weights, f64)> {
        self.check()?;
        let scaled: Vec<f64> = delta::deltas(terms)?.iter().map(|d| (self.alpha - 1.0) * d).collect();
        let (g, m) = shifted_exp(&scaled);
        let normaliser = g.iter().sum();
        Ok((Weights { g, normaliser }, m))
    }
}

impl ScoreSignal for Renyi {
    /// `v_i = g_i`, scale `1/((α−1) Σ_j g_j)`.
    fn signal(&self, terms: &TrajectoryTerms<'_>) -> Result<Signal> {
        Ok(self.weights(terms)?.0.signal(self.alpha))
    }
}

impl Estimator for Renyi {
    fn name(&self) -> &'static str {
        "renyi"
    }

    fn requirements(&self) -> Requirements {
        Requirements::default()
    }

    fn estimate(&self, terms: &TrajectoryTerms<'_>, norms: Option<&[f64]>) -> Result<Estimate> {
        let (weights, m) = self.weights(terms)?;
        let b = weights.g.len() as f64;
        let loss = (m + (weights.normaliser / b).ln()) / (self.alpha * (self.alpha - 1.0));
        weights.estimate(self.alpha, self.control_variate, norms, loss)
    }
}

/// Tsallis-α: `T_α = 1/(α(α−1)) (E_{p_F}[(p̄_B/p_F)^{1−α}] − 1)`, with
/// `∇_θ T_α = E[ĝ ∇lF]/(α−1)` and `∇_φ T_α = −E[ĝ ∇lB]/α` where
/// `ĝ = (p̄_B/p_F)^{1−α} = exp((α−1)(δ + log Z))`.
///
/// Stabilisation (ALGORITHMS §2.4): a per-batch maximum would make the scale a batch statistic and
/// turn the estimator into [`Renyi`]. Instead `log Z` is replaced by a *fixed reference*
/// [`Tsallis::log_z_ref`]: `g_i = exp((α−1)(δ_i + log_z_ref))`, `a_i = (g_i − β_i)/((α−1) B)`,
/// `b_i = −g_i/(α B)`. This is unbiased for `c · ∇T_α` with the positive constant
/// `c = exp((α−1)(log_z_ref − log Z))`, and exactly unbiased when `log_z_ref = log Z`. The caller
/// may move the reference slowly between batches (a running estimate of `log Z`, e.g. of
/// `−mean δ`); a reference far from `log Z` overflows `g` ([`Error::NonFinite`]).
/// Supported control variates: `None`, `LeaveOneOut`, `OptScalar`. Loss: `(mean_i g_i − 1)/(α(α−1))`,
/// an unbiased estimate of `T_α` when the reference is exact.
///
/// [`Error::NonFinite`]: crate::Error::NonFinite
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tsallis {
    /// The order `α ∉ {0, 1}`.
    pub alpha: f64,
    /// The reference value of `log Z` that fixes the scale of the weights.
    pub log_z_ref: f64,
    /// The baseline.
    pub control_variate: ControlVariate,
}

impl Default for Tsallis {
    /// `α = 0.5`, reference `log Z = 0`, RLOO baseline.
    fn default() -> Self {
        Tsallis { alpha: DEFAULT_ALPHA, log_z_ref: 0.0, control_variate: ControlVariate::LeaveOneOut }
    }
}

impl Tsallis {
    /// Tsallis-α with the given reference and baseline; `α ∈ {0, 1}` or non-finite is
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
    pub fn new(alpha: f64, log_z_ref: f64, control_variate: ControlVariate) -> Result<Self> {
        let tsallis = Tsallis { alpha, log_z_ref, control_variate };
        tsallis.check()?;
        Ok(tsallis)
    }

    fn check(&self) -> Result<()> {
        check_power_alpha(self.alpha)?;
        validate::finite("log_z_ref", 0, self.log_z_ref)?;
        self.control_variate.check("tsallis", false)
    }

    fn weights(&self, terms: &TrajectoryTerms<'_>) -> Result<Weights> {
        self.check()?;
        let g = delta::deltas(terms)?
            .iter()
            .enumerate()
            .map(|(i, d)| validate::finite("tsallis weight", i, ((self.alpha - 1.0) * (d + self.log_z_ref)).exp()))
            .collect::<Result<Vec<f64>>>()?;
        Ok(Weights { normaliser: g.len() as f64, g })
    }
}

impl ScoreSignal for Tsallis {
    /// `v_i = g_i`, scale `1/((α−1) B)`.
    fn signal(&self, terms: &TrajectoryTerms<'_>) -> Result<Signal> {
        Ok(self.weights(terms)?.signal(self.alpha))
    }
}

impl Estimator for Tsallis {
    fn name(&self) -> &'static str {
        "tsallis"
    }

    fn requirements(&self) -> Requirements {
        Requirements::default()
    }

    fn estimate(&self, terms: &TrajectoryTerms<'_>, norms: Option<&[f64]>) -> Result<Estimate> {
        let weights = self.weights(terms)?;
        let loss = (weights.g.iter().sum::<f64>() / weights.normaliser - 1.0) / (self.alpha * (self.alpha - 1.0));
        weights.estimate(self.alpha, self.control_variate, norms, loss)
    }
}
