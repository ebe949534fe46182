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

/// The server's training step minimises exactly the aggregating-balance loss of its batch, with
/// `r̂` computed from the client policy files (no reward involved).
#[test]
fn ep_server_step_is_aggregating_balance_on_client_log_ratios() {
    use gfn_core::ep::{PolicyFile, Server, ServerView, train_clients};
    use gfn_core::objective::{Requirements, TermGrads};
    use gfn_core::rng::Purpose;
    use gfn_core::sampler::{Draw, sample_forward};
    use gfn_core::terms::{StepTerms, feature_matrix};

    let env = Arc::new(factored_multisets(MultisetConfig { types: 4, size: 3, seed: 1 }, 2).unwrap());
    let clients = train_clients(env.clone(), &[0, 1], &config(4, 30), 1 << 16, &serde_json::Value::Null).unwrap();
    let files: Vec<_> = clients
        .iter()
        .map(|c| {
            let path = std::path::PathBuf::from(format!("client {}", c.report.factor));
            (path.clone(), PolicyFile::from_bytes(&c.file.to_bytes().unwrap(), &path).unwrap())
        })
        .collect();
    let server_config = config(5, 10);
    let mut server = Server::new(ServerView::new(env), &files, server_config.clone()).unwrap();
    let view = server.trainer().env().clone();
    let draw = Draw { seed: server_config.seed, purpose: Purpose::Forward, round: 0 };
    let policy = server.trainer().policy();
    let traj = sample_forward(&view, policy, server_config.batch_size, Default::default(), draw).unwrap();
    let rhat = server.ensemble().client_log_ratios(&traj).unwrap();
    let output = policy.infer(&feature_matrix(&traj)).unwrap();
    let terms = StepTerms::compute(&view, &traj, &output, &Requirements::default()).unwrap();
    let expected = server.loss().evaluate(&terms.view(&traj, None), &rhat, &mut TermGrads::default()).unwrap();
    let stats = server.trainer_mut().step().unwrap();
    // The step reuses the sampler's f32 passes (other kernels than one pass over the batch): the
    // losses agree to f32 rounding.
    assert!(expected > 0.0 && (stats.loss - expected).abs() < 1e-6 * expected.max(1.0), "{} vs {expected}", stats.loss);
}
