//! The BGe score (Geiger & Heckerman 1994, in the form of Kuipers et al. 2014; DOMAINS §2.3).

use gfn_core::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::{members, submatrix};
use crate::dag::data::Dataset;

/// Hyper-parameters of the BGe score: a normal-Wishart prior with mean `0`, mean precision
/// `alpha_mu` and `alpha_w` degrees of freedom (default `d + 2`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BgeParams {
    /// The equivalent sample size of the mean, `α_μ > 0` (default 1).
    pub alpha_mu: f64,
    /// The Wishart degrees of freedom `α_w > d + 1`; `None` means `d + 2`.
    pub alpha_w: Option<f64>,
}

impl Default for BgeParams {
    fn default() -> Self {
        BgeParams { alpha_mu: 1.0, alpha_w: None }
    }
}

/// BGe local scores of one data set.
///
/// With `t = α_μ(α_w − d − 1)/(α_μ + 1)` and the posterior scale matrix
/// `R = t·I + S_N + (N α_μ/(N + α_μ)) x̄ x̄ᵀ` (computed once), the local score of node `j` with `p`
/// parents `Pa` is
///
/// `½ ln(α_μ/(N+α_μ)) + lnΓ((N+α_w−d+p+1)/2) − lnΓ((α_w−d+p+1)/2) − (N/2) ln π
///  + ((α_w−d+2p+1)/2) ln t + ((N+α_w−d+p)/2) ln|R_Pa| − ((N+α_w−d+p+1)/2) ln|R_{Pa∪j}|`,
///
/// with both log-determinants from one Cholesky factorisation of `R_{Pa∪j}` (`j` last).
#[derive(Clone, Debug)]
pub struct Bge {
    samples: f64,
    nodes: f64,
    alpha_mu: f64,
    alpha_w: f64,
    log_t: f64,
    scale: DMatrix<f64>,
}

impl Bge {
    /// Validates the hyper-parameters and precomputes `R`.
    pub fn new(data: &Dataset, params: &BgeParams) -> Result<Self> {
        let d = data.variables();
        let alpha_w = params.alpha_w.unwrap_or(d as f64 + 2.0);
        if !(params.alpha_mu.is_finite() && params.alpha_mu > 0.0) {
            return Err(Error::config("score.alpha_mu", params.alpha_mu, "must be a positive number"));
        }
        if !(alpha_w.is_finite() && alpha_w > d as f64 + 1.0) {
            return Err(Error::config("score.alpha_w", alpha_w, format!("must exceed d + 1 = {}", d + 1)));
        }
        let n = data.samples() as f64;
        let t = params.alpha_mu * (alpha_w - d as f64 - 1.0) / (params.alpha_mu + 1.0);
        let mean: Vec<f64> = (0..d).map(|j| (0..data.samples()).map(|i| data.get(i, j)).sum::<f64>() / n).collect();
        let shrink = n * params.alpha_mu / (n + params.alpha_mu);
        let scale = DMatrix::from_fn(d, d, |a, b| {
            let scatter: f64 =
                (0..data.samples()).map(|i| (data.get(i, a) - mean[a]) * (data.get(i, b) - mean[b])).sum();
            scatter + shrink * mean[a] * mean[b] + if a == b { t } else { 0.0 }
        });
        Ok(Bge { samples: n, nodes: d as f64, alpha_mu: params.alpha_mu, alpha_w, log_t: t.ln(), scale })
    }

    /// The Wishart degrees of freedom in use.
    pub fn alpha_w(&self) -> f64 {
        self.alpha_w
    }

    /// The posterior scale matrix `R`.
    pub fn scale(&self) -> &DMatrix<f64> {
        &self.scale
    }

    /// The local score of node `j` with parent set `parents` (NaN if `R_{Pa∪j}` is not positive
    /// definite, which a finite data set cannot produce).
    pub fn local_score(&self, j: usize, parents: u32) -> f64 {
        let mut family = members(parents);
        let p = family.len();
        family.push(j);
        let Some(chol) = submatrix(&self.scale, &family).cholesky() else {
            return f64::NAN;
        };
        let l = chol.l_dirty();
        let log_det_pa: f64 = (0..p).map(|k| 2.0 * l[(k, k)].ln()).sum();
        let log_det_family = log_det_pa + 2.0 * l[(p, p)].ln();
        let (n, d, aw, pf) = (self.samples, self.nodes, self.alpha_w, p as f64);
        0.5 * (self.alpha_mu / (n + self.alpha_mu)).ln() + libm::lgamma((n + aw - d + pf + 1.0) / 2.0)
            - libm::lgamma((aw - d + pf + 1.0) / 2.0)
            - 0.5 * n * std::f64::consts::PI.ln()
            + 0.5 * (aw - d + 2.0 * pf + 1.0) * self.log_t
            + 0.5 * (n + aw - d + pf) * log_det_pa
            - 0.5 * (n + aw - d + pf + 1.0) * log_det_family
    }
}
