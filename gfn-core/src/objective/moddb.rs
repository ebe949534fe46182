//! Modified detailed balance for environments where every state can exit (ALGORITHMS §1.6).

use super::{Objective, Requirements, Residual, TermGrads, TrajectoryTerms, validate};
use crate::Result;

/// Modified detailed balance: for every proper step `t` (`s = s_t`, `s' = s_{t+1}`),
/// `ε_t = [r(s) + log P_F(s'|s) + log P_F(s_f|s')] − [r(s') + log P_B(s|s') + log P_F(s_f|s)]`
/// with `r = log_reward_state`; `L = (1/M) Σ_t ρ(ε_t)` over the `M` proper steps (`M = 0` gives
/// loss 0). Exit steps contribute no residual, and neither `log Z`, flows nor the per-trajectory
/// `log_reward` are used.
///
/// `log_pf_exit` and `log_reward_state` are read (and must be finite) only at states that a proper
/// step leaves or enters; elsewhere they may be `-inf`.
///
/// Coefficients (`/M`): `+ρ'(ε_t)` on `log P_F` of step `t` and on `log P_F(s_f|s_{t+1})`;
/// `−ρ'(ε_t)` on `log P_B` of step `t` and on `log P_F(s_f|s_t)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModifiedDetailedBalance {
    /// The penalty applied to every `ε_t`.
    pub residual: Residual,
}

impl ModifiedDetailedBalance {
    /// Modified detailed balance with the given penalty.
    pub fn new(residual: Residual) -> Self {
        Self { residual }
    }
}

impl Objective for ModifiedDetailedBalance {
    fn name(&self) -> &'static str {
        "moddb"
    }

    fn requirements(&self) -> Requirements {
        Requirements { log_pf_exit: true, log_reward_state: true, ..Requirements::default() }
    }

    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> Result<f64> {
        self.residual.validate()?;
        validate::layout(terms)?;
        let pf_exit = validate::per_step("log_pf_exit", terms.log_pf_exit, terms)?;
        let reward = validate::per_step("log_reward_state", terms.log_reward_state, terms)?;
        let m = terms.step_count() - terms.batch_size();
        grads.reset(terms.step_count(), &self.requirements());
        let mut loss = 0.0;
        for i in 0..terms.batch_size() {
            for t in terms.proper_steps(i) {
                let (log_pf, log_pb) = validate::step(terms, t, false)?;
                let eps = validate::finite("log_reward_state", t, reward[t])?
                    + log_pf
                    + validate::finite("log_pf_exit", t + 1, pf_exit[t + 1])?
                    - validate::finite("log_reward_state", t + 1, reward[t + 1])?
                    - log_pb
                    - validate::finite("log_pf_exit", t, pf_exit[t])?;
                loss += self.residual.value(eps) / m as f64;
                let c = self.residual.derivative(eps) / m as f64;
                grads.log_pf[t] += c;
                grads.log_pf_exit[t + 1] += c;
                grads.log_pb[t] -= c;
                grads.log_pf_exit[t] -= c;
            }
        }
        Ok(loss)
    }
}
