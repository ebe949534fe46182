//! The `train`, `eval` and `sample` commands.

use std::path::{Path, PathBuf};

use gfn_core::Error;
use gfn_core::backend::Cpu;
use gfn_core::env::Enumerable;
use gfn_core::eval::{EvalReport, Evaluate, ExactEvaluator, TargetSamples};
use gfn_core::objective::Residual;
use gfn_core::policy::Exploration;
use gfn_core::rng::Purpose;
use gfn_core::sampler::{Draw, sample_forward};
use gfn_core::train::{EvalConfig, ObjectiveKind, RunOptions, RunSummary, TrainConfig, Trainer, read_sidecar};
use gfn_core::trajectory::Trajectories;
use gfn_envs::dag::DagEnv;
use gfn_envs::phylo::env::PhyloEnv;
use gfn_envs::phylo::newick::write_newick;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::args::{Cli, Command, EnvName, EvalArgs, EvalMode, SampleArgs, SampleFormat, TrainArgs};
use super::envs::{EnvJob, EnvRecord};
use super::{CliError, CliResult};

/// States enumerated at most when `--eval auto` tries exact evaluation.
const AUTO_EXACT_LIMIT: usize = 300_000;

/// A TOML config file: `[env]` (with `kind = "hypergrid"` and its parameters) and `[train]`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    env: Option<EnvRecord>,
    #[serde(default)]
    train: TrainConfig,
}

pub(crate) fn dispatch(cli: Cli) -> CliResult<()> {
    match cli.command {
        Command::Train(args) => train(*args),
        Command::Eval(args) => eval(args),
        Command::Sample(args) => sample(args),
        Command::Phylo(args) => super::phylo::run(args),
        Command::Ep(args) => super::ep::run(*args),
    }
}

fn read_config(path: &Path) -> CliResult<FileConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| CliError::Config { path: path.display().to_string(), reason: e.to_string() })
}

fn parse<T: std::str::FromStr<Err = Error>>(value: &Option<String>) -> CliResult<Option<T>> {
    Ok(value.as_deref().map(str::parse).transpose()?)
}

