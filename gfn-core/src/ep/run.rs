//! The whole protocol on one machine: clients in parallel, one communication round, the server.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::{AggregateReport, ClientOutcome, FactoredReward, Server, ServerView, evaluate_aggregate, train_clients};
use crate::Result;
use crate::env::Enumerable;
use crate::train::{RunOptions, RunSummary, TrainConfig};

/// The outcome of [`run_local`].
#[derive(Debug)]
pub struct LocalRun<D: FactoredReward + 'static> {
    /// The clients, by factor.
    pub clients: Vec<ClientOutcome>,
    /// The trained server.
    pub server: Server<D>,
    /// The server's training summary.
    pub server_summary: RunSummary,
    /// Exact evaluation of the aggregate (when every client computed its local failure, i.e. the
    /// state space enumerates within the limit).
    pub report: Option<AggregateReport>,
    /// Wall-clock seconds of the (parallel) client phase.
    pub clients_wall_s: f64,
    /// Wall-clock seconds of the server phase.
    pub server_wall_s: f64,
}

/// Trains one client per factor of `env` in parallel (with `client_config`), hands their policy
/// files to a server (trained with `server_config`), and evaluates the aggregate exactly when
/// possible. Policy files go through their byte encoding, as they would over the network.
pub fn run_local<D>(
    env: Arc<D>,
    client_config: &TrainConfig,
    server_config: &TrainConfig,
    exact_limit: usize,
    env_record: &serde_json::Value,
) -> Result<LocalRun<D>>
where
    D: FactoredReward + Enumerable + 'static,
{
    let started = Instant::now();
    let factors: Vec<usize> = (0..env.factor_count()).collect();
    let clients = train_clients(env.clone(), &factors, client_config, exact_limit, env_record)?;
    let clients_wall_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let files = clients
        .iter()
        .map(|c| {
            let source = PathBuf::from(format!("client {}", c.report.factor));
            let bytes = c.file.to_bytes()?;
            Ok((source.clone(), super::PolicyFile::from_bytes(&bytes, &source)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut server = Server::new(ServerView::new(env.clone()), &files, server_config.clone())?;
    let server_summary = server.trainer_mut().fit(None, &RunOptions::default())?;
    let server_wall_s = started.elapsed().as_secs_f64();
    let local: Option<Vec<_>> = clients.iter().map(|c| c.report.local_failure).collect();
    let report = match local {
        Some(local) => Some(evaluate_aggregate(env.as_ref(), &server, &local)?),
        None => None,
    };
    Ok(LocalRun { clients, server, server_summary, report, clients_wall_s, server_wall_s })
}
