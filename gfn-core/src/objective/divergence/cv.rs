//! Control variates: per-trajectory baselines `β_i` subtracted from an estimator's signal
//! (ALGORITHMS §2.1, §2.5).

use super::{log_sum_exp, per_trajectory};
use crate::{Error, Result};

/// How the baseline `β_i` of trajectory `i` is chosen; `a_i = scale · (v_i − β_i)` (see
/// [`Signal`](super::Signal)). Every choice except [`ControlVariate::Learned`] and
/// [`ControlVariate::None`] depends only on the *other* trajectories of the batch, which keeps the
/// estimator unbiased (leave-one-out); they need a batch of at least two.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ControlVariate {
    /// `β_i = 0`.
    #[default]
    None,
    /// `β_i = −ψ` with ψ the learned scalar passed as `TrajectoryTerms::log_z`; the objective writes
    /// `dL/dψ = Σ_i a_i`, the gradient of `Σ_i scale (v_i + ψ)² / 2`, which drives ψ to
    /// `−E[v]`. For the reverse KL this is half the TB gradient (α-TB at α = 0). Only for
    /// estimators whose signal is `δ` ([`ReverseKl`](super::ReverseKl),
    /// [`AlphaKl`](super::AlphaKl)).
    Learned,
    /// RLOO: `β_i = mean_{j≠i} v_j`.
    LeaveOneOut,
    /// `β_i = −log((1/(B−1)) Σ_{j≠i} exp(−v_j))`, the leave-one-out log-mean-exp estimate of
    /// `log Z` (Zimmermann §2.2.1). Only for signals `v = δ`.
    LogZ,
    /// The leave-one-out optimal scalar `β_i = Σ_{j≠i} v_j n_j / Σ_{j≠i} n_j` with
    /// `n_j = ‖∇_θ lF(τ_j)‖²`, which minimises the trace of the estimator's covariance
    /// (ALGORITHMS §2.5); falls back to `mean_{j≠i} v_j` when every other norm is 0. Needs the
    /// norms ([`Divergence::evaluate_with_scores`](super::Divergence::evaluate_with_scores)).
    OptScalar,
    /// The per-parameter optimal baseline; not a per-trajectory coefficient, so
    /// [`Objective::evaluate`](crate::objective::Objective::evaluate) rejects it: use
    /// [`opt_vector_gradient`](super::opt_vector_gradient).
    OptVector,
}

impl ControlVariate {
    /// A short name (`"rloo"`).
    pub fn name(self) -> &'static str {
        match self {
            ControlVariate::None => "none",
            ControlVariate::Learned => "learned",
            ControlVariate::LeaveOneOut => "rloo",
            ControlVariate::LogZ => "logz",
            ControlVariate::OptScalar => "opt_scalar",
            ControlVariate::OptVector => "opt_vector",
        }
    }

    /// Whether it needs per-trajectory squared score norms.
    pub fn needs_score_norms(self) -> bool {
        self == ControlVariate::OptScalar
    }

    /// Whether it needs a learned scalar (`TrajectoryTerms::log_z`).
    pub fn needs_log_z(self) -> bool {
        self == ControlVariate::Learned
    }

    /// Whether it only makes sense on the signal `v = δ`.
    fn needs_delta_signal(self) -> bool {
        matches!(self, ControlVariate::Learned | ControlVariate::LogZ)
    }

    /// Rejects control variates an estimator does not support: [`ControlVariate::OptVector`]
    /// always (it is not a per-trajectory coefficient), and the `δ`-only ones unless
    /// `delta_signal`.
    pub(super) fn check(self, objective: &str, delta_signal: bool) -> Result<()> {
        if self == ControlVariate::OptVector {
            return Err(Error::config(
                "control_variate",
                self.name(),
                format!("{objective}: the optimal vector baseline is per parameter; use opt_vector_gradient"),
            ));
        }
        if self.needs_delta_signal() && !delta_signal {
            return Err(Error::config(
                "control_variate",
                self.name(),
                format!("{objective}: this baseline estimates log Z and only applies to reverse-KL signals"),
            ));
        }
        Ok(())
    }

    /// The baselines `β_i` for the signal `values`; `log_z` is the learned ψ and `norms` the squared
    /// score norms (checked here when needed).
    pub(super) fn baselines(self, values: &[f64], norms: Option<&[f64]>, log_z: Option<f64>) -> Result<Vec<f64>> {
        let b = values.len();
        if !matches!(self, ControlVariate::None | ControlVariate::Learned) && b < 2 {
            return Err(Error::config(
                "batch_size",
                b,
                format!("control variate {} needs two trajectories", self.name()),
            ));
        }
        Ok(match self {
            ControlVariate::None => vec![0.0; b],
            ControlVariate::Learned => {
                let psi = log_z.ok_or_else(|| Error::config("log_z", "None", "the learned control variate needs ψ"))?;
                vec![-crate::objective::validate::finite("log_z", 0, psi)?; b]
            }
            ControlVariate::LeaveOneOut => loo_means(values),
            ControlVariate::LogZ => {
                let neg: Vec<f64> = values.iter().map(|v| -v).collect();
                let others = loo_fold(&neg, f64::NEG_INFINITY, |acc, x| log_sum_exp(&[acc, x]));
                others.iter().map(|l| (b as f64 - 1.0).ln() - l).collect()
            }
            ControlVariate::OptScalar => {
                let norms = norms.ok_or_else(|| {
                    Error::config("score_sq_norms", "None", "OptScalar needs per-trajectory squared score norms")
                })?;
                per_trajectory("score_sq_norms", norms, b)?;
                if let Some(i) = norms.iter().position(|&n| n < 0.0) {
                    return Err(Error::config("score_sq_norms", norms[i], format!("entry {i} is negative")));
                }
                let weighted: Vec<f64> = values.iter().zip(norms).map(|(v, n)| v * n).collect();
                let num = loo_fold(&weighted, 0.0, |a, x| a + x);
                let den = loo_fold(norms, 0.0, |a, x| a + x);
                let fallback = loo_means(values);
                (0..b).map(|i| if den[i] > 0.0 { num[i] / den[i] } else { fallback[i] }).collect()
            }
            ControlVariate::OptVector => {
                return Err(Error::config("control_variate", self.name(), "not per trajectory"));
            }
        })
    }
}

/// `mean_{j≠i} x_j` for every `i` (needs two entries).
pub(super) fn loo_means(x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64 - 1.0;
    loo_fold(x, 0.0, |a, v| a + v).into_iter().map(|s| s / n).collect()
}

/// The fold of every entry but the `i`-th, for every `i`, in O(n) from prefix and suffix folds (no
/// subtraction, so no cancellation).
pub(super) fn loo_fold(x: &[f64], init: f64, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let n = x.len();
    let mut suffix = vec![init; n + 1];
    for i in (0..n).rev() {
        suffix[i] = f(suffix[i + 1], x[i]);
    }
    let mut prefix = init;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(f(prefix, suffix[i + 1]));
        prefix = f(prefix, x[i]);
    }
    out
}
