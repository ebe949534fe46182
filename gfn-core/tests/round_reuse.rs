//! Reusing the lock-step sampling passes as the training forward pass
//! (`sample_forward_recorded` + `Policy::forward_gathered`): the same trajectories, the same
//! outputs and the same parameter gradients as evaluating the batch again, for every backward
//! policy, with a flow head and with a logit scale; and an error for the pair architecture.

mod common;
#[path = "common/pair_graph.rs"]
mod pair_graph;

use common::Grid;
use gfn_core::backend::Cpu;
use gfn_core::env::{Environment, PairKind};
use gfn_core::nn::Activation;
use gfn_core::policy::{Architecture, BackwardPolicy, Exploration, Policy, PolicyCache, PolicyConfig, RoundCaches};
use gfn_core::rng::{Purpose, stream};
use gfn_core::sampler::{Draw, sample_forward, sample_forward_recorded};
use gfn_core::terms::feature_matrix;
use nalgebra::DMatrix;
use pair_graph::PairGraph;

/// Every entry of `a` within `tol` (relative to the largest magnitude) of `b`.
fn assert_close(a: &DMatrix<f32>, b: &DMatrix<f32>, tol: f32, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}");
    let scale = b.amax().max(1e-3);
    let diff = (a - b).amax();
    assert!(diff <= tol * scale, "{what}: max difference {diff} (scale {scale})");
}

#[test]
fn gathered_passes_match_a_fresh_forward_pass_and_its_gradients() {
    let env = Grid { dim: 3, side: 6, r0: 0.1 };
    for backward in [BackwardPolicy::Uniform, BackwardPolicy::Learned, BackwardPolicy::LearnedShared] {
        for (flow_head, logit_scale) in [(false, None), (true, Some(0.6))] {
            let config = PolicyConfig {
                hidden: vec![40, 24],
                activation: Activation::LeakyRelu,
                backward,
                ..PolicyConfig::default()
            };
            let mut rng = stream(2, Purpose::Init, &[]);
            let mut policy =
                Policy::new(Cpu, &config, env.feature_dim(), env.action_count(), flow_head, &mut rng).expect("policy");
            policy.logit_scale = logit_scale;
            assert!(policy.can_gather());
            let draw = Draw { seed: 5, purpose: Purpose::Forward, round: 3 };
            let explore = Exploration { epsilon: 0.2, temperature: 1.0 };
            let plain = sample_forward(&env, &policy, 11, explore, draw).expect("sample");
            let mut rounds = RoundCaches::new();
            // Twice into the same buffers: the second run must not see the first one's rounds.
            sample_forward_recorded(&env, &policy, 5, explore, Draw { round: 9, ..draw }, &mut rounds).expect("sample");
            let traj = sample_forward_recorded(&env, &policy, 11, explore, draw, &mut rounds).expect("sample");
            assert_eq!(traj.actions, plain.actions, "recording changes nothing that is sampled");
            assert_eq!(traj.offsets, plain.offsets);
            assert_eq!(rounds.len(), traj.step_count());

            let (mut fresh_cache, mut gathered_cache) = (PolicyCache::default(), PolicyCache::default());
            let fresh = policy.forward(feature_matrix(&traj), &mut fresh_cache).expect("forward");
            // The sampling passes do not keep their inputs: the features come from the batch.
            let short = DMatrix::zeros(env.feature_dim(), traj.step_count() - 1);
            assert!(policy.forward_gathered(&rounds, short, &mut PolicyCache::default()).is_err());
            let gathered =
                policy.forward_gathered(&rounds, feature_matrix(&traj), &mut gathered_cache).expect("gathered");
            let what = format!("{backward:?}, flow head {flow_head}, scale {logit_scale:?}");
            let n = traj.step_count();
            let columns = |out: &gfn_core::policy::PolicyOutput| -> DMatrix<f32> {
                let rows: Vec<Vec<f32>> = (0..n)
                    .map(|j| {
                        let mut c = out.forward_logits(j).to_vec();
                        c.extend(out.backward_logits(j).unwrap_or(&[]));
                        c.extend(out.log_flow(j).map(|f| f as f32));
                        c
                    })
                    .collect();
                DMatrix::from_fn(rows[0].len(), n, |i, j| rows[j][i])
            };
            assert_close(&columns(&gathered), &columns(&fresh), 1e-5, &format!("outputs, {what}"));

            // The same output gradients through either cache give the same parameter gradients.
            let d_trunk = DMatrix::from_fn(policy.layout().rows(), n, |i, j| ((i * 7 + j * 3) % 5) as f32 * 0.1 - 0.2);
            let d_back = (backward == BackwardPolicy::Learned)
                .then(|| DMatrix::from_fn(env.action_count(), n, |i, j| ((i + 2 * j) % 3) as f32 * 0.2 - 0.2));
            let mut grads = Vec::new();
            for cache in [&fresh_cache, &gathered_cache] {
                policy.zero_grad().expect("zero");
                policy.backward(cache, &d_trunk, d_back.as_ref()).expect("backward");
                let flat: Vec<f32> =
                    policy.params().into_iter().flat_map(|(_, p)| p.grad.iter().copied().collect::<Vec<_>>()).collect();
                grads.push((DMatrix::from_vec(flat.len(), 1, flat), policy.logit_scale_grad()));
            }
            assert_close(&grads[1].0, &grads[0].0, 1e-4, &format!("parameter gradients, {what}"));
            assert!((grads[1].1 - grads[0].1).abs() <= 1e-4 * grads[0].1.abs().max(1.0), "scale gradient, {what}");
        }
    }
}

#[test]
fn the_pair_architecture_is_evaluated_again_instead() {
    let env = PairGraph { nodes: 3, pairs: PairKind::Unordered, labels: 2, max_edges: 2 };
    let config = PolicyConfig { hidden: vec![16], architecture: Architecture::Pairs, ..PolicyConfig::default() };
    let mut rng = stream(1, Purpose::Init, &[]);
    let policy = Policy::for_env(Cpu, &config, &env, false, &mut rng).expect("policy");
    assert!(!policy.can_gather());
    let mut rounds = RoundCaches::new();
    let draw = Draw { seed: 1, purpose: Purpose::Forward, round: 0 };
    let traj = sample_forward_recorded(&env, &policy, 4, Exploration::default(), draw, &mut rounds).expect("sample");
    let err = policy.forward_gathered(&rounds, feature_matrix(&traj), &mut PolicyCache::default()).unwrap_err();
    assert!(err.to_string().contains("pairs"), "{err}");
}
