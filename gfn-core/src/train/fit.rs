//! The training loop with progress bar, metrics file, periodic evaluation and checkpoints.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use super::metrics::MetricsWriter;
use super::trainer::Trainer;
use crate::Result;
use crate::backend::Backend;
use crate::env::Environment;
use crate::eval::{EvalReport, Evaluate};

/// Where a run writes its outputs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// JSON-lines metrics file.
    pub metrics_out: Option<PathBuf>,
    /// Append to the metrics file instead of truncating it (resumed runs).
    pub append_metrics: bool,
    /// Checkpoint path, written every `checkpoint_every` iterations and at the end.
    pub checkpoint: Option<PathBuf>,
    /// Checkpoint interval (0: only at the end).
    pub checkpoint_every: u64,
    /// Stored in checkpoints so the environment can be rebuilt (the CLI's env options).
    pub env_record: serde_json::Value,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// The outcome of [`Trainer::fit`].
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Iterations completed in total.
    pub iterations: u64,
    /// The mean loss over the last logging interval.
    pub final_loss: f64,
    /// The current `log Z` estimate (see [`Trainer::log_z`]).
    pub log_z: f64,
    /// The final evaluation, if an evaluator was given.
    pub eval: Option<EvalReport>,
    /// Distinct modes found in training batches.
    pub modes_found: usize,
    /// Wall-clock seconds spent in this call (training, evaluation, logging, checkpoints).
    pub elapsed_s: f64,
    /// Wall-clock seconds spent in training steps alone.
    pub train_s: f64,
    /// Milliseconds per training step in this call (evaluation and I/O excluded).
    pub ms_per_iter: f64,
    /// Trajectories trained on per second of training step.
    pub trajectories_per_s: f64,
    /// The environment's reward temperature at the end (changed by annealing), if it has one.
    pub reward_temperature: Option<f64>,
    /// The log-reward (at that temperature) of the best object of the fresh training batches.
    pub best_log_reward: Option<f64>,
}

impl<E: Environment, B: Backend> Trainer<E, B> {
    /// Trains until `config.iterations`, logging every `log_every` iterations, evaluating every
    /// `eval.every` iterations and at the end, and checkpointing as `options` say.
    pub fn fit(&mut self, evaluator: Option<&dyn Evaluate<E, B>>, options: &RunOptions) -> Result<RunSummary> {
        if let Some(e) = evaluator {
            self.track_modes(e.mode_threshold());
        }
        let mut metrics = match &options.metrics_out {
            Some(p) => Some(MetricsWriter::open(p, options.append_metrics)?),
            None => None,
        };
        let start_iteration = self.iteration();
        let target = self.config.iterations;
        let bar = (options.progress && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(target);
            bar.set_position(start_iteration);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let started = Instant::now();
        let mut train_s = 0.0;
        let mut trajectories = 0usize;
        let mut last_loss = f64::NAN;
        let mut last_eval = None;
        while self.iteration() < target {
            let step_started = Instant::now();
            let stats = self.step()?;
            train_s += step_started.elapsed().as_secs_f64();
            trajectories += stats.trajectories;
            let it = self.iteration();
            let every = self.config.eval.every;
            let eval = match evaluator {
                Some(e) if (every > 0 && it.is_multiple_of(every)) || it == target => {
                    Some(e.evaluate(&self.env, &self.policy, it)?)
                }
                _ => None,
            };
            if it.is_multiple_of(self.config.log_every) || eval.is_some() || it == target {
                let mean_loss = self.scalars.loss_sum / self.scalars.loss_count.max(1) as f64;
                last_loss = mean_loss;
                self.scalars.loss_sum = 0.0;
                self.scalars.loss_count = 0;
                let mut record = json!({
                    "iteration": it,
                    "loss": mean_loss,
                    "log_z": self.log_z()?,
                    "grad_norm": stats.grad_norm,
                    "modes_found": self.modes_found(),
                    "eval": eval,
                    "elapsed_s": started.elapsed().as_secs_f64(),
                    "best_log_reward": self.best_seen().map(|b| b.log_reward),
                });
                if let Some(t) = self.reward_temperature() {
                    record["reward_temperature"] = json!(t);
                }
                if self.temperatures.is_some() {
                    record["batch_temperature"] = json!(stats.reward_temperature);
                    record["log_z_by_temperature"] = json!(self.log_z_by_temperature());
                }
                if let Some(m) = &mut metrics {
                    m.write(&record)?;
                }
                if let Some(bar) = &bar {
                    let l1 = eval.as_ref().and_then(|e| e.l1).map_or(String::new(), |l| format!(" l1 {l:.4}"));
                    bar.set_message(format!("loss {mean_loss:.4}{l1}"));
                }
            }
            if eval.is_some() {
                last_eval = eval;
            }
            if let Some(path) = &options.checkpoint
                && options.checkpoint_every > 0
                && it.is_multiple_of(options.checkpoint_every)
                && it != target
            {
                self.save_checkpoint(path, &options.env_record)?;
            }
            if let Some(bar) = &bar {
                bar.set_position(it);
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if let Some(path) = &options.checkpoint {
            self.save_checkpoint(path, &options.env_record)?;
        }
        if last_eval.is_none()
            && let Some(e) = evaluator
        {
            last_eval = Some(e.evaluate(&self.env, &self.policy, self.iteration())?);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let done = (self.iteration() - start_iteration).max(1) as f64;
        Ok(RunSummary {
            iterations: self.iteration(),
            final_loss: last_loss,
            log_z: self.log_z()?,
            eval: last_eval,
            modes_found: self.modes_found(),
            elapsed_s: elapsed,
            train_s,
            ms_per_iter: 1e3 * train_s / done,
            trajectories_per_s: trajectories as f64 / train_s.max(1e-12),
            reward_temperature: self.reward_temperature(),
            best_log_reward: self.best_seen().map(|b| b.log_reward),
        })
    }
}
