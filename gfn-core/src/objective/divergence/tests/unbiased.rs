//! Mean estimator gradients over many independent batches against exact enumerated gradients.

use super::{Batch, Model, PARAMS, Source, THETA, divergence_grad, exact, moments};
use crate::objective::divergence::{
    AlphaKl, AlphaTb, ControlVariate, ForwardKl, Renyi, ReverseKl, Sampling, ScoreSignal, Tsallis, opt_vector_gradient,
};
use crate::objective::{Objective, TermGrads};

const BATCHES: usize = 20_000;
const SCALAR_CVS: [ControlVariate; 5] = [
    ControlVariate::None,
    ControlVariate::Learned,
    ControlVariate::LeaveOneOut,
    ControlVariate::LogZ,
    ControlVariate::OptScalar,
];
/// The control variates of the estimators whose signal is not `δ`.
const POWER_CVS: [ControlVariate; 3] = [ControlVariate::None, ControlVariate::LeaveOneOut, ControlVariate::OptScalar];

#[test]
fn divergence_enumeration_is_complete() {
    let model = Model::new(1);
    assert_eq!(model.trajectories.len(), 19);
    let dist = model.distributions();
    let (pf, target): (f64, f64) = dist.iter().fold((0.0, 0.0), |(a, b), d| (a + d.0, b + d.1));
    assert!((pf - 1.0).abs() < 1e-12 && (target - 1.0).abs() < 1e-12, "{pf} {target}");
    // The enumerated gradient agrees with the closed forms ∇_θ RKL = E[δ sF], ∇_φ RKL = −E[sB].
    let grad = model.exact_grad(exact::reverse_kl);
    let mut closed = vec![0.0; PARAMS];
    for (k, &(p, _, delta)) in dist.iter().enumerate() {
        for (d, g) in model.delta_grad(k).iter().enumerate() {
            closed[d] += p * if d < THETA { delta * g } else { *g };
        }
    }
    for (a, b) in grad.iter().zip(&closed) {
        assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    }
}

/// Reverse KL with every per-trajectory control variate is unbiased for `∇KL(p_F‖p̄_B)` (θ and φ).
#[test]
fn divergence_reverse_kl_unbiased() {
    let model = Model::new(2);
    let exact = model.exact_grad(exact::reverse_kl);
    for cv in SCALAR_CVS {
        let rkl = ReverseKl::new(cv).unwrap();
        let m = moments(&model, 10, Source::Forward(8), BATCHES, |b| divergence_grad(&model, &rkl, b));
        m.assert_matches(&exact, 0.0, &format!("reverse_kl/{}", cv.name()));
    }
}

/// The θ-gradient of [`opt_vector_gradient`] with the φ-coefficients of the plain estimator.
pub(super) fn opt_vector_grad(
    model: &Model,
    signal: &dyn ScoreSignal,
    objective: &dyn Objective,
    b: &Batch,
) -> Vec<f64> {
    let scores: Vec<f64> = b.members.iter().flat_map(|&k| model.score(k)).collect();
    let theta = opt_vector_gradient(&signal.signal(&b.terms()).unwrap(), &scores).unwrap();
    let mut grads = TermGrads::default();
    objective.evaluate(&b.terms(), &mut grads).unwrap();
    let mut full = model.param_grad(b, &grads);
    full[..THETA].copy_from_slice(&theta);
    full
}

/// The per-coordinate optimal baseline is unbiased for the reverse KL and for Tsallis.
#[test]
fn divergence_opt_vector_unbiased() {
    let model = Model::new(3);
    let rkl = ReverseKl::new(ControlVariate::None).unwrap();
    let m = moments(&model, 11, Source::Forward(8), BATCHES, |b| opt_vector_grad(&model, &rkl, &rkl, b));
    m.assert_matches(&model.exact_grad(exact::reverse_kl), 0.0, "reverse_kl/opt_vector");
    let tsallis = Tsallis::new(0.5, model.log_z(), ControlVariate::None).unwrap();
    let m = moments(&model, 12, Source::Forward(8), BATCHES, |b| opt_vector_grad(&model, &tsallis, &tsallis, b));
    m.assert_matches(&model.exact_grad(|t, z| exact::tsallis(0.5, t, z)), 0.0, "tsallis/opt_vector");
}

/// Tsallis with the exact reference is unbiased for `∇T_α`; with another reference it is unbiased
/// for `exp((α−1)(ref − log Z)) ∇T_α`.
#[test]
fn divergence_tsallis_unbiased() {
    let model = Model::new(4);
    for (alpha, shift) in [(0.5f64, 0.0f64), (-1.0, 0.0), (2.0, 0.4), (0.5, -0.7)] {
        let factor = ((alpha - 1.0) * shift).exp();
        let exact: Vec<f64> = model.exact_grad(|t, z| exact::tsallis(alpha, t, z)).iter().map(|g| g * factor).collect();
        for cv in POWER_CVS {
            let tsallis = Tsallis::new(alpha, model.log_z() + shift, cv).unwrap();
            let m = moments(&model, 13, Source::Forward(8), BATCHES, |b| divergence_grad(&model, &tsallis, b));
            m.assert_matches(&exact, 0.0, &format!("tsallis α={alpha} shift={shift}/{}", cv.name()));
        }
    }
}

