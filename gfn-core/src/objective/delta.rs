//! The per-trajectory log-ratio `δ(τ) = Σ log P_F − Σ log P_B − log R(x)` shared by the
//! trajectory-level objectives (TB, VarGrad, contrastive balance).

use super::{TermGrads, TrajectoryTerms, validate};
use crate::Result;

/// `δ_i` for every trajectory, after checking the layout and the finiteness of every term read
/// (`log P_B` of exit steps is not read).
pub(crate) fn deltas(terms: &TrajectoryTerms<'_>) -> Result<Vec<f64>> {
    validate::layout(terms)?;
    (0..terms.batch_size())
        .map(|i| {
            let exit = terms.exit_step(i);
            let mut delta = -validate::finite("log_reward", i, terms.log_reward[i])?;
            for t in terms.steps(i) {
                let (log_pf, log_pb) = validate::step(terms, t, t == exit)?;
                delta += log_pf - log_pb;
            }
            Ok(delta)
        })
        .collect()
}

/// Spreads `dL/dδ_i = coeffs[i]` onto the steps: `+coeffs[i]` on every `log P_F` step of
/// trajectory `i` (exit step included) and `−coeffs[i]` on every `log P_B` step (exit step
/// excluded).
pub(crate) fn scatter(terms: &TrajectoryTerms<'_>, coeffs: &[f64], grads: &mut TermGrads) {
    for (i, &c) in coeffs.iter().enumerate() {
        for t in terms.steps(i) {
            grads.log_pf[t] = c;
        }
        for t in terms.proper_steps(i) {
            grads.log_pb[t] = -c;
        }
    }
}
