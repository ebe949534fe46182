//! EP-GFlowNets vs centralised training at an equal total trajectory budget.
//!
//! For each task and seed: N clients (contrastive balance) train in parallel on their own factor,
//! then the server trains with aggregating balance; the centralised GFlowNet trains with
//! contrastive balance on the product reward for as many trajectories as clients and server
//! together (`N · I_client + I_server` iterations of the same batch size). Both are evaluated
//! exactly against `Π_n R_n / Z`. Writes `docs/results/ep/compare.csv` (one row per task, seed and
//! method) and prints a summary table.
//!
//! `cargo run --release --example ep_vs_centralised [-- THREADS]` (default: one thread per client).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use gfn::envs::factored::{GridBumpsConfig, factored_hypergrid, factored_multisets};
use gfn::envs::hypergrid::HypergridConfig;
use gfn::envs::multisets::MultisetConfig;
use gfn::prelude::*;
use gfn_core::ep::{FactoredReward, run_local};

const FACTORS: usize = 3;
const CLIENT_ITERS: u64 = 500;
const SERVER_ITERS: u64 = 500;
const SEEDS: [u64; 3] = [1, 2, 3];

fn config(seed: u64, iterations: u64) -> TrainConfig {
    let mut c = TrainConfig { seed, iterations, batch_size: 32, ..TrainConfig::default() };
    c.objective.kind = ObjectiveKind::Cb;
    c.policy = PolicyConfig { hidden: vec![64, 64], ..PolicyConfig::default() };
    c.optim.adam.lr = 3e-3;
    c
}

/// One row of the CSV: task, seed, method, exact L1, Jeffrey divergence, wall seconds, bound.
fn compare<D: FactoredReward + Enumerable + Clone + 'static>(task: &str, env: D, csv: &mut String) -> gfn::Result<()> {
    let exact = ExactEvaluator::new(&env)?;
    for seed in SEEDS {
        let started = Instant::now();
        let run = run_local(
            Arc::new(env.clone()),
            &config(seed, CLIENT_ITERS),
            &config(seed, SERVER_ITERS),
            1 << 20,
            &serde_json::Value::Null,
        )?;
        let ep_wall = started.elapsed().as_secs_f64();
        let report = run.report.expect("the tasks enumerate");
        writeln!(
            csv,
            "{task},{seed},ep,{:.5},{:.6},{ep_wall:.3},{:.3},{:.3},{:.5},{:.6}",
            report.l1_server,
            report.jeffrey_server,
            run.clients_wall_s,
            run.server_wall_s,
            report.bound,
            report.jeffrey_ideal
        )
        .expect("write to string");
        let started = Instant::now();
        let budget = FACTORS as u64 * CLIENT_ITERS + SERVER_ITERS;
        let mut central = Trainer::new(env.clone(), config(seed, budget))?;
        let summary = central.fit(Some(&exact), &RunOptions::default())?;
        let wall = started.elapsed().as_secs_f64();
        let (p, _) = exact.terminal_distribution(&env, central.policy())?;
        let l1 = summary.eval.and_then(|e| e.l1).unwrap_or(f64::NAN);
        let j = gfn_core::ep::jeffrey(exact.target(), &p);
        writeln!(csv, "{task},{seed},centralised,{l1:.5},{j:.6},{wall:.3},,,,").expect("write to string");
        eprintln!(
            "{task} seed {seed}: EP L1 {:.4} ({ep_wall:.1} s), centralised L1 {l1:.4} ({wall:.1} s)",
            report.l1_server
        );
    }
    Ok(())
}

fn main() -> gfn::Result<()> {
    let threads = std::env::args().nth(1).and_then(|t| t.parse().ok()).unwrap_or(FACTORS);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("thread pool");
    let mut csv = String::from("task,seed,method,l1,jeffrey,wall_s,clients_wall_s,server_wall_s,bound,jeffrey_ideal\n");
    let grid = HypergridConfig { ndim: 2, height: 8, ..HypergridConfig::default() };
    compare(
        "hypergrid-8x8",
        factored_hypergrid(grid, FACTORS, GridBumpsConfig { seed: 1, ..Default::default() })?,
        &mut csv,
    )?;
    compare("multisets-6x4", factored_multisets(MultisetConfig { types: 6, size: 4, seed: 1 }, FACTORS)?, &mut csv)?;
    let dir = std::path::Path::new("docs/results/ep");
    std::fs::create_dir_all(dir).map_err(|e| gfn::Error::io(dir, e))?;
    let path = dir.join("compare.csv");
    std::fs::write(&path, &csv).map_err(|e| gfn::Error::io(&path, e))?;
    println!("{csv}");
    println!("threads: {threads}; wrote {}", path.display());
    Ok(())
}
