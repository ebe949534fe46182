//! Reusing the lock-step sampling passes as the training forward pass
//! (`sample_forward_recorded` + `Policy::forward_gathered`): the same trajectories, the same
//! outputs and the same parameter gradients as evaluating the batch again, for every backward
//! policy and activation, with a flow head and with a logit scale, with one network column per
//! step or per distinct state; and an error for the pair architecture.

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

/// Every parameter gradient (flattened) and the logit-scale gradient of the output gradients
/// `d_trunk`, `d_back` through `cache`.
fn gradients(
    policy: &mut Policy,
    cache: &PolicyCache,
    d_trunk: &DMatrix<f32>,
    d_back: Option<&DMatrix<f32>>,
) -> (DMatrix<f32>, f64) {
    policy.zero_grad().expect("zero");
    policy.backward(cache, d_trunk, d_back).expect("backward");
    let flat: Vec<f32> =
        policy.params().into_iter().flat_map(|(_, p)| p.grad.iter().copied().collect::<Vec<_>>()).collect();
    (DMatrix::from_vec(flat.len(), 1, flat), policy.logit_scale_grad())
}

#[test]
fn gathered_passes_match_a_fresh_forward_pass_and_its_gradients() {
    let env = Grid { dim: 3, side: 6, r0: 0.1 };
    // LeakyReLU's derivative follows from the gathered outputs alone; SiLU's needs the gathered
    // pre-activations too.
    let cases = [BackwardPolicy::Uniform, BackwardPolicy::Learned, BackwardPolicy::LearnedShared]
        .into_iter()
        .flat_map(|b| [(b, Activation::LeakyRelu), (b, Activation::Silu)]);
    for (backward, activation) in cases {
        for (flow_head, logit_scale) in [(false, None), (true, Some(0.6))] {
            let config = PolicyConfig { hidden: vec![40, 24], activation, backward, ..PolicyConfig::default() };
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
            assert!(rounds.distinct_len() < rounds.len(), "the first steps share the source's column");

            let mut fresh_cache = PolicyCache::default();
            let fresh = policy.forward(feature_matrix(&traj), &mut fresh_cache).expect("forward");
            // The sampling passes do not keep their inputs: the features come from the batch.
            let short = DMatrix::zeros(env.feature_dim(), traj.step_count() - 1);
            for distinct in [false, true] {
                let short = short.clone();
                assert!(policy.forward_gathered(&rounds, short, &mut PolicyCache::default(), distinct).is_err());
            }
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
            // The same output gradients through either cache give the same parameter gradients.
            let d_trunk = DMatrix::from_fn(policy.layout().rows(), n, |i, j| ((i * 7 + j * 3) % 5) as f32 * 0.1 - 0.2);
            let d_back = (backward == BackwardPolicy::Learned)
                .then(|| DMatrix::from_fn(env.action_count(), n, |i, j| ((i + 2 * j) % 3) as f32 * 0.2 - 0.2));
            let want = gradients(&mut policy, &fresh_cache, &d_trunk, d_back.as_ref());
            for distinct in [false, true] {
                let what = format!(
                    "{backward:?}, {activation}, flow head {flow_head}, scale {logit_scale:?}, distinct {distinct}"
                );
                let mut gathered_cache = PolicyCache::default();
                let gathered = policy
                    .forward_gathered(&rounds, feature_matrix(&traj), &mut gathered_cache, distinct)
                    .expect("gathered");
                assert_close(&columns(&gathered), &columns(&fresh), 1e-5, &format!("outputs, {what}"));
                let got = gradients(&mut policy, &gathered_cache, &d_trunk, d_back.as_ref());
                assert_close(&got.0, &want.0, 1e-4, &format!("parameter gradients, {what}"));
                assert!((got.1 - want.1).abs() <= 1e-4 * want.1.abs().max(1.0), "scale gradient, {what}");
                // Per-sample gradients need a column per step.
                let sq_norms = policy.trunk_sq_norms(&gathered_cache, &d_trunk, &traj.offsets);
                assert_eq!(sq_norms.is_err(), distinct, "{what}");
            }
        }
    }
}

#[test]
fn trajectories_in_the_same_state_share_a_column_of_the_sampling_pass() {
    let env = Grid { dim: 2, side: 4, r0: 0.1 };
    let config = PolicyConfig { hidden: vec![16], ..PolicyConfig::default() };
    let mut rng = stream(3, Purpose::Init, &[]);
    let policy = Policy::new(Cpu, &config, env.feature_dim(), env.action_count(), false, &mut rng).expect("policy");
    let mut rounds = RoundCaches::new();
    let draw = Draw { seed: 4, purpose: Purpose::Forward, round: 0 };
    let traj = sample_forward_recorded(&env, &policy, 12, Exploration::default(), draw, &mut rounds).expect("sample");
    // Every trajectory starts at the source, and a 4×4 grid has 2 states one step in, 3 two steps
    // in, …: 16 states in all, so at most 16 distinct columns for the 12 trajectories' steps.
    assert_eq!(rounds.len(), traj.step_count());
    assert!(traj.step_count() > 16, "{} steps", traj.step_count());
    assert!(rounds.distinct_len() <= 16, "{} distinct columns", rounds.distinct_len());
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
    let err = policy.forward_gathered(&rounds, feature_matrix(&traj), &mut PolicyCache::default(), true).unwrap_err();
    assert!(err.to_string().contains("pairs"), "{err}");
}
