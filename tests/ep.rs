//! EP-GFlowNets end to end on small factored instances: clients trained in parallel on their own
//! factor, a server trained with aggregating balance from their policies alone; the aggregate is
//! compared with the exact product target, and the local-failure bound (seed eq. 10) is checked.

use std::sync::Arc;

use gfn::envs::factored::{GridBumpsConfig, factored_hypergrid, factored_multisets, factored_sequences};
use gfn::envs::hypergrid::HypergridConfig;
use gfn::envs::multisets::MultisetConfig;
use gfn::envs::sequences::SequenceConfig;
use gfn_core::env::Enumerable;
use gfn_core::ep::{FactoredReward, run_local};
use gfn_core::policy::PolicyConfig;
use gfn_core::train::{ObjectiveKind, TrainConfig};

fn config(seed: u64, iterations: u64) -> TrainConfig {
    let mut c = TrainConfig { seed, iterations, batch_size: 32, ..TrainConfig::default() };
    c.objective.kind = ObjectiveKind::Cb;
    c.policy = PolicyConfig { hidden: vec![64, 64], ..PolicyConfig::default() };
    c.optim.adam.lr = 3e-3;
    c
}

/// Runs the protocol and checks the aggregate and the bound; returns the server's exact L1.
fn check<D: FactoredReward + Enumerable + 'static>(env: D, seed: u64, client_iters: u64, server_iters: u64) -> f64 {
    let env = Arc::new(env);
    let run =
        run_local(env, &config(seed, client_iters), &config(seed, server_iters), 1 << 16, &serde_json::Value::Null)
            .unwrap();
    let report = run.report.expect("small instances enumerate");
    for c in &run.clients {
        let l1 = c.report.eval.as_ref().and_then(|e| e.l1).unwrap();
        let lf = c.report.local_failure.unwrap();
        eprintln!(
            "client {} L1 {l1:.4} alpha {:.4} beta {:.4} bound {:.4}",
            c.report.factor, lf.alpha, lf.beta, lf.bound
        );
        assert!(lf.log_ratio_min <= 0.0 && lf.log_ratio_max >= 0.0, "ratios straddle 1 when normalised: {lf:?}");
    }
    eprintln!("{report:?}");
    assert!(report.ideal_within_bound(), "{report:?}");
    assert!(report.server_within_bound(), "{report:?}");
    assert!(report.l1_server < 0.1, "{report:?}");
    report.l1_server
}

#[test]
fn ep_hypergrid_aggregate_matches_the_product() {
    let grid = HypergridConfig { ndim: 2, height: 6, ..HypergridConfig::default() };
    check(factored_hypergrid(grid, 2, GridBumpsConfig { seed: 3, ..GridBumpsConfig::default() }).unwrap(), 1, 600, 600);
}

#[test]
fn ep_multisets_aggregate_matches_the_product() {
    check(factored_multisets(MultisetConfig { types: 4, size: 3, seed: 5 }, 3).unwrap(), 2, 600, 600);
}

#[test]
fn ep_sequences_aggregate_matches_the_product() {
    check(factored_sequences(SequenceConfig { length: 3, vocab: 3, seed: 7 }, 2).unwrap(), 3, 600, 600);
}
