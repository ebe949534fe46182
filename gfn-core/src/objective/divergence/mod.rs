//! Divergence objectives (ALGORITHMS §2): score-function (REINFORCE) estimators of the gradients of
//! divergences between the forward trajectory distribution `p_F` and the target `p̄_B = R·P_B/Z`.
//!
//! Autograd of a Monte-Carlo divergence estimate drops the score-function term (ALGORITHMS §0), so
//! these objectives are stop-gradient surrogates: the "loss" they return is a Monte-Carlo estimate of
//! the divergence (up to a documented additive constant, usually a multiple of `log Z`), and the
//! coefficients they write are the estimator `ĝ = Σ_i a_i ∇lF(τ_i) + Σ_i b_i ∇lB(τ_i) (+ z ∇ψ)`:
//! `a_i` on every `log P_F` step of trajectory `i` (exit step included), `b_i` on every proper
//! `log P_B` step. With a fixed `P_B` the `log P_B` coefficients are simply unused.
//!
//! Sampling: [`ReverseKl`], [`Renyi`], [`Tsallis`] and [`ForwardKl`] with
//! [`Sampling::OnPolicy`] need trajectories drawn i.i.d. from the current `P_F` (no tempering, no
//! replay); [`ForwardKl`] with [`Sampling::Target`] needs backward trajectories `τ ~ P_B(·|x)` from
//! target samples `x`; [`AlphaKl`] and [`AlphaTb`] take both, split in halves (see [`AlphaKl`]).
//!
//! Every on-policy estimator has the form `a_i = scale · (v_i − β_i)`: a per-trajectory signal `v_i`
//! ([`Signal`]) minus a baseline `β_i` chosen by the [`ControlVariate`]. Because `E[∇lF] = 0`
//! under `p_F`, any `β_i` that does not depend on `τ_i` keeps the estimator unbiased. For these
//! divergences the pathwise term `E[∇_θ h]` is itself `κ_i ∇lF(τ_i)` with `κ_i` a multiple of
//! `v_i` (ALGORITHMS §2), so it merges into the signal and the score control variate of §2.5 is a
//! baseline like the others.
//!
//! Unbiasedness (proven by enumeration in this module's tests): [`ReverseKl`] with every control
//! variate, [`Tsallis`] (up to a positive constant), [`ForwardKl`] with [`Sampling::Target`],
//! [`AlphaKl`], [`AlphaTb`] and [`opt_vector_gradient`]. Only consistent (self-normalised, biased at
//! finite batch size): [`Renyi`] and [`ForwardKl`] with [`Sampling::OnPolicy`].
//!
//! Optimal-scalar baselines need the per-trajectory squared score norms `‖∇_θ lF(τ_i)‖²`
//! (see [`crate::nn::per_sample`]); pass them to [`Divergence::evaluate_with_scores`]. The
//! optimal-vector control variate is not a per-trajectory coefficient: use
//! [`opt_vector_gradient`] with per-sample score vectors.

mod alpha;
mod cv;
mod kl;
mod opt_vector;
mod power;

#[cfg(test)]
mod tests;

pub use alpha::{AlphaKl, AlphaTb};
pub use cv::ControlVariate;
pub use kl::{ForwardKl, ReverseKl, Sampling};
pub use opt_vector::{OptVectorBaseline, opt_vector_gradient};
pub use power::{Renyi, Tsallis};

use super::{Objective, Requirements, TermGrads, TrajectoryTerms, validate};
use crate::{Error, Result};

/// The default `α` of the α-parameterised objectives.
pub const DEFAULT_ALPHA: f64 = 0.5;

/// A divergence objective: an [`Objective`] whose coefficients may use per-trajectory squared score
/// norms (for [`ControlVariate::OptScalar`]).
pub trait Divergence: Objective {
    /// Like [`Objective::evaluate`], with `score_sq_norms[i] = ‖∇_θ lF(τ_i)‖²` per trajectory
    /// (required by [`ControlVariate::OptScalar`], ignored otherwise).
    fn evaluate_with_scores(
        &self,
        terms: &TrajectoryTerms<'_>,
        score_sq_norms: Option<&[f64]>,
        grads: &mut TermGrads,
    ) -> Result<f64>;
}

/// The on-policy part of an estimator: the `log P_F` coefficient of trajectory `i` is
/// `scale · (values[i] − β_i)` for a control-variate baseline `β_i`.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// `v_i` per trajectory.
    pub values: Vec<f64>,
    /// The common factor of every coefficient.
    pub scale: f64,
}

