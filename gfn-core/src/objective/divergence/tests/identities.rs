//! Per-batch identities between estimators (ALGORITHMS §1.2, §2.6, §2.7), the on-policy TB ↔
//! reverse-KL equivalence in expectation, and the loss values against the exact divergences.

use super::{Model, Source, THETA, draw, exact, moments};
use crate::objective::divergence::{
    AlphaKl, AlphaTb, ControlVariate, Divergence, ForwardKl, ReverseKl, Sampling, Tsallis,
};
use crate::objective::{Objective, TermGrads, TrajectoryBalance, VarGrad};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{what}: {a} vs {b}");
}

fn coefficients(objective: &dyn Objective, batch: &super::Batch) -> TermGrads {
    let mut grads = TermGrads::default();
    objective.evaluate(&batch.terms(), &mut grads).unwrap();
    grads
}

/// Random on-policy batches of the model.
fn batches(model: &Model, seed: u64, size: usize) -> Vec<super::Batch> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pf: Vec<f64> = model.distributions().iter().map(|d| d.0).collect();
    (0..20).map(|_| model.batch(draw(&mut rng, &pf, size), 0.3)).collect()
}

/// VarGrad's `log P_F` coefficients are `2(B−1)/B` times the RLOO reverse-KL ones, and the
/// reverse KL with the learned baseline is half of trajectory balance (`log P_F` and `log Z`).
#[test]
fn divergence_vargrad_and_tb_identities() {
    let model = Model::new(20);
    for batch in batches(&model, 21, 7) {
        let b = batch.members.len() as f64;
        let vg = coefficients(&VarGrad::default(), &batch);
        let rloo = coefficients(&ReverseKl::new(ControlVariate::LeaveOneOut).unwrap(), &batch);
        let tb = coefficients(&TrajectoryBalance::default(), &batch);
        let learned = coefficients(&ReverseKl::new(ControlVariate::Learned).unwrap(), &batch);
        for t in 0..batch.log_pf.len() {
            close(vg.log_pf[t], 2.0 * (b - 1.0) / b * rloo.log_pf[t], "vargrad vs rloo");
            close(learned.log_pf[t], 0.5 * tb.log_pf[t], "learned vs tb");
        }
        close(learned.log_z, 0.5 * tb.log_z, "learned vs tb log Z");
    }
}

/// α-KL at α = 0 with the learned baseline is half of α-TB at α = 0 on the forward half, and both
/// leave the backward half untouched.
#[test]
fn divergence_alpha_kl_is_half_alpha_tb_at_zero() {
    let model = Model::new(22);
    for batch in batches(&model, 23, 8) {
        let akl = coefficients(&AlphaKl::new(0.0, ControlVariate::Learned).unwrap(), &batch);
        let atb = coefficients(&AlphaTb::new(0.0).unwrap(), &batch);
        for t in 0..batch.log_pf.len() {
            close(akl.log_pf[t], 0.5 * atb.log_pf[t], "α-KL vs α-TB");
        }
        close(akl.log_z, 0.5 * atb.log_z, "log Z");
        assert!(akl.log_pf[batch.offsets[4]..].iter().all(|&c| c == 0.0));
    }
}

/// On-policy, the trajectory-balance θ-gradient is `2∇_θ KL(p_F‖p̄_B)` in expectation (any log Z).
#[test]
fn divergence_on_policy_tb_is_twice_reverse_kl() {
    let model = Model::new(24);
    let target: Vec<f64> = model.exact_grad(exact::reverse_kl)[..THETA].iter().map(|g| 2.0 * g).collect();
    let tb = TrajectoryBalance::default();
    let m = moments(&model, 25, Source::Forward(8), 20_000, |b| {
        model.param_grad(b, &coefficients(&tb, b))[..THETA].to_vec()
    });
    m.assert_matches(&target, 0.0, "on-policy TB vs 2 ∇RKL");
}

/// The returned losses estimate the divergences: `KL(p_F‖p̄_B) − log Z` (reverse KL),
/// `KL(p̄_B‖p_F) + log Z` (forward KL on target samples), `T_α` (Tsallis with the exact reference),
/// and `KL(p̄_B‖p_F)` itself (on-policy forward KL, consistent).
#[test]
fn divergence_losses_estimate_divergences() {
    let model = Model::new(26);
    let log_z = model.log_z();
    let totals = model.totals(&model.params);
    let loss = |objective: &dyn Divergence, source: Source, batches: usize| {
        moments(&model, 27, source, batches, |b| {
            vec![objective.evaluate_with_scores(&b.terms(), None, &mut TermGrads::default()).unwrap()]
        })
    };
    let rkl = ReverseKl::new(ControlVariate::None).unwrap();
    let target = exact::reverse_kl(&totals, log_z) - log_z;
    loss(&rkl, Source::Forward(8), 5_000).assert_matches(&[target], 0.0, "reverse_kl loss");
    let fkl = ForwardKl::new(Sampling::Target, ControlVariate::None).unwrap();
    let target = exact::forward_kl(&totals, log_z) + log_z;
    loss(&fkl, Source::Target(8), 5_000).assert_matches(&[target], 0.0, "forward_kl target loss");
    let tsallis = Tsallis::new(0.5, log_z, ControlVariate::None).unwrap();
    let target = exact::tsallis(0.5, &totals, log_z);
    loss(&tsallis, Source::Forward(8), 5_000).assert_matches(&[target], 0.0, "tsallis loss");
    let fkl = ForwardKl::new(Sampling::OnPolicy, ControlVariate::None).unwrap();
    let target = exact::forward_kl(&totals, log_z);
    loss(&fkl, Source::Forward(1024), 200).assert_matches(&[target], 0.02, "forward_kl on-policy loss");
}
