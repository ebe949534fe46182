//! Client training: one GFlowNet per reward factor, in parallel.

use std::sync::Arc;

use rand::Rng as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ClientView, FactoredReward, LocalFailure, PolicyFile, PolicyMeta, local_failure};
use crate::Result;
use crate::env::{Enumerable, Environment};
use crate::eval::{EvalReport, Evaluate, ExactEvaluator};
use crate::rng::{Purpose, stream};
use crate::train::{RunOptions, RunSummary, TrainConfig, Trainer};

/// What a client reports along with its policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientReport {
    /// The factor.
    pub factor: usize,
    /// The factor's name.
    pub factor_name: String,
    /// The seed the client trained with (derived from the run seed and the factor).
    pub seed: u64,
    /// Iterations trained.
    pub iterations: u64,
    /// The final training loss.
    pub final_loss: f64,
    /// Wall-clock seconds of training steps.
    pub train_s: f64,
    /// Exact evaluation against `R_n/Z_n` (when the state space enumerates).
    pub eval: Option<EvalReport>,
    /// The local failure `(α_n, β_n)` (when the state space enumerates).
    pub local_failure: Option<LocalFailure>,
}

/// A trained client: its policy file and its report (also stored in the file's sidecar).
#[derive(Debug, Clone)]
pub struct ClientOutcome {
    /// The policy, ready to send to the server.
    pub file: PolicyFile,
    /// The report.
    pub report: ClientReport,
    /// The training summary.
    pub summary: RunSummary,
}

/// The seed of client `factor` in a run seeded with `seed`: every client draws from its own
/// streams.
pub fn client_seed(seed: u64, factor: usize) -> u64 {
    stream(seed, Purpose::User, &[0x6570_636c, factor as u64]).random()
}

/// Trains the client of `factor` on its view of `env` with `config` (its seed replaced by
/// [`client_seed`]). Exact evaluation and the local-failure bound are computed when the state space
/// has at most `exact_limit` states. `env_record` is stored in the policy file.
pub fn train_client<D>(
    env: Arc<D>,
    factor: usize,
    config: &TrainConfig,
    exact_limit: usize,
    env_record: &serde_json::Value,
) -> Result<ClientOutcome>
where
    D: FactoredReward + Enumerable + 'static,
{
    let view = ClientView::new(env, factor)?;
    let seed = client_seed(config.seed, factor);
    let config = TrainConfig { seed, ..config.clone() };
    let exact = match ExactEvaluator::with_limit(&view, exact_limit) {
        Ok(e) => Some(Arc::new(e)),
        Err(crate::Error::TooManyStates { .. }) => None,
        Err(e) => return Err(e),
    };
    let mut trainer = Trainer::new(view.clone(), config)?;
    if trainer.config().objective.kind.needs_targets() {
        let sampler = exact.clone().ok_or_else(|| {
            crate::Error::config("objective", trainer.config().objective.kind, "needs an enumerable environment")
        })?;
        trainer.set_target_sampler(sampler);
    }
    let evaluator = exact.as_deref().map(|e| e as &dyn Evaluate<ClientView<D>, _>);
    let summary = trainer.fit(evaluator, &RunOptions::default())?;
    let local = match &exact {
        Some(e) => Some(local_failure(&view, e, trainer.policy())?),
        None => None,
    };
    let report = ClientReport {
        factor,
        factor_name: view.factor_name(),
        seed,
        iterations: summary.iterations,
        final_loss: summary.final_loss,
        train_s: summary.train_s,
        eval: summary.eval.clone(),
        local_failure: local,
    };
    let meta = PolicyMeta {
        format: String::new(),
        env_signature: view.env_signature(),
        factor: Some(factor),
        factor_count: view.factor_count(),
        feature_dim: view.feature_dim(),
        action_count: view.action_count(),
        flow_head: false,
        policy: trainer.config().policy.clone(),
        env: env_record.clone(),
        report: serde_json::to_value(&report).map_err(|e| crate::Error::config("report", factor, e.to_string()))?,
    };
    let file = PolicyFile::from_policy(trainer.policy(), meta)?;
    Ok(ClientOutcome { file, report, summary })
}

/// Trains the clients of `factors` in parallel on the current rayon pool (results do not depend on
/// the number of threads), in the order given.
pub fn train_clients<D>(
    env: Arc<D>,
    factors: &[usize],
    config: &TrainConfig,
    exact_limit: usize,
    env_record: &serde_json::Value,
) -> Result<Vec<ClientOutcome>>
where
    D: FactoredReward + Enumerable + 'static,
{
    factors.par_iter().map(|&i| train_client(env.clone(), i, config, exact_limit, env_record)).collect()
}