/// Estimators with a [`Signal`], the input of [`opt_vector_gradient`].
pub trait ScoreSignal {
    /// The signal of `terms` (which must be an on-policy batch).
    fn signal(&self, terms: &TrajectoryTerms<'_>) -> Result<Signal>;
}

impl Signal {
    /// The controlled coefficients `a_i = scale · (v_i − β_i)` and the learned-baseline gradient
    /// `Σ_i a_i` (0 unless `cv` is [`ControlVariate::Learned`]).
    fn coefficients(&self, cv: ControlVariate, norms: Option<&[f64]>, log_z: Option<f64>) -> Result<(Vec<f64>, f64)> {
        let baselines = cv.baselines(&self.values, norms, log_z)?;
        let pf: Vec<f64> = self.values.iter().zip(&baselines).map(|(v, b)| self.scale * (v - b)).collect();
        let log_z_grad = if cv.needs_log_z() { pf.iter().sum() } else { 0.0 };
        Ok((pf, log_z_grad))
    }
}

/// The estimators of this module, as per-trajectory pieces; every [`Estimator`] is an
/// [`Objective`] and a [`Divergence`].
trait Estimator: Send + Sync + std::fmt::Debug {
    /// See [`Objective::name`].
    fn name(&self) -> &'static str;
    /// See [`Objective::requirements`].
    fn requirements(&self) -> Requirements;
    /// The estimate on `terms` with optional squared score norms.
    fn estimate(&self, terms: &TrajectoryTerms<'_>, norms: Option<&[f64]>) -> Result<Estimate>;
}

impl<T: Estimator> Objective for T {
    fn name(&self) -> &'static str {
        Estimator::name(self)
    }

    fn requirements(&self) -> Requirements {
        Estimator::requirements(self)
    }

    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> Result<f64> {
        self.evaluate_with_scores(terms, None, grads)
    }
}

impl<T: Estimator> Divergence for T {
    fn evaluate_with_scores(
        &self,
        terms: &TrajectoryTerms<'_>,
        score_sq_norms: Option<&[f64]>,
        grads: &mut TermGrads,
    ) -> Result<f64> {
        let estimate = self.estimate(terms, score_sq_norms)?;
        Ok(estimate.write(terms, &Estimator::requirements(self), grads))
    }
}

/// The per-trajectory pieces of an estimator before they are spread onto the steps.
#[derive(Debug)]
struct Estimate {
    /// The Monte-Carlo divergence estimate.
    loss: f64,
    /// `a_i`, the coefficient on every `log P_F` step of trajectory `i`.
    pf: Vec<f64>,
    /// `b_i`, the coefficient on every proper `log P_B` step of trajectory `i`.
    pb: Vec<f64>,
    /// The coefficient on the learned `log Z` (the learned baseline ψ), if any.
    log_z: f64,
}

impl Estimate {
    /// Spreads the coefficients onto the steps of `grads` (reset first).
    fn write(self, terms: &TrajectoryTerms<'_>, requirements: &Requirements, grads: &mut TermGrads) -> f64 {
        grads.reset(terms.step_count(), requirements);
        for i in 0..terms.batch_size() {
            grads.log_pf[terms.steps(i)].fill(self.pf[i]);
            grads.log_pb[terms.proper_steps(i)].fill(self.pb[i]);
        }
        grads.log_z = self.log_z;
        self.loss
    }

    /// `w_a · a` on the first trajectories followed by `w_b · b` on the rest.
    fn mix(a: Estimate, w_a: f64, b: Estimate, w_b: f64) -> Estimate {
        let scaled = |x: &[f64], w: f64| x.iter().map(move |v| w * v).collect::<Vec<f64>>();
        Estimate {
            loss: w_a * a.loss + w_b * b.loss,
            pf: [scaled(&a.pf, w_a), scaled(&b.pf, w_b)].concat(),
            pb: [scaled(&a.pb, w_a), scaled(&b.pb, w_b)].concat(),
            log_z: w_a * a.log_z + w_b * b.log_z,
        }
    }
}

/// Checks an `α` of Rényi or Tsallis: finite and not 0 or 1 (those limits are the KL objectives).
fn check_power_alpha(alpha: f64) -> Result<()> {
    if !alpha.is_finite() {
        return Err(Error::config("alpha", alpha, "must be finite"));
    }
    if alpha == 0.0 || alpha == 1.0 {
        return Err(Error::config(
            "alpha",
            alpha,
            "α = 1 is the reverse KL and α = 0 the forward KL: use ReverseKl or ForwardKl",
        ));
    }
    Ok(())
}

/// Checks the mixing weight of [`AlphaKl`] / [`AlphaTb`]: in `[0, 1]`.
fn check_mix_alpha(alpha: f64) -> Result<()> {
    if (0.0..=1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(Error::config("alpha", alpha, "the backward ratio must lie in [0, 1]"))
    }
}

/// `log Σ_i exp(x_i)`, stable (`-inf` for an empty slice).
fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY { m } else { m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln() }
}

/// `exp(x_i − max x)` and `max x`: weights stabilised by the batch maximum.
fn shifted_exp(x: &[f64]) -> (Vec<f64>, f64) {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (x.iter().map(|v| (v - m).exp()).collect(), m)
}

/// Checks that a per-trajectory input has one finite entry per trajectory.
fn per_trajectory(name: &'static str, values: &[f64], batch: usize) -> Result<()> {
    validate::length(name, batch, values.len())?;
    for (i, &v) in values.iter().enumerate() {
        validate::finite(name, i, v)?;
    }
    Ok(())
}
