//! Sub-trajectory balance SubTB(λ) with geometric-within weighting (ALGORITHMS §1.8).

use super::{Objective, Requirements, Residual, TermGrads, TrajectoryTerms, validate};
use crate::{Error, Result};

/// Sub-trajectory balance over every sub-trajectory of every trajectory.
///
/// States `m = 0..=n+1` of a trajectory with `n` proper actions carry
/// `log F~(s_0) = log Z`, `log F~(s_m) = log F(s_m)` for `1 ≤ m ≤ n`, and
/// `log F~(s_{n+1}) = log R(x)` (`s_{n+1} = s_f`, whose `P_B` term is 0). For `0 ≤ i < j ≤ n+1`,
/// `ε_ij = log F~(s_i) + Σ_{i≤k<j} (log P_F − log P_B)(step k) − log F~(s_j)`, and
/// `L(τ) = Σ_{i<j} λ^{j−i} ρ(ε_ij) / W` with `W = Σ_{i<j} λ^{j−i}`; the loss is the batch mean.
/// `λ → ∞` gives trajectory balance, `λ → 0⁺` the per-trajectory mean of detailed-balance
/// residuals (with `log Z` in place of `log F(s_0)`).
///
/// `log_flow[t]` at the first step of each trajectory is not read (its coefficient is 0: `s_0`
/// uses `log Z`), nor is `log P_B` of exit steps. Cost: `O(n²)` per trajectory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubTrajectoryBalance {
    /// The geometric weight `λ > 0` per sub-trajectory length.
    pub lambda: f64,
    /// The penalty applied to every `ε_ij`.
    pub residual: Residual,
}

impl Default for SubTrajectoryBalance {
    /// `λ = 0.9` (the torchgfn default) with the squared penalty.
    fn default() -> Self {
        Self { lambda: 0.9, residual: Residual::Squared }
    }
}

impl SubTrajectoryBalance {
    /// SubTB(λ) with the given penalty; `lambda` must be positive and finite.
    pub fn new(lambda: f64, residual: Residual) -> Result<Self> {
        let objective = Self { lambda, residual };
        objective.validate()?;
        Ok(objective)
    }

    fn validate(&self) -> Result<()> {
        if !(self.lambda > 0.0 && self.lambda.is_finite()) {
            return Err(Error::config("lambda", self.lambda, "λ must be positive and finite"));
        }
        self.residual.validate()
    }

    /// The normalized weights `λ^ℓ / W` for sub-trajectory lengths `ℓ = 0..=len` (index 0 unused),
    /// computed relative to the largest power so that extreme `λ` neither overflows nor underflows W.
    fn weights(&self, len: usize) -> Vec<f64> {
        let ln = self.lambda.ln();
        let top = ln.max(len as f64 * ln);
        let mut w: Vec<f64> = (0..=len).map(|l| (l as f64 * ln - top).exp()).collect();
        w[0] = 0.0;
        let total: f64 = (1..=len).map(|l| (len + 1 - l) as f64 * w[l]).sum();
        w.iter_mut().for_each(|x| *x /= total);
        w
    }

    /// Adds trajectory `i`'s loss (already divided by `b`) and coefficients.
    fn trajectory(
        &self,
        terms: &TrajectoryTerms<'_>,
        log_flow: &[f64],
        log_z: f64,
        i: usize,
        grads: &mut TermGrads,
    ) -> Result<f64> {
        let b = terms.batch_size() as f64;
        let steps = terms.steps(i);
        let (t0, len) = (steps.start, steps.len());
        // flow[m] = log F~(s_m), prefix[m] = Σ_{k<m} (log P_F − log P_B)(step k), m = 0..=len.
        let mut flow = vec![log_z; len + 1];
        flow[len] = validate::finite("log_reward", i, terms.log_reward[i])?;
        let mut prefix = vec![0.0; len + 1];
        for k in 0..len {
            if k > 0 {
                flow[k] = validate::finite("log_flow", t0 + k, log_flow[t0 + k])?;
            }
            let (log_pf, log_pb) = validate::step(terms, t0 + k, k + 1 == len)?;
            prefix[k + 1] = prefix[k] + log_pf - log_pb;
        }
        let weights = self.weights(len);
        let mut loss = 0.0;
        let mut flow_grad = vec![0.0; len + 1];
        // span[m]: difference array of the step coefficients (step k is covered by i ≤ k < j).
        let mut span = vec![0.0; len + 1];
        for a in 0..len {
            for z in a + 1..=len {
                let eps = flow[a] + prefix[z] - prefix[a] - flow[z];
                loss += weights[z - a] * self.residual.value(eps) / b;
                let g = weights[z - a] * self.residual.derivative(eps) / b;
                flow_grad[a] += g;
                flow_grad[z] -= g;
                span[a] += g;
                span[z] -= g;
            }
        }
        grads.log_z += flow_grad[0];
        grads.log_flow[t0 + 1..t0 + len].copy_from_slice(&flow_grad[1..len]);
        let mut step_coeff = 0.0;
        for (k, d) in span[..len].iter().enumerate() {
            step_coeff += d;
            grads.log_pf[t0 + k] = step_coeff;
            if k + 1 < len {
                grads.log_pb[t0 + k] = -step_coeff;
            }
        }
        Ok(loss)
    }
}

impl Objective for SubTrajectoryBalance {
    fn name(&self) -> &'static str {
        "subtb"
    }

    fn requirements(&self) -> Requirements {
        Requirements { log_z: true, log_flow: true, ..Requirements::default() }
    }

    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> Result<f64> {
        self.validate()?;
        validate::layout(terms)?;
        let log_flow = validate::per_step("log_flow", terms.log_flow, terms)?;
        let log_z = validate::log_z(terms)?;
        grads.reset(terms.step_count(), &self.requirements());
        let mut loss = 0.0;
        for i in 0..terms.batch_size() {
            loss += self.trajectory(terms, log_flow, log_z, i, grads)?;
        }
        Ok(loss)
    }
}
