//! EP-GFlowNets vs centralised training at an equal total trajectory budget.
//!
//! For each task and seed: N clients (contrastive balance) train in parallel on their own factor,
//! then the server trains with aggregating balance; the centralised GFlowNet trains with
//! contrastive balance on the product reward for as many trajectories as clients and server
//! together (`N · I_client + I_server` iterations of the same batch size). Both are evaluated
//! exactly against `Π_n R_n / Z`. Writes `docs/results/ep/compare.csv` (one row per task, seed and
//! method) and `docs/results/ep/compare.png`, and prints the table.
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

/// Exact L1 per seed of one task and method.
type Curve = Vec<f64>;

/// Draws `docs/results/ep/compare.png`: one panel per task (left: hypergrid, right: multisets),
/// exact L1 (y, from 0 to the largest value) against the seed (x, seeds 1 to 3); red is EP, blue
/// centralised. No text is drawn (no system font is needed); `docs/results/ep.md` describes the axes.
fn plot(path: &std::path::Path, panels: &[(Curve, Curve)]) -> gfn::Result<()> {
    use plotters::prelude::*;
    let fail = |e: String| gfn::Error::io(path, std::io::Error::other(e));
    let root = BitMapBackend::new(path, (900, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let top = panels.iter().flat_map(|(a, b)| a.iter().chain(b)).copied().fold(0.0, f64::max) * 1.1;
    for (area, (ep, central)) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        let mut chart = ChartBuilder::on(area)
            .margin(20)
            .build_cartesian_2d(0.8f64..SEEDS.len() as f64 + 0.2, 0.0..top)
            .map_err(|e| fail(e.to_string()))?;
        chart.configure_mesh().x_labels(0).y_labels(0).draw().map_err(|e| fail(e.to_string()))?;
        for (curve, colour) in [(ep, RED), (central, BLUE)] {
            let points: Vec<(f64, f64)> = curve.iter().enumerate().map(|(i, l)| (i as f64 + 1.0, *l)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
                .map_err(|e| fail(e.to_string()))?;
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 5, colour.filled())))
                .map_err(|e| fail(e.to_string()))?;
        }
    }
    root.present().map_err(|e| fail(e.to_string()))
}

/// One row of the CSV: task, seed, method, exact L1, Jeffrey divergence, wall seconds, bound.
fn compare<D: FactoredReward + Enumerable + Clone + 'static>(
    task: &str,
    env: D,
    csv: &mut String,
) -> gfn::Result<(Curve, Curve)> {
    let exact = ExactEvaluator::new(&env)?;
    let (mut ep_l1, mut central_l1) = (Vec::new(), Vec::new());
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
        ep_l1.push(report.l1_server);
        central_l1.push(l1);
        eprintln!(
            "{task} seed {seed}: EP L1 {:.4} ({ep_wall:.1} s), centralised L1 {l1:.4} ({wall:.1} s)",
            report.l1_server
        );
    }
    Ok((ep_l1, central_l1))
}

fn main() -> gfn::Result<()> {
    let threads = std::env::args().nth(1).and_then(|t| t.parse().ok()).unwrap_or(FACTORS);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("thread pool");
    let mut csv = String::from("task,seed,method,l1,jeffrey,wall_s,clients_wall_s,server_wall_s,bound,jeffrey_ideal\n");
    let grid = HypergridConfig { ndim: 2, height: 8, ..HypergridConfig::default() };
    let bumps = GridBumpsConfig { seed: 1, ..Default::default() };
    let grid_l1 = compare("hypergrid-8x8", factored_hypergrid(grid, FACTORS, bumps)?, &mut csv)?;
    let multisets = factored_multisets(MultisetConfig { types: 6, size: 4, seed: 1 }, FACTORS)?;
    let multisets_l1 = compare("multisets-6x4", multisets, &mut csv)?;
    let dir = std::path::Path::new("docs/results/ep");
    std::fs::create_dir_all(dir).map_err(|e| gfn::Error::io(dir, e))?;
    let path = dir.join("compare.csv");
    std::fs::write(&path, &csv).map_err(|e| gfn::Error::io(&path, e))?;
    plot(&dir.join("compare.png"), &[grid_l1, multisets_l1])?;
    println!("{csv}");
    println!("threads: {threads}; wrote {}", path.display());
    Ok(())
}