/// Applies the evaluation flags, which a resumed run also takes, to `e`.
fn apply_eval_args(e: &mut EvalConfig, a: &TrainArgs) {
    if let Some(k) = a.eval_every {
        e.every = k;
    }
    for (field, value) in [
        (&mut e.samples, a.eval_samples),
        (&mut e.backward_samples, a.eval_backward_samples),
        (&mut e.feature_budget, a.eval_feature_budget),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
}

/// Applies the training flags to `c`.
fn apply_train_args(c: &mut TrainConfig, a: &TrainArgs) -> CliResult<()> {
    if let Some(k) = parse(&a.objective)? {
        c.objective.kind = k;
    }
    macro_rules! set {
        ($($field:expr => $value:expr),* $(,)?) => { $( if let Some(v) = $value.clone() { $field = v; } )* };
    }
    set!(
        c.iterations => a.iterations,
        c.batch_size => a.batch_size,
        c.optim.adam.lr => a.lr,
        c.optim.lr_log_z => a.lr_logz,
        c.exploration.epsilon => a.epsilon,
        c.exploration.temperature => a.temperature,
        c.replay.capacity => a.replay,
        c.objective.lambda => a.lambda,
        c.objective.alpha => a.alpha,
        c.policy.hidden => a.hidden,
        c.seed => a.seed,
    );
    apply_eval_args(&mut c.eval, a);
    if let Some(cv) = parse(&a.cv)? {
        c.objective.control_variate = Some(cv);
    }
    if a.target_samples.is_some() {
        match c.objective.kind {
            ObjectiveKind::Fkl => c.objective.from_targets = true,
            ObjectiveKind::Akl | ObjectiveKind::Atb => {}
            other => {
                return Err(CliError::Usage(format!("--target-samples applies to fkl, akl and atb, not {other}")));
            }
        }
    }
    if let Some(d) = a.huber_delta {
        c.objective.residual = Residual::Huber { delta: d };
    }
    if let Some(v) = a.clip_grad_norm {
        c.optim.clip_grad_norm = Some(v);
    }
    if let Some(k) = &a.replay_kind {
        c.replay.kind = match k.as_str() {
            "uniform" => gfn_core::replay::ReplayKind::Uniform,
            "prioritized" | "prioritised" => gfn_core::replay::ReplayKind::Prioritized,
            other => return Err(Error::config("replay_kind", other, "expected uniform or prioritized").into()),
        };
    }
    if let Some(name) = &a.activation {
        c.policy.activation = name.parse().map_err(|e: gfn_core::nn::ParseActivationError| {
            CliError::from(Error::config("activation", name, e.to_string()))
        })?;
    }
    if let Some(pb) = parse(&a.pb)? {
        c.policy.backward = pb;
    }
    if let Some(architecture) = parse(&a.architecture)? {
        c.policy.architecture = architecture;
    }
    if let Some(kind) = parse(&a.anneal)? {
        c.anneal.kind = kind;
    }
    set!(
        c.anneal.threshold => a.anneal_threshold,
        c.anneal.min_temperature => a.anneal_min_temperature,
    );
    if a.anneal_interval.is_some() {
        c.anneal.interval = a.anneal_interval;
    }
    if let Some(temperatures) = &a.condition_temperatures {
        c.condition.temperatures.clone_from(temperatures);
    }
    if let Some(schedule) = parse(&a.condition_schedule)? {
        c.condition.schedule = schedule;
    }
    set!(c.condition.spread => a.condition_spread);
    Ok(())
}

/// Flags that change the model or its training and so cannot be combined with `--resume`.
fn resume_conflicts(a: &TrainArgs) -> Vec<&'static str> {
    let e = &a.env_args;
    let given = [
        ("env", a.env.is_some()),
        ("config", a.config.is_some()),
        ("objective", a.objective.is_some()),
        ("batch-size", a.batch_size.is_some()),
        ("lr", a.lr.is_some()),
        ("lr-logz", a.lr_logz.is_some()),
        ("epsilon", a.epsilon.is_some()),
        ("temperature", a.temperature.is_some()),
        ("replay", a.replay.is_some() || a.replay_kind.is_some()),
        ("lambda", a.lambda.is_some() || a.huber_delta.is_some()),
        ("alpha", a.alpha.is_some() || a.cv.is_some()),
        ("hidden", a.hidden.is_some() || a.activation.is_some() || a.pb.is_some()),
        ("clip-grad-norm", a.clip_grad_norm.is_some()),
        ("architecture", a.architecture.is_some()),
        (
            "anneal",
            a.anneal.is_some()
                || a.anneal_threshold.or(a.anneal_min_temperature).is_some()
                || a.anneal_interval.is_some(),
        ),
        (
            "condition",
            a.condition_temperatures.is_some() || a.condition_schedule.is_some() || a.condition_spread.is_some(),
        ),
        ("seed", a.seed.is_some()),
        (
            "env options",
            e.ndim.or(e.height).or(e.length).or(e.word_size).or(e.num_modes).is_some()
                || e.pool_size.or(e.set_size).or(e.vocab).is_some()
                || e.r0.or(e.r1).or(e.r2).or(e.reward_temperature).is_some()
                || e.env_seed.is_some()
                || e.data.is_some()
                || e.simulate.is_some()
                || e.score.is_some()
                || e.graph_prior.is_some()
                || e.alignment.is_some()
                || e.reward.is_some()
                || e.branch_actions.is_some()
                || e.reward_offset.or(e.bin_size).is_some()
                || e.bins.is_some(),
        ),
    ];
    given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect()
}

