//! Train trajectory balance on a 2-D hypergrid and compare with the exact target.
//!
//! `cargo run --release --example hypergrid_tb`

use gfn::envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn::prelude::*;

fn main() -> gfn::Result<()> {
    let env = Hypergrid::new(HypergridConfig { ndim: 2, height: 8, r0: 0.01, ..Default::default() })?;
    let log_z = env.log_partition();
    let exact = ExactEvaluator::new(&env)?;
    let config = TrainConfig { iterations: 3000, seed: 0, ..TrainConfig::default() };
    let mut trainer = Trainer::new(env, config)?;
    let summary = trainer.fit(Some(&exact), &RunOptions { progress: true, ..RunOptions::default() })?;
    let eval = summary.eval.unwrap_or_default();
    println!("exact L1          {:.4}", eval.l1.unwrap_or(f64::NAN));
    println!("Jensen-Shannon    {:.5}", eval.jsd.unwrap_or(f64::NAN));
    println!("log Z learned     {:.4} (exact {log_z:.4})", summary.log_z);
    println!("ms per iteration  {:.3}", summary.ms_per_iter);
    Ok(())
}
