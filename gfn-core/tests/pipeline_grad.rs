//! End-to-end gradient check: for a fixed batch of trajectories, the parameter gradient the
//! trainer computes (objective coefficients → logit gradients → backpropagation) matches central
//! finite differences of the loss, for every objective and backward-policy parameterisation.

mod common;

use common::Grid;
use gfn_core::backend::Cpu;
use gfn_core::env::Environment;
use gfn_core::nn::Activation;
use gfn_core::objective::{
    ContrastiveBalance, DetailedBalance, ModifiedDetailedBalance, Objective, Pairing, Residual, SubTrajectoryBalance,
    TermGrads, TrajectoryBalance, VarGrad,
};
use gfn_core::policy::{BackwardPolicy, Exploration, Policy, PolicyCache, PolicyConfig};
use gfn_core::rng::{Purpose, stream};
use gfn_core::sampler::{Draw, sample_forward};
use gfn_core::terms::{StepTerms, feature_matrix};
use gfn_core::trajectory::Trajectories;

fn loss(env: &Grid, policy: &Policy, objective: &dyn Objective, traj: &Trajectories<Vec<u8>>) -> f64 {
    let out = policy.infer(&feature_matrix(traj)).expect("infer");
    let terms = StepTerms::compute(env, traj, &out, &objective.requirements()).expect("terms");
    let mut grads = TermGrads::default();
    objective.evaluate(&terms.view(traj, Some(policy.log_z)), &mut grads).expect("loss")
}

fn check(objective: &dyn Objective, backward: BackwardPolicy, logit_scale: Option<f64>) {
    let env = Grid { dim: 2, side: 4, r0: 0.5 };
    let config = PolicyConfig {
        hidden: vec![8],
        activation: Activation::Tanh,
        backward,
        log_z_init: 0.3,
        ..PolicyConfig::default()
    };
    let req = objective.requirements();
    let mut rng = stream(4, Purpose::Init, &[]);
    let mut policy =
        Policy::new(Cpu, &config, env.feature_dim(), env.action_count(), req.log_flow, &mut rng).expect("policy");
    policy.logit_scale = logit_scale;
    let draw = Draw { seed: 9, purpose: Purpose::Forward, round: 0 };
    let explore = Exploration { epsilon: 0.3, temperature: 1.0 };
    let traj = sample_forward(&env, &policy, 6, explore, draw).expect("sample");

    // Analytic gradient through the trainer's path.
    let mut cache = PolicyCache::default();
    let out = policy.forward(feature_matrix(&traj), &mut cache).expect("forward");
    let terms = StepTerms::compute(&env, &traj, &out, &req).expect("terms");
    let mut grads = TermGrads::default();
    objective.evaluate(&terms.view(&traj, Some(policy.log_z)), &mut grads).expect("loss");
    let separate = backward == BackwardPolicy::Learned;
    let (d_trunk, d_back) = terms.logit_grads(&traj, &grads, policy.layout(), separate, env.exit_action());
    policy.zero_grad().expect("zero");
    policy.backward(&cache, &d_trunk, d_back.as_ref()).expect("backward");
    let analytic: Vec<(String, Vec<f32>)> =
        policy.params().into_iter().map(|(n, p)| (n, p.grad.iter().copied().collect())).collect();

    // Finite differences in f32 parameters (a few entries per tensor).
    let h = 1e-2f32;
    let mut checked = 0;
    for (k, (name, grad)) in analytic.iter().enumerate() {
        for idx in (0..grad.len()).step_by(grad.len().div_ceil(5).max(1)) {
            let mut values = [0.0f64; 2];
            for (v, sign) in values.iter_mut().zip([1.0f32, -1.0]) {
                let (_, p) = policy.params_mut().into_iter().nth(k).expect("param");
                p.value.as_mut_slice()[idx] += sign * h;
                *v = loss(&env, &policy, objective, &traj);
                let (_, p) = policy.params_mut().into_iter().nth(k).expect("param");
                p.value.as_mut_slice()[idx] -= sign * h;
            }
            let fd = (values[0] - values[1]) / (2.0 * f64::from(h));
            let g = f64::from(grad[idx]);
            assert!(
                (fd - g).abs() <= 2e-3 + 2e-2 * fd.abs().max(g.abs()),
                "{} {backward:?}: d/d {name}[{idx}] analytic {g} vs finite difference {fd}",
                objective.name()
            );
            checked += 1;
        }
    }
    assert!(checked > 10);
    // log Z coefficient vs finite difference.
    if req.log_z {
        let z = policy.log_z;
        policy.log_z = z + 1e-4;
        let up = loss(&env, &policy, objective, &traj);
        policy.log_z = z - 1e-4;
        let down = loss(&env, &policy, objective, &traj);
        policy.log_z = z;
        assert!(((up - down) / 2e-4 - grads.log_z).abs() < 1e-5, "{}: log Z gradient", objective.name());
    }
    // Logit-scale gradient vs finite difference.
    if let Some(scale) = logit_scale {
        let h = 1e-3;
        policy.logit_scale = Some(scale + h);
        let up = loss(&env, &policy, objective, &traj);
        policy.logit_scale = Some(scale - h);
        let down = loss(&env, &policy, objective, &traj);
        policy.logit_scale = Some(scale);
        let (fd, g) = ((up - down) / (2.0 * h), policy.logit_scale_grad());
        assert!(
            (fd - g).abs() <= 1e-3 + 1e-2 * fd.abs().max(g.abs()),
            "{} {backward:?}: logit-scale gradient {g} vs finite difference {fd}",
            objective.name()
        );
    }
}

#[test]
fn parameter_gradients_match_finite_differences() {
    let huber = Residual::Huber { delta: 0.5 };
    let objectives: Vec<Box<dyn Objective>> = vec![
        Box::new(TrajectoryBalance::new(Residual::Squared)),
        Box::new(TrajectoryBalance::new(huber)),
        Box::new(DetailedBalance::new(Residual::Squared)),
        Box::new(ModifiedDetailedBalance::new(Residual::Squared)),
        Box::new(SubTrajectoryBalance::new(0.9, Residual::Squared).expect("lambda")),
        Box::new(VarGrad::new(Residual::Squared)),
        Box::new(ContrastiveBalance::new(Pairing::Halves, Residual::Squared)),
        Box::new(ContrastiveBalance::new(Pairing::AllPairs, huber)),
    ];
    for objective in &objectives {
        for backward in [BackwardPolicy::Uniform, BackwardPolicy::Learned, BackwardPolicy::LearnedShared] {
            check(objective.as_ref(), backward, None);
        }
    }
}

/// The learned factor on the forward logits (temperature-conditioned training): the gradients of
/// the network parameters and of the factor itself match finite differences.
#[test]
fn logit_scale_gradients_match_finite_differences() {
    let objectives: Vec<Box<dyn Objective>> = vec![
        Box::new(TrajectoryBalance::new(Residual::Squared)),
        Box::new(DetailedBalance::new(Residual::Squared)),
        Box::new(SubTrajectoryBalance::new(0.9, Residual::Squared).expect("lambda")),
    ];
    for objective in &objectives {
        for backward in [BackwardPolicy::Uniform, BackwardPolicy::LearnedShared] {
            check(objective.as_ref(), backward, Some(0.6));
        }
    }
}