fn train(args: TrainArgs) -> CliResult<()> {
    if args.threads == 0 {
        return Err(Error::config("threads", 0, "must be at least 1").into());
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()
        .map_err(|e| CliError::Usage(format!("cannot start {} threads: {e}", args.threads)))?;
    let (record, config) = match &args.resume {
        Some(path) => {
            let conflicts = resume_conflicts(&args);
            if !conflicts.is_empty() {
                return Err(CliError::Usage(format!(
                    "--resume continues the saved run; these options cannot change: {}",
                    conflicts.join(", ")
                )));
            }
            let sidecar = read_sidecar(path)?;
            let record: EnvRecord = serde_json::from_value(sidecar.env.clone()).map_err(|e| Error::Checkpoint {
                path: path.display().to_string(),
                reason: format!("unknown environment record: {e}"),
            })?;
            let mut config = sidecar.config;
            if let Some(n) = args.iterations {
                config.iterations = n;
            }
            apply_eval_args(&mut config.eval, &args);
            config.validate()?;
            (record, config)
        }
        None => {
            let file = match &args.config {
                Some(p) => read_config(p)?,
                None => FileConfig::default(),
            };
            let mut record = match (args.env, file.env) {
                (Some(name), Some(r)) if r.name() == EnvRecord::default_for(name).name() => r,
                (Some(name), _) => EnvRecord::default_for(name),
                (None, Some(r)) => r,
                (None, None) => EnvRecord::default_for(EnvName::Hypergrid),
            };
            record.apply(&args.env_args)?;
            let mut config = file.train;
            apply_train_args(&mut config, &args)?;
            config.validate()?;
            if let Some(reference) = config.condition.reference() {
                record.condition_on(config.condition.temperatures[reference], args.env_args.reward_temperature)?;
            }
            (record, config)
        }
    };
    let job = TrainJob { args: &args, config, record: record.clone() };
    let seed = job.config.seed;
    let (summary, objective, extra) = record.with_env(job)?;
    report(&record, &summary, &objective, seed, &args, extra)
}

/// Builds the evaluator `mode` asks for; `annealing`: for a run whose reward temperature will
/// change (exact evaluation would keep the target of `env`'s temperature).
fn evaluator<E: Enumerable + 'static>(
    env: &E,
    mode: EvalMode,
    config: &TrainConfig,
    annealing: bool,
) -> CliResult<Box<dyn Evaluate<E, Cpu>>> {
    let mc = || -> CliResult<Box<dyn Evaluate<E, Cpu>>> { Ok(Box::new(config.eval.monte_carlo(config.seed)?)) };
    if annealing {
        // The exact evaluator enumerates the rewards once, at the initial temperature.
        return match mode {
            EvalMode::Exact => Err(CliError::Usage(
                "--eval exact fixes the target at the initial temperature; with --anneal use --eval mc".into(),
            )),
            EvalMode::Mc | EvalMode::Auto => mc(),
        };
    }
    match mode {
        EvalMode::Exact => Ok(Box::new(ExactEvaluator::new(env)?)),
        EvalMode::Mc => mc(),
        // Hybrid environments (continuous steps) are not enumerable.
        EvalMode::Auto if env.continuous().is_some() => mc(),
        EvalMode::Auto => match ExactEvaluator::with_limit(env, AUTO_EXACT_LIMIT.min(env.state_limit())) {
            Ok(e) => Ok(Box::new(e)),
            Err(Error::TooManyStates { .. }) => mc(),
            Err(e) => Err(e.into()),
        },
    }
}

struct TrainJob<'a> {
    args: &'a TrainArgs,
    config: TrainConfig,
    record: EnvRecord,
}

impl TrainJob<'_> {
    /// Trains on `env` and returns the summary, the objective name and the trainer.
    fn fit<E: Enumerable + 'static>(self, env: E) -> CliResult<(RunSummary, String, Trainer<E, Cpu>)> {
        let eval = evaluator(&env, self.args.eval, &self.config, self.config.anneal.is_active())?;
        let resumed = self.args.resume.is_some();
        let mut trainer = match &self.args.resume {
            Some(path) => {
                let mut t = Trainer::from_checkpoint(env, Cpu, path)?;
                t.set_iterations(self.config.iterations);
                t
            }
            None => Trainer::new(env, self.config.clone())?,
        };
        if let Some(path) = &self.args.target_samples {
            // Target samples from data; objects named without actions resolve among the enumerated ones.
            let known = ExactEvaluator::with_limit(trainer.env(), AUTO_EXACT_LIMIT).ok();
            let samples = TargetSamples::read(trainer.env(), path, known.iter().flat_map(|k| k.terminal_states()))?;
            trainer.set_target_sampler(std::sync::Arc::new(samples));
        } else if self.config.objective.from_targets {
            return Err(CliError::Usage("this fkl run trains on data: pass --target-samples FILE".into()));
        } else if self.config.objective.needs_targets() {
            // α-KL / α-TB train on backward trajectories from exact target samples.
            let exact = ExactEvaluator::with_limit(trainer.env(), AUTO_EXACT_LIMIT).map_err(|e| match e {
                Error::TooManyStates { limit } => CliError::Usage(format!(
                    "--objective {} needs exact target samples (or --target-samples FILE), but the environment has more than {limit} states",
                    self.config.objective.kind
                )),
                other => other.into(),
            })?;
            trainer.set_target_sampler(std::sync::Arc::new(exact));
        }
        let options = RunOptions {
            metrics_out: self.args.metrics_out.clone(),
            append_metrics: resumed,
            checkpoint: self.args.checkpoint.clone(),
            checkpoint_every: self.args.checkpoint_every,
            env_record: serde_json::to_value(&self.record).map_err(|e| CliError::Usage(e.to_string()))?,
            progress: !self.args.json,
        };
        let summary = trainer.fit(Some(eval.as_ref()), &options)?;
        let objective = trainer.config().objective.kind.to_string();
        Ok((summary, objective, trainer))
    }
}

