//! Exact evaluation of an aggregate against the product target (reporting only: it reads the
//! full factored reward, which training never does).

use serde::{Deserialize, Serialize};

use super::{FactoredReward, LocalFailure, Server, ideal_aggregate, jeffrey};
use crate::Result;
use crate::env::Enumerable;
use crate::eval::ExactEvaluator;
use crate::eval::divergence::l1;

/// How close the server and the ideal aggregate are to `Π_n R_n / Z`, and the bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AggregateReport {
    /// Exact L1 of the trained server.
    pub l1_server: f64,
    /// Jeffrey divergence between the target and the trained server.
    pub jeffrey_server: f64,
    /// Exact L1 of the ideal aggregate (a server satisfying aggregating balance exactly).
    pub l1_ideal: f64,
    /// Jeffrey divergence between the target and the ideal aggregate.
    pub jeffrey_ideal: f64,
    /// `Σ_n log((1 + β_n)/(1 − α_n))` (seed eq. 10).
    pub bound: f64,
}

impl AggregateReport {
    /// Whether the ideal aggregate satisfies the bound (the theorem), up to `1e-9` of rounding.
    pub fn ideal_within_bound(&self) -> bool {
        self.jeffrey_ideal <= self.bound + 1e-9
    }

    /// Whether the trained server is also within the bound (not guaranteed: it may be imperfect).
    pub fn server_within_bound(&self) -> bool {
        self.jeffrey_server <= self.bound + 1e-9
    }
}

/// Evaluates `server` and the ideal aggregate of its clients on `env` (the full factored
/// environment), with the clients' local failures `local` (one per factor).
pub fn evaluate_aggregate<D>(env: &D, server: &Server<D>, local: &[LocalFailure]) -> Result<AggregateReport>
where
    D: FactoredReward + Enumerable + 'static,
{
    let exact = ExactEvaluator::new(env)?;
    let view = server.trainer().env();
    let (p_server, _) = exact.terminal_distribution(view, server.trainer().policy())?;
    let p_ideal = ideal_aggregate(view, &exact, server.trainer().policy(), server.ensemble().policies())?;
    let target = exact.target();
    Ok(AggregateReport {
        l1_server: l1(&p_server, target),
        jeffrey_server: jeffrey(target, &p_server),
        l1_ideal: l1(&p_ideal, target),
        jeffrey_ideal: jeffrey(target, &p_ideal),
        bound: local.iter().map(|f| f.bound).sum(),
    })
}
