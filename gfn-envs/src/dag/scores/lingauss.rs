//! The linear-Gaussian marginal likelihood (DAG-GFlowNet / JSP-GFN; DOMAINS §2.3).

use gfn_core::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use super::{members, submatrix};
use crate::dag::data::Dataset;

/// Hyper-parameters of the linear-Gaussian score: `X_j = Σ_{i∈Pa} θ_ij X_i + ε`,
/// `θ_ij ~ N(prior_mean, prior_std²)`, `ε ~ N(0, obs_std²)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinGaussParams {
    /// The prior mean `μ0` of the edge weights (default 0).
    pub prior_mean: f64,
    /// The prior standard deviation `σ0 > 0` of the edge weights (default 1).
    pub prior_std: f64,
    /// The observation noise standard deviation `σ > 0` (default `√0.1`).
    pub obs_std: f64,
}

impl Default for LinGaussParams {
    fn default() -> Self {
        LinGaussParams { prior_mean: 0.0, prior_std: 1.0, obs_std: 0.1f64.sqrt() }
    }
}

/// Linear-Gaussian local scores of one data set: the log marginal likelihood of column `j` given
/// its parents' columns with the weights integrated out,
///
/// `−½ [‖u‖² − yᵀ Σ⁻¹ y + ln|Σ| + 2(N − p) ln σ + N ln 2π]`,
///
/// with `r = x_j − μ0 X_Pa 1`, `u = r/σ`, `y = σ0 X_Paᵀ u` and `Σ = σ² I_p + σ0² X_Paᵀ X_Pa`
/// (Woodbury form of `N(x_j; μ0 X_Pa 1, σ² I + σ0² X_Pa X_Paᵀ)`). Everything comes from the Gram
/// matrix `XᵀX`, computed once, so a local score costs `O(p³)` whatever `N`. The data are used as
/// given (no centring): standardise them first if the model should have no intercept.
#[derive(Clone, Debug)]
pub struct LinGauss {
    samples: f64,
    params: LinGaussParams,
    gram: DMatrix<f64>,
}

impl LinGauss {
    /// Validates the hyper-parameters and precomputes `XᵀX`.
    pub fn new(data: &Dataset, params: &LinGaussParams) -> Result<Self> {
        if !params.prior_mean.is_finite() {
            return Err(Error::config("score.prior_mean", params.prior_mean, "must be finite"));
        }
        if !(params.prior_std.is_finite() && params.prior_std > 0.0) {
            return Err(Error::config("score.prior_std", params.prior_std, "must be a positive number"));
        }
        if !(params.obs_std.is_finite() && params.obs_std > 0.0) {
            return Err(Error::config("score.obs_std", params.obs_std, "must be a positive number"));
        }
        let d = data.variables();
        let gram = DMatrix::from_fn(d, d, |a, b| (0..data.samples()).map(|i| data.get(i, a) * data.get(i, b)).sum());
        Ok(LinGauss { samples: data.samples() as f64, params: params.clone(), gram })
    }

    /// The local score of node `j` with parent set `parents`.
    pub fn local_score(&self, j: usize, parents: u32) -> f64 {
        let pa = members(parents);
        let p = pa.len();
        let (mu, s0, sigma) = (self.params.prior_mean, self.params.prior_std, self.params.obs_std);
        let g_pa = submatrix(&self.gram, &pa);
        let row_sums: Vec<f64> = (0..p).map(|k| g_pa.row(k).sum()).collect();
        // ‖r‖² and X_Paᵀ r with r = x_j − μ0 X_Pa 1, from the Gram matrix.
        let r2 = self.gram[(j, j)] - 2.0 * mu * pa.iter().map(|&i| self.gram[(i, j)]).sum::<f64>()
            + mu * mu * row_sums.iter().sum::<f64>();
        let y = DVector::from_fn(p, |k, _| s0 * (self.gram[(pa[k], j)] - mu * row_sums[k]) / sigma);
        let cov = g_pa * (s0 * s0) + DMatrix::identity(p, p) * (sigma * sigma);
        let Some(chol) = cov.cholesky() else {
            return f64::NAN;
        };
        let log_det: f64 = chol.l_dirty().diagonal().iter().map(|v| 2.0 * v.ln()).sum();
        let quad = y.dot(&chol.solve(&y));
        let n = self.samples;
        -0.5 * (r2 / (sigma * sigma) - quad
            + log_det
            + 2.0 * (n - p as f64) * sigma.ln()
            + n * (2.0 * std::f64::consts::PI).ln())
    }
}