/// Forward KL from target samples is unbiased (θ: maximum likelihood; φ: `−E_{p̄_B}[δ sB]`).
#[test]
fn divergence_forward_kl_target_unbiased() {
    let model = Model::new(5);
    let exact = model.exact_grad(exact::forward_kl);
    for cv in [ControlVariate::None, ControlVariate::LeaveOneOut] {
        let fkl = ForwardKl::new(Sampling::Target, cv).unwrap();
        let m = moments(&model, 14, Source::Target(8), BATCHES, |b| divergence_grad(&model, &fkl, b));
        m.assert_matches(&exact, 0.0, &format!("forward_kl/target/{}", cv.name()));
    }
}

/// α-KL is unbiased for `(1−α)∇RKL + α∇FKL` on a half-forward, half-target batch.
#[test]
fn divergence_alpha_kl_unbiased() {
    let model = Model::new(6);
    let (rkl, fkl) = (model.exact_grad(exact::reverse_kl), model.exact_grad(exact::forward_kl));
    for (alpha, cv) in
        [(0.5, ControlVariate::LeaveOneOut), (0.25, ControlVariate::OptScalar), (0.8, ControlVariate::Learned)]
    {
        let exact: Vec<f64> = rkl.iter().zip(&fkl).map(|(r, f)| (1.0 - alpha) * r + alpha * f).collect();
        let akl = AlphaKl::new(alpha, cv).unwrap();
        let m = moments(&model, 15, Source::Halves(16), BATCHES, |b| divergence_grad(&model, &akl, b));
        m.assert_matches(&exact, 0.0, &format!("alpha_kl α={alpha}/{}", cv.name()));
    }
}

/// α-TB's gradient is, in expectation, `(1−α) E_{p_F}[2Δ∇Δ] + α E_{p̄_B}[2Δ∇Δ]` (exact by
/// enumeration), and its forward θ-part is `2∇_θ KL(p_F‖p̄_B)`.
#[test]
fn divergence_alpha_tb_unbiased() {
    let model = Model::new(7);
    let dist = model.distributions();
    let log_z = -dist.iter().map(|d| d.0 * d.2).sum::<f64>();
    let rkl = model.exact_grad(exact::reverse_kl);
    for alpha in [0.0, 0.5] {
        let mut exact = vec![0.0; PARAMS];
        for (k, &(pf, target, delta)) in dist.iter().enumerate() {
            let weight = (1.0 - alpha) * pf + alpha * target;
            for (e, g) in exact.iter_mut().zip(model.delta_grad(k)) {
                *e += weight * 2.0 * (log_z + delta) * g;
            }
        }
        if alpha == 0.0 {
            for d in 0..THETA {
                assert!((exact[d] - 2.0 * rkl[d]).abs() < 1e-7, "θ[{d}]: {} vs 2 × {}", exact[d], rkl[d]);
            }
        }
        let atb = AlphaTb::new(alpha).unwrap();
        let m = moments(&model, 16, Source::Halves(16), BATCHES, |b| divergence_grad(&model, &atb, b));
        m.assert_matches(&exact, 0.0, &format!("alpha_tb α={alpha}"));
    }
}

/// The self-normalised estimators (Rényi, on-policy forward KL) are consistent: at batch 1024
/// their mean gradient is within a small bias of the exact one, and closer than at a small batch.
#[test]
fn divergence_self_normalised_consistent() {
    let model = Model::new(8);
    let fkl = ForwardKl::new(Sampling::OnPolicy, ControlVariate::LeaveOneOut).unwrap();
    let cases: Vec<(String, Box<dyn super::Divergence>, Vec<f64>)> = vec![
        ("forward_kl/on_policy".into(), Box::new(fkl), model.exact_grad(exact::forward_kl)),
        (
            "renyi α=0.5".into(),
            Box::new(Renyi::new(0.5, ControlVariate::OptScalar).unwrap()),
            model.exact_grad(|t, z| exact::renyi(0.5, t, z)),
        ),
        (
            "renyi α=-1".into(),
            Box::new(Renyi::new(-1.0, ControlVariate::None).unwrap()),
            model.exact_grad(|t, z| exact::renyi(-1.0, t, z)),
        ),
    ];
    for (name, objective, exact) in cases {
        let error = |b: usize, batches: usize| {
            let m =
                moments(&model, 17, Source::Forward(b), batches, |batch| divergence_grad(&model, &*objective, batch));
            let err = m.mean.iter().zip(&exact).map(|(a, e)| (a - e).powi(2)).sum::<f64>().sqrt();
            (m, err)
        };
        let (_, small) = error(4, 20_000);
        let (large_moments, large) = error(1024, 400);
        eprintln!("{name}: ‖bias‖ at B=4: {small:.4}, at B=1024: {large:.4}");
        assert!(large < small, "{name}: the bias does not shrink");
        large_moments.assert_matches(&exact, 0.02, &format!("{name} B=1024"));
    }
}