impl EnvJob for TrainJob<'_> {
    /// The summary, the objective name and environment-specific results (DAG metrics).
    type Output = (RunSummary, String, Option<serde_json::Value>);
    fn run<E: Enumerable + 'static>(self, env: E) -> CliResult<Self::Output> {
        if self.args.edge_marginals.is_some() || self.args.samples_out.is_some() {
            return Err(CliError::Usage("--edge-marginals and --samples-out apply to environment dag".into()));
        }
        let (summary, objective, _) = self.fit(env)?;
        Ok((summary, objective, None))
    }

    fn run_phylo(self, env: PhyloEnv) -> CliResult<Self::Output> {
        let (summary, objective, trainer) = self.fit(env)?;
        Ok((summary, objective, Some(super::phylo::train_results(&trainer)?)))
    }

    fn run_dag(self, env: DagEnv) -> CliResult<Self::Output> {
        let args = self.args;
        let (summary, objective, trainer) = self.fit(env)?;
        let results = super::dag::export(&trainer, args)?;
        Ok((summary, objective, Some(results)))
    }
}

fn report(
    record: &EnvRecord,
    s: &RunSummary,
    objective: &str,
    seed: u64,
    args: &TrainArgs,
    extra: Option<serde_json::Value>,
) -> CliResult<()> {
    let e = s.eval.clone().unwrap_or_default();
    let l1_text = match (e.l1, e.l1_objects) {
        (Some(l), _) if e.exact => format!("{l:.4}"),
        (Some(l), Some(objects)) => format!("{l:.4} (Monte-Carlo, {objects} objects)"),
        (Some(l), None) => format!("{l:.4} (Monte-Carlo)"),
        (None, Some(0)) => "n/a (over the evaluation's feature budget)".to_string(),
        (None, _) => "n/a".to_string(),
    };
    eprintln!(
        "{} {objective}: {} iterations, loss {:.4}, L1 {l1_text}, log Z {:.4} ({} {}), {:.3} ms/iter",
        record.name(),
        s.iterations,
        s.final_loss,
        s.log_z,
        if e.exact { "exact" } else { "estimate" },
        e.log_z_exact.map_or("n/a".into(), |z| format!("{z:.4}")),
        s.ms_per_iter,
    );
    if args.json {
        let mut line = json!({
            "env": record.name(),
            "env_config": record,
            "objective": objective,
            "seed": seed,
            "iterations": s.iterations,
            "l1": e.l1,
            "l1_exact": e.exact,
            "tv": e.tv,
            "jsd": e.jsd,
            "kl_target_model": e.kl_target_model,
            "log_z": s.log_z,
            "log_z_exact": if e.exact { e.log_z_exact } else { None },
            "log_z_estimate": if e.exact { None } else { e.log_z_exact },
            "elbo": e.elbo,
            "eval_samples": e.samples,
            "l1_objects": e.l1_objects,
            "modes_found": s.modes_found,
            "modes_total": e.modes_total,
            "final_loss": s.final_loss,
            "ms_per_iter": s.ms_per_iter,
            "train_s": s.train_s,
            "elapsed_s": s.elapsed_s,
            "trajectories_per_s": s.trajectories_per_s,
            "threads": args.threads,
            "reward_temperature": s.reward_temperature,
            "best_log_reward": s.best_log_reward,
        });
        if let Some(extra) = extra {
            line[record.name()] = extra;
        }
        println!("{line}");
    }
    Ok(())
}

