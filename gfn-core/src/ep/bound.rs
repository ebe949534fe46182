//! The influence of local failures (seed eqs. 9–10) and the exact aggregate, on enumerable
//! environments.
//!
//! Client `n` is off by the ratios `ρ_n(τ) = P_F^(n)(τ) Z_n / (P_B^(n)(τ|x) R_n(x))` over all
//! complete trajectories (`ρ_n ≡ 1` for an exact client; with the exact `Z_n` the ratio is
//! normalised, and the bound below does not depend on the normalisation). With
//! `1 − α_n = min_τ ρ_n(τ)` and `1 + β_n = max_τ ρ_n(τ)`, a server that satisfies aggregating
//! balance exactly samples `R̂` with Jeffrey divergence
//! `D_J(R, R̂) ≤ Σ_n log((1 + β_n)/(1 − α_n))`.
//!
//! That server, the *ideal aggregate*, is computed here exactly:
//! `R̂(x) ∝ Σ_{τ→x} P_B(τ|x) Π_n P_F^(n)(τ)/P_B^(n)(τ|x)` with the server's `P_B`, by the
//! same dynamic programming over the state DAG as exact evaluation. It uses client policies only.

use serde::{Deserialize, Serialize};

use super::{ClientView, FactoredReward, ServerView};
use crate::backend::Backend;
use crate::env::StateGraph;
use crate::eval::divergence::logsumexp;
use crate::eval::{ExactEvaluator, LogProbTables};
use crate::policy::Policy;
use crate::{Error, Result};

/// How far one client is from balance over all its trajectories.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocalFailure {
    /// `min_τ log ρ_n(τ)`.
    pub log_ratio_min: f64,
    /// `max_τ log ρ_n(τ)`.
    pub log_ratio_max: f64,
    /// `α_n = 1 − min_τ ρ_n(τ)`.
    pub alpha: f64,
    /// `β_n = max_τ ρ_n(τ) − 1`.
    pub beta: f64,
    /// This client's term of the bound, `log((1 + β_n)/(1 − α_n))`.
    pub bound: f64,
}

/// Per-state accumulation over every path from the source: `acc[child] = combine(acc[child],
/// acc[s] + weight(s, a, child))` along every edge, in topological order; unreachable states keep
/// `identity`.
fn propagate<S: Clone + Eq + std::hash::Hash + std::fmt::Debug>(
    graph: &StateGraph<S>,
    identity: f64,
    combine: impl Fn(f64, f64) -> f64,
    weight: impl Fn(usize, usize, usize) -> f64,
) -> Vec<f64> {
    let mut acc = vec![identity; graph.len()];
    acc[0] = 0.0;
    for s in 0..graph.len() {
        if acc[s] == identity {
            continue;
        }
        for &(a, child) in graph.out_edges(s) {
            acc[child] = combine(acc[child], acc[s] + weight(s, a, child));
        }
    }
    acc
}

/// `log P_F(a|s) − log P_B(s|child)` of one edge.
fn edge_log_ratio(t: &LogProbTables, s: usize, a: usize, child: usize) -> f64 {
    t.pf(s, a) - t.pb(child, a)
}

/// The local failure of client `view` with `policy`; `exact` must be built on the same view (its
/// rewards are the client's factor).
pub fn local_failure<D, B>(
    view: &ClientView<D>,
    exact: &ExactEvaluator<D::State>,
    policy: &Policy<B>,
) -> Result<LocalFailure>
where
    D: FactoredReward,
    B: Backend,
{
    let graph = exact.graph();
    let t = exact.log_prob_tables(view, policy)?;
    let weight = |s, a, c| edge_log_ratio(&t, s, a, c);
    let hi = propagate(graph, f64::NEG_INFINITY, f64::max, weight);
    let lo = propagate(graph, f64::INFINITY, f64::min, weight);
    let exit = crate::env::Environment::exit_action(view);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (&x, &log_r) in exact.terminal_indices().iter().zip(exact.log_rewards()) {
        let offset = t.pf(x, exit) - log_r + exact.log_z();
        min = min.min(lo[x] + offset);
        max = max.max(hi[x] + offset);
    }
    if !(min.is_finite() && max.is_finite()) {
        return Err(Error::NonFinite {
            what: format!("log-ratio range of client {}", view.factor()),
            value: max - min,
        });
    }
    Ok(LocalFailure {
        log_ratio_min: min,
        log_ratio_max: max,
        alpha: 1.0 - min.exp(),
        beta: max.exp() - 1.0,
        bound: max - min,
    })
}

/// The terminal distribution of the ideal aggregate of `clients` under the server's `P_B` (from
/// `server`), in the order of `exact`'s terminals. `exact` may be built on the server's view: no
/// reward is used.
pub fn ideal_aggregate<D, B>(
    view: &ServerView<D>,
    exact: &ExactEvaluator<D::State>,
    server: &Policy<B>,
    clients: &[Policy<B>],
) -> Result<Vec<f64>>
where
    D: FactoredReward,
    B: Backend,
{
    let graph = exact.graph();
    let server_tables = exact.log_prob_tables(view, server)?;
    let client_tables = clients.iter().map(|p| exact.log_prob_tables(view, p)).collect::<Result<Vec<_>>>()?;
    let log_paths = propagate(
        graph,
        f64::NEG_INFINITY,
        |x, y| logsumexp(&[x, y]),
        |s, a, c| server_tables.pb(c, a) + client_tables.iter().map(|t| edge_log_ratio(t, s, a, c)).sum::<f64>(),
    );
    let exit = crate::env::Environment::exit_action(view);
    let log_q: Vec<f64> = exact
        .terminal_indices()
        .iter()
        .map(|&x| log_paths[x] + client_tables.iter().map(|t| t.pf(x, exit)).sum::<f64>())
        .collect();
    let log_norm = logsumexp(&log_q);
    if !log_norm.is_finite() {
        return Err(Error::NonFinite { what: "normaliser of the ideal aggregate".into(), value: log_norm });
    }
    Ok(log_q.iter().map(|l| (l - log_norm).exp()).collect())
}

/// The Jeffrey divergence `KL(p‖q) + KL(q‖p) = Σ_x (p(x) − q(x)) (log p(x) − log q(x))`
/// (infinite when one side has mass where the other has none).
pub fn jeffrey(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .map(|(&a, &b)| match (a > 0.0, b > 0.0) {
            (true, true) => (a - b) * (a.ln() - b.ln()),
            (false, false) => 0.0,
            _ => f64::INFINITY,
        })
        .sum()
}
