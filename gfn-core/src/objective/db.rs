//! Detailed balance (ALGORITHMS §1.5).

use super::{Objective, Requirements, Residual, TermGrads, TrajectoryTerms, validate};
use crate::Result;

/// Detailed balance over every step of the batch, with a state-flow head `log F`.
///
/// For a proper step `t` (`s_t → s_{t+1}`):
/// `ε_t = log F(s_t) + log P_F(s_{t+1}|s_t) − log F(s_{t+1}) − log P_B(s_t|s_{t+1})`; for the exit
/// step of trajectory `i`: `ε_t = log F(s_n) + log P_F(s_f|s_n) − log R(x_i)`.
/// `L = (1/M) Σ_t ρ(ε_t)` with `M` the number of steps. `log F(s_0)` plays the role of `log Z`,
/// so no `log Z` is used; `log P_B` of exit steps is not read.
///
/// Coefficients (per step, `/M`): `+ρ'(ε_t)` on `log F(s_t)` and `log P_F`; `−ρ'(ε_t)` on
/// `log F(s_{t+1})` and `log P_B` (proper steps only).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DetailedBalance {
    /// The penalty applied to every `ε_t`.
    pub residual: Residual,
}

impl DetailedBalance {
    /// Detailed balance with the given penalty.
    pub fn new(residual: Residual) -> Self {
        Self { residual }
    }
}

impl Objective for DetailedBalance {
    fn name(&self) -> &'static str {
        "db"
    }

    fn requirements(&self) -> Requirements {
        Requirements { log_flow: true, ..Requirements::default() }
    }

    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> Result<f64> {
        self.residual.validate()?;
        validate::layout(terms)?;
        let log_flow = validate::per_step("log_flow", terms.log_flow, terms)?;
        let m = terms.step_count() as f64;
        grads.reset(terms.step_count(), &self.requirements());
        let mut loss = 0.0;
        for i in 0..terms.batch_size() {
            let exit = terms.exit_step(i);
            for t in terms.steps(i) {
                let (log_pf, log_pb) = validate::step(terms, t, t == exit)?;
                let target = if t == exit {
                    validate::finite("log_reward", i, terms.log_reward[i])?
                } else {
                    validate::finite("log_flow", t + 1, log_flow[t + 1])?
                };
                let eps = validate::finite("log_flow", t, log_flow[t])? + log_pf - target - log_pb;
                loss += self.residual.value(eps) / m;
                let c = self.residual.derivative(eps) / m;
                grads.log_pf[t] += c;
                grads.log_flow[t] += c;
                if t != exit {
                    grads.log_flow[t + 1] -= c;
                    grads.log_pb[t] -= c;
                }
            }
        }
        Ok(loss)
    }
}