pub(crate) fn checkpoint_record(path: &Path) -> CliResult<EnvRecord> {
    let sidecar = read_sidecar(path)?;
    serde_json::from_value(sidecar.env).map_err(|e| {
        Error::Checkpoint { path: path.display().to_string(), reason: format!("unknown environment record: {e}") }
            .into()
    })
}

struct EvalJob {
    path: PathBuf,
    mode: EvalMode,
    reward_temperature: Option<f64>,
}

/// Loads a checkpoint, moved to conditioning temperature `temperature` if given.
pub(crate) fn load_at<E: Enumerable + 'static>(
    env: E,
    path: &Path,
    temperature: Option<f64>,
) -> CliResult<Trainer<E, Cpu>> {
    let mut trainer = Trainer::from_checkpoint(env, Cpu, path)?;
    if let Some(t) = temperature {
        trainer.condition_on(t)?;
    }
    Ok(trainer)
}

impl EnvJob for EvalJob {
    type Output = (EvalReport, u64, f64);
    fn run<E: Enumerable + 'static>(self, env: E) -> CliResult<Self::Output> {
        let trainer = load_at(env, &self.path, self.reward_temperature)?;
        let eval = evaluator(trainer.env(), self.mode, trainer.config(), false)?;
        let report = eval.evaluate(trainer.env(), trainer.policy(), trainer.iteration())?;
        Ok((report, trainer.iteration(), trainer.log_z()?))
    }
}

fn eval(args: EvalArgs) -> CliResult<()> {
    let record = checkpoint_record(&args.checkpoint)?;
    let job = EvalJob { path: args.checkpoint.clone(), mode: args.eval, reward_temperature: args.reward_temperature };
    let (report, iteration, log_z) = record.with_env(job)?;
    if args.json {
        println!("{}", json!({ "env": record.name(), "iteration": iteration, "log_z": log_z, "eval": report }));
    } else {
        println!("{} at iteration {iteration}: log Z {log_z:.4}", record.name());
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| CliError::Usage(e.to_string()))?);
    }
    Ok(())
}

/// A loaded trainer and the trajectories sampled from its policy.
type Drawn<E> = (Trainer<E, Cpu>, Trajectories<<E as gfn_core::env::Environment>::State>);

struct SampleJob {
    path: PathBuf,
    n: usize,
    seed: u64,
    format: SampleFormat,
    reward_temperature: Option<f64>,
}

impl SampleJob {
    /// Loads the checkpoint and samples `n` trajectories.
    fn draw<E: Enumerable + 'static>(&self, env: E) -> CliResult<Drawn<E>> {
        let trainer = load_at(env, &self.path, self.reward_temperature)?;
        let draw = Draw { seed: self.seed, purpose: Purpose::Eval, round: 0 };
        let traj = sample_forward(trainer.env(), trainer.policy(), self.n, Exploration::default(), draw)?;
        Ok((trainer, traj))
    }
}

impl EnvJob for SampleJob {
    type Output = ();
    fn run<E: Enumerable + 'static>(self, env: E) -> CliResult<()> {
        if self.format == SampleFormat::Newick {
            return Err(CliError::Usage(format!("--format newick applies to environment phylo, not {}", env.name())));
        }
        let (_, traj) = self.draw(env)?;
        for i in 0..traj.len() {
            let line = json!({
                "object": format!("{:?}", traj.terminal(i)),
                "log_reward": traj.log_reward[i],
                "actions": traj.action_path(i),
            });
            println!("{line}");
        }
        Ok(())
    }

    fn run_phylo(self, env: PhyloEnv) -> CliResult<()> {
        if self.format == SampleFormat::Json {
            return self.run(env);
        }
        let (trainer, traj) = self.draw(env)?;
        for i in 0..traj.len() {
            println!("{}", write_newick(&trainer.env().unrooted_tree(traj.terminal(i))?));
        }
        Ok(())
    }
}

fn sample(args: SampleArgs) -> CliResult<()> {
    let record = checkpoint_record(&args.checkpoint)?;
    record.with_env(SampleJob {
        path: args.checkpoint,
        n: args.n,
        seed: args.seed,
        format: args.format,
        reward_temperature: args.reward_temperature,
    })
}
