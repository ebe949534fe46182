//! `gfn ep`: EP-GFlowNets from the command line — train one client, aggregate client policy
//! files, or run everything on one machine.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use gfn_core::Error;
use gfn_core::env::Enumerable;
use gfn_core::ep::{FactoredReward, PolicyFile, Server, ServerView, evaluate_aggregate, run_local, train_client};
use gfn_core::policy::PolicyConfig;
use gfn_core::train::{RunOptions, TrainConfig};
use gfn_envs::factored::{GridBumpsConfig, factored_hypergrid, factored_multisets, factored_sequences};
use gfn_envs::hypergrid::HypergridConfig;
use gfn_envs::multisets::MultisetConfig;
use gfn_envs::sequences::SequenceConfig;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{CliError, CliResult};

/// States enumerated at most for exact evaluation and the local-failure bound.
pub(crate) const EXACT_LIMIT: usize = 300_000;

/// `gfn ep` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum EpCommand {
    /// Train the client of one factor and write its policy file (safetensors + JSON sidecar).
    Client(ClientArgs),
    /// Train the server from client policy files only (one per factor).
    Aggregate(AggregateArgs),
    /// Train every client in parallel and the server, on this machine.
    Run(RunArgs),
}

/// `gfn ep` options.
#[derive(Debug, Args)]
pub(crate) struct EpArgs {
    #[command(subcommand)]
    pub(crate) command: EpCommand,
}

/// Environments with a factored reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EpEnvName {
    /// Hypergrid with Gaussian-bump factors (ndim, height).
    Hypergrid,
    /// Multisets with per-factor utilities (types, size).
    Multisets,
    /// Sequences with per-factor position and bigram tables (length, vocab).
    Sequences,
}

/// The factored environment options.
#[derive(Debug, Clone, Args)]
pub(crate) struct EpEnvArgs {
    /// The environment.
    env: EpEnvName,
    /// Number of reward factors (clients).
    #[arg(long, default_value_t = 2)]
    factors: usize,
    /// Hypergrid: dimensions.
    #[arg(long, default_value_t = 2)]
    ndim: usize,
    /// Hypergrid: side length.
    #[arg(long, default_value_t = 8)]
    height: usize,
    /// Multisets: element kinds.
    #[arg(long, default_value_t = 10)]
    types: usize,
    /// Multisets: elements per multiset.
    #[arg(long, default_value_t = 8)]
    size: usize,
    /// Sequences: length.
    #[arg(long, default_value_t = 6)]
    length: usize,
    /// Sequences: vocabulary size.
    #[arg(long, default_value_t = 8)]
    vocab: usize,
    /// Seed of the factors.
    #[arg(long, default_value_t = 0)]
    env_seed: u64,
}

/// Training options of clients and server.
#[derive(Debug, Clone, Args)]
pub(crate) struct EpTrainArgs {
    /// Iterations.
    #[arg(long, default_value_t = 1000)]
    iterations: u64,
    /// Trajectories per iteration (even).
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Hidden layer widths, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "64,64")]
    hidden: Vec<usize>,
    /// Backward policy: uniform (fixed) or learned.
    #[arg(long, default_value = "uniform")]
    pb: String,
    /// Seed (each client derives its own streams from it and its factor).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (results do not depend on it).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// `gfn ep client` options.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    #[command(flatten)]
    env: EpEnvArgs,
    /// The factor this client owns.
    #[arg(long)]
    factor: usize,
    /// Client objective (any balance objective; contrastive balance by default).
    #[arg(long, default_value = "cb")]
    objective: String,
    #[command(flatten)]
    train: EpTrainArgs,
    /// Where to write the policy (and FILE.json).
    #[arg(long)]
    out: PathBuf,
}

/// `gfn ep aggregate` options.
#[derive(Debug, Args)]
pub(crate) struct AggregateArgs {
    /// Client policy files, one per factor.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Server objective: cb (aggregating balance on half-batch pairs) or cbf (all pairs).
    #[arg(long, default_value = "cb")]
    objective: String,
    #[command(flatten)]
    train: EpTrainArgs,
    /// Where to write the server policy (and FILE.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print a one-line JSON summary.
    #[arg(long)]
    json: bool,
}

/// `gfn ep run` options.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    env: EpEnvArgs,
    /// Client objective (any balance objective; contrastive balance by default).
    #[arg(long, default_value = "cb")]
    objective: String,
    /// Server objective: cb or cbf.
    #[arg(long, default_value = "cb")]
    server_objective: String,
    #[command(flatten)]
    train: EpTrainArgs,
    /// Server iterations (default: --iterations).
    #[arg(long)]
    server_iterations: Option<u64>,
    /// Train the clients on MPI ranks (`mpirun -n K gfn ep run --mpi …`) and aggregate on rank 0
    /// (needs a build with `--features mpi`).
    #[arg(long)]
    mpi: bool,
    /// Print a one-line JSON summary.
    #[arg(long)]
    json: bool,
}

