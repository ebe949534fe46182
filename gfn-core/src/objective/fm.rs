//! Flow matching (ALGORITHMS §1.7).
//!
//! Flow matching is parameterized by *edge* log-flows `log F(s → s')` (raw logits; the forward
//! policy is the softmax of a state's out-edge log-flows), and its constraints are per visited
//! state, not per trajectory: each needs the log-flows of every incoming edge, from parents the
//! trajectory never visited. So it takes [`FlowTerms`] instead of
//! [`TrajectoryTerms`](super::TrajectoryTerms), returns edge-flow coefficients in [`FlowGrads`],
//! and deliberately does not implement [`Objective`](super::Objective).
//!
//! Terminal rewards enter through the stop-action formulation: the exit edge `x → s_f` is an
//! ordinary out-edge of `x` (in its conservation constraint), and a separate sink constraint asks
//! it to carry `R(x)`.

use super::{Residual, validate};
use crate::{Error, Result};

/// The edge log-flows of a batch of flow-matching constraints.
#[derive(Debug, Clone, Copy)]
pub struct FlowTerms<'a> {
    /// CSR offsets of the incoming edges of each constrained state, length `K + 1`: the incoming
    /// edge log-flows of state `k` (one constraint per visited non-source state) are
    /// `in_log_flow[in_offsets[k]..in_offsets[k + 1]]`.
    pub in_offsets: &'a [usize],
    /// Incoming edge log-flows `log F(p → s)`, grouped by state.
    pub in_log_flow: &'a [f64],
    /// CSR offsets of the outgoing edges of each constrained state, length `K + 1`: the outgoing
    /// edge log-flows of state `k` (the exit edge included where exit is allowed) are
    /// `out_log_flow[out_offsets[k]..out_offsets[k + 1]]`.
    pub out_offsets: &'a [usize],
    /// Outgoing edge log-flows `log F(s → c)`, grouped by state.
    pub out_log_flow: &'a [f64],
    /// Sink constraints: the log-flow of the exit edge of each terminal object, which must carry
    /// its reward (residual `sink_log_flow[j] − sink_log_reward[j]`). The same edge usually also
    /// appears in `out_log_flow` (in its state's conservation constraint); the caller adds both
    /// coefficients. Keeping sinks separate lets a trajectory that exits at the source (which has
    /// no conservation constraint) still tie its exit edge to the reward.
    pub sink_log_flow: &'a [f64],
    /// `log R(x)` for each sink constraint.
    pub sink_log_reward: &'a [f64],
}

/// Coefficients `dL/d(edge log-flow)`; same layout as [`FlowTerms`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowGrads {
    /// `dL/d in_log_flow[e]`.
    pub in_log_flow: Vec<f64>,
    /// `dL/d out_log_flow[e]`.
    pub out_log_flow: Vec<f64>,
    /// `dL/d sink_log_flow[j]`.
    pub sink_log_flow: Vec<f64>,
}

/// Flow matching: `ε_k = logsumexp(in_k) − logsumexp(out_k)` for each constrained state and
/// `ε_j = sink_log_flow[j] − sink_log_reward[j]` for each sink;
/// `L = (Σ_k ρ(ε_k) + Σ_j ρ(ε_j)) / (K + J)`.
///
/// Coefficients (`/(K + J)`): `+ρ'(ε_k) π_in(e)` on each incoming edge and `−ρ'(ε_k) π_out(e)` on
/// each outgoing edge, with `π` the softmax weights within the group; `+ρ'(ε_j)` on each sink flow.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FlowMatching {
    /// The penalty applied to every residual.
    pub residual: Residual,
}

/// `logsumexp` of a non-empty slice of finite values, computed stably.
fn logsumexp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

impl FlowMatching {
    /// Flow matching with the given penalty.
    pub fn new(residual: Residual) -> Self {
        Self { residual }
    }

    /// Computes the loss and writes the edge-flow coefficients into `grads` (resized and zeroed).
    pub fn evaluate(&self, terms: &FlowTerms<'_>, grads: &mut FlowGrads) -> Result<f64> {
        self.residual.validate()?;
        let states = check(terms)?;
        let count = (states + terms.sink_log_flow.len()) as f64;
        grads.in_log_flow.clear();
        grads.in_log_flow.resize(terms.in_log_flow.len(), 0.0);
        grads.out_log_flow.clear();
        grads.out_log_flow.resize(terms.out_log_flow.len(), 0.0);
        grads.sink_log_flow.clear();
        grads.sink_log_flow.resize(terms.sink_log_flow.len(), 0.0);
        let mut loss = 0.0;
        for k in 0..states {
            let ins = terms.in_offsets[k]..terms.in_offsets[k + 1];
            let outs = terms.out_offsets[k]..terms.out_offsets[k + 1];
            let lse_in = logsumexp(&terms.in_log_flow[ins.clone()]);
            let lse_out = logsumexp(&terms.out_log_flow[outs.clone()]);
            let eps = lse_in - lse_out;
            loss += self.residual.value(eps) / count;
            let c = self.residual.derivative(eps) / count;
            for e in ins {
                grads.in_log_flow[e] += c * (terms.in_log_flow[e] - lse_in).exp();
            }
            for e in outs {
                grads.out_log_flow[e] -= c * (terms.out_log_flow[e] - lse_out).exp();
            }
        }
        for (j, (&log_flow, &log_reward)) in terms.sink_log_flow.iter().zip(terms.sink_log_reward).enumerate() {
            let eps = log_flow - log_reward;
            loss += self.residual.value(eps) / count;
            grads.sink_log_flow[j] = self.residual.derivative(eps) / count;
        }
        Ok(loss)
    }
}

/// Validates shapes, finiteness and edge counts; returns the number of constrained states `K`.
fn check(terms: &FlowTerms<'_>) -> Result<usize> {
    if terms.in_offsets.is_empty() {
        return Err(Error::config("in_offsets", "[]", "CSR offsets need K + 1 entries"));
    }
    let states = terms.in_offsets.len() - 1;
    validate::length("FlowTerms::out_offsets", states + 1, terms.out_offsets.len())?;
    validate::length("FlowTerms::sink_log_reward", terms.sink_log_flow.len(), terms.sink_log_reward.len())?;
    if states == 0 && terms.sink_log_flow.is_empty() {
        return Err(Error::config("flow_terms", "empty", "no constraints to evaluate"));
    }
    for (name, side, offsets, flows) in [
        ("in_offsets", "incoming", terms.in_offsets, terms.in_log_flow),
        ("out_offsets", "outgoing", terms.out_offsets, terms.out_log_flow),
    ] {
        if let Some(k) = validate::csr(name, offsets, flows.len())? {
            return Err(Error::InconsistentEnvironment(format!("flow-matching state {k} has no {side} edges")));
        }
    }
    for (e, &v) in terms.in_log_flow.iter().enumerate() {
        validate::finite("in_log_flow", e, v)?;
    }
    for (e, &v) in terms.out_log_flow.iter().enumerate() {
        validate::finite("out_log_flow", e, v)?;
    }
    for (j, (&f, &r)) in terms.sink_log_flow.iter().zip(terms.sink_log_reward).enumerate() {
        validate::finite("sink_log_flow", j, f)?;
        validate::finite("sink_log_reward", j, r)?;
    }
    Ok(states)
}