/// A factored environment as stored in policy files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum EpEnvRecord {
    Hypergrid { grid: HypergridConfig, factors: usize, bumps: GridBumpsConfig },
    Multisets { config: MultisetConfig, factors: usize },
    Sequences { config: SequenceConfig, factors: usize },
}

impl EpEnvRecord {
    fn from_args(a: &EpEnvArgs) -> Self {
        match a.env {
            EpEnvName::Hypergrid => EpEnvRecord::Hypergrid {
                grid: HypergridConfig { ndim: a.ndim, height: a.height, ..HypergridConfig::default() },
                factors: a.factors,
                bumps: GridBumpsConfig { seed: a.env_seed, ..GridBumpsConfig::default() },
            },
            EpEnvName::Multisets => EpEnvRecord::Multisets {
                config: MultisetConfig { types: a.types, size: a.size, seed: a.env_seed },
                factors: a.factors,
            },
            EpEnvName::Sequences => EpEnvRecord::Sequences {
                config: SequenceConfig { length: a.length, vocab: a.vocab, seed: a.env_seed },
                factors: a.factors,
            },
        }
    }

    fn json(&self) -> CliResult<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| CliError::Usage(e.to_string()))
    }

    /// Builds the environment and runs `job` on it.
    fn with_env<J: EpJob>(&self, job: J) -> CliResult<J::Output> {
        match self {
            EpEnvRecord::Hypergrid { grid, factors, bumps } => {
                job.run(factored_hypergrid(grid.clone(), *factors, bumps.clone())?)
            }
            EpEnvRecord::Multisets { config, factors } => job.run(factored_multisets(config.clone(), *factors)?),
            EpEnvRecord::Sequences { config, factors } => job.run(factored_sequences(config.clone(), *factors)?),
        }
    }
}

/// Something to do with a concrete factored environment.
trait EpJob {
    type Output;
    fn run<D: FactoredReward + Enumerable + 'static>(self, env: D) -> CliResult<Self::Output>;
}

fn train_config(a: &EpTrainArgs, objective: &str) -> CliResult<TrainConfig> {
    let mut c =
        TrainConfig { seed: a.seed, iterations: a.iterations, batch_size: a.batch_size, ..TrainConfig::default() };
    c.objective.kind = objective.parse()?;
    c.policy = PolicyConfig { hidden: a.hidden.clone(), backward: a.pb.parse()?, ..PolicyConfig::default() };
    c.optim.adam.lr = a.lr;
    c.validate()?;
    Ok(c)
}

fn thread_pool(threads: usize) -> CliResult<()> {
    if threads == 0 {
        return Err(Error::config("threads", 0, "must be at least 1").into());
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| CliError::Usage(format!("cannot start {threads} threads: {e}")))
}

#[cfg(feature = "mpi")]
use super::ep_mpi::run_mpi;

/// Without the `mpi` feature, `--mpi` is an error.
#[cfg(not(feature = "mpi"))]
fn run_mpi<D>(_: D, _: &TrainConfig, _: TrainConfig, _: &serde_json::Value) -> CliResult<Option<serde_json::Value>> {
    Err(CliError::Usage("--mpi needs a gfn built with `cargo build --release --features mpi`".into()))
}

pub(crate) fn run(args: EpArgs) -> CliResult<()> {
    match args.command {
        EpCommand::Client(a) => client(a),
        EpCommand::Aggregate(a) => aggregate(a),
        EpCommand::Run(a) => run_all(a),
    }
}

struct ClientJob {
    factor: usize,
    config: TrainConfig,
    record: serde_json::Value,
}

impl EpJob for ClientJob {
    type Output = PolicyFile;
    fn run<D: FactoredReward + Enumerable + 'static>(self, env: D) -> CliResult<PolicyFile> {
        let outcome = train_client(Arc::new(env), self.factor, &self.config, EXACT_LIMIT, &self.record)?;
        Ok(outcome.file)
    }
}

fn client(a: ClientArgs) -> CliResult<()> {
    thread_pool(a.train.threads)?;
    let record = EpEnvRecord::from_args(&a.env);
    let config = train_config(&a.train, &a.objective)?;
    let file = record.with_env(ClientJob { factor: a.factor, config, record: record.json()? })?;
    file.write(&a.out)?;
    eprintln!("client {} of {}: {}", a.factor, a.env.factors, file.meta.report);
    Ok(())
}

/// Trains the server on `files` (one client policy per factor), evaluates the aggregate when the
/// state space enumerates and every client reported its local failure, and writes the server
/// policy to `out`. Returns the server and the summary.
pub(crate) fn serve<D: FactoredReward + Enumerable + 'static>(
    env: Arc<D>,
    files: &[(PathBuf, PolicyFile)],
    config: TrainConfig,
    out: Option<&std::path::Path>,
) -> CliResult<(Server<D>, serde_json::Value)> {
    let started = Instant::now();
    let mut server = Server::new(ServerView::new(env.clone()), files, config)?;
    let summary = server.trainer_mut().fit(None, &RunOptions::default())?;
    // Evaluation only (training never reads a reward): the product target, when it enumerates.
    let local: Option<Vec<_>> =
        files.iter().map(|(_, f)| serde_json::from_value(f.meta.report["local_failure"].clone()).ok()).collect();
    let report = match local {
        Some(local) if gfn_core::eval::ExactEvaluator::with_limit(env.as_ref(), EXACT_LIMIT).is_ok() => {
            Some(evaluate_aggregate(env.as_ref(), &server, &local)?)
        }
        _ => None,
    };
    let clients: Vec<_> = files.iter().map(|(_, f)| &f.meta.report).collect();
    let line = json!({
        "clients": clients,
        "server": summary,
        "aggregate": report,
        "server_wall_s": started.elapsed().as_secs_f64(),
    });
    if let (Some(out), Some((_, first))) = (out, files.first()) {
        server.policy_file(&first.meta.env, line.clone())?.write(out)?;
    }
    Ok((server, line))
}

struct AggregateJob {
    files: Vec<(PathBuf, PolicyFile)>,
    config: TrainConfig,
    out: Option<PathBuf>,
}

impl EpJob for AggregateJob {
    type Output = serde_json::Value;
    fn run<D: FactoredReward + Enumerable + 'static>(self, env: D) -> CliResult<serde_json::Value> {
        Ok(serve(Arc::new(env), &self.files, self.config, self.out.as_deref())?.1)
    }
}

fn aggregate(a: AggregateArgs) -> CliResult<()> {
    thread_pool(a.train.threads)?;
    let files = a.files.iter().map(|p| Ok((p.clone(), PolicyFile::read(p)?))).collect::<CliResult<Vec<_>>>()?;
    let first = &files[0];
    let record: EpEnvRecord = serde_json::from_value(first.1.meta.env.clone()).map_err(|e| Error::Checkpoint {
        path: first.0.display().to_string(),
        reason: format!("unknown environment record: {e}"),
    })?;
    let config = train_config(&a.train, &a.objective)?;
    let line = record.with_env(AggregateJob { files, config, out: a.out })?;
    print_summary(&line, a.json)
}

fn print_summary(line: &serde_json::Value, as_json: bool) -> CliResult<()> {
    if as_json {
        println!("{line}");
    } else {
        println!("{}", serde_json::to_string_pretty(line).map_err(|e| CliError::Usage(e.to_string()))?);
    }
    Ok(())
}

struct RunJob {
    client: TrainConfig,
    server: TrainConfig,
    record: serde_json::Value,
    mpi: bool,
}

impl EpJob for RunJob {
    type Output = Option<serde_json::Value>;
    fn run<D: FactoredReward + Enumerable + 'static>(self, env: D) -> CliResult<Option<serde_json::Value>> {
        if self.mpi {
            return run_mpi(env, &self.client, self.server, &self.record);
        }
        let started = Instant::now();
        let run = run_local(Arc::new(env), &self.client, &self.server, EXACT_LIMIT, &self.record)?;
        let clients: Vec<_> = run.clients.iter().map(|c| &c.report).collect();
        Ok(Some(json!({
            "clients": clients,
            "server": run.server_summary,
            "aggregate": run.report,
            "clients_wall_s": run.clients_wall_s,
            "server_wall_s": run.server_wall_s,
            "total_wall_s": started.elapsed().as_secs_f64(),
        })))
    }
}

fn run_all(a: RunArgs) -> CliResult<()> {
    thread_pool(a.train.threads)?;
    let record = EpEnvRecord::from_args(&a.env);
    let client = train_config(&a.train, &a.objective)?;
    let mut server = train_config(&a.train, &a.server_objective)?;
    if let Some(n) = a.server_iterations {
        server.iterations = n;
    }
    let job = RunJob { client, server, record: record.json()?, mpi: a.mpi };
    match record.with_env(job)? {
        Some(line) => print_summary(&line, a.json),
        None => Ok(()),
    }
}
