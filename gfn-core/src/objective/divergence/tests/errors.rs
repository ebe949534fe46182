//! Configuration and input errors of the divergence objectives.

use super::{Model, draw};
use crate::Error;
use crate::objective::divergence::{
    AlphaKl, AlphaTb, ControlVariate, Divergence, ForwardKl, Renyi, ReverseKl, Sampling, Tsallis, opt_vector_gradient,
};
use crate::objective::{Objective, Requirements, TermGrads};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn batch(size: usize) -> super::Batch {
    let model = Model::new(50);
    let pf: Vec<f64> = model.distributions().iter().map(|d| d.0).collect();
    model.batch(draw(&mut ChaCha8Rng::seed_from_u64(51), &pf, size), 0.0)
}

fn config_field<T: std::fmt::Debug>(result: crate::Result<T>) -> &'static str {
    match result {
        Err(Error::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn divergence_power_alpha_limits_point_to_kl() {
    for alpha in [0.0, 1.0] {
        for result in [
            Renyi::new(alpha, ControlVariate::None).map(|_| ()),
            Tsallis::new(alpha, 0.0, ControlVariate::None).map(|_| ()),
        ] {
            match result {
                Err(Error::InvalidConfig { field: "alpha", reason, .. }) => {
                    assert!(reason.contains("ReverseKl") && reason.contains("ForwardKl"), "{reason}");
                }
                other => panic!("α = {alpha}: {other:?}"),
            }
        }
        let renyi = Renyi { alpha, control_variate: ControlVariate::None };
        assert_eq!(config_field(renyi.evaluate(&batch(4).terms(), &mut TermGrads::default())), "alpha");
    }
    assert_eq!(config_field(Renyi::new(f64::NAN, ControlVariate::None)), "alpha");
    for alpha in [-0.1, 1.1, f64::NAN] {
        assert_eq!(config_field(AlphaKl::new(alpha, ControlVariate::None)), "alpha");
        assert_eq!(config_field(AlphaTb::new(alpha)), "alpha");
    }
    assert_eq!(Renyi::default().alpha, 0.5);
    assert_eq!(Tsallis::default().alpha, 0.5);
    assert_eq!(AlphaKl::default().alpha, 0.5);
}

#[test]
fn divergence_rejects_unsupported_control_variates() {
    let unsupported = [
        config_field(ReverseKl::new(ControlVariate::OptVector)),
        config_field(Renyi::new(0.5, ControlVariate::LogZ)),
        config_field(Tsallis::new(0.5, 0.0, ControlVariate::Learned)),
        config_field(ForwardKl::new(Sampling::OnPolicy, ControlVariate::LogZ)),
        config_field(ForwardKl::new(Sampling::Target, ControlVariate::OptScalar)),
        config_field(AlphaKl::new(0.5, ControlVariate::OptVector)),
    ];
    assert!(unsupported.iter().all(|&f| f == "control_variate"));
    let b = batch(4);
    let opt_vector = ReverseKl { control_variate: ControlVariate::OptVector };
    assert_eq!(config_field(opt_vector.evaluate(&b.terms(), &mut TermGrads::default())), "control_variate");
}

#[test]
fn divergence_rejects_bad_inputs() {
    let b = batch(4);
    let mut grads = TermGrads::default();
    let opt = ReverseKl::new(ControlVariate::OptScalar).unwrap();
    assert_eq!(config_field(opt.evaluate(&b.terms(), &mut grads)), "score_sq_norms");
    let result = opt.evaluate_with_scores(&b.terms(), Some(&[1.0; 3]), &mut grads);
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })), "{result:?}");
    assert_eq!(
        config_field(opt.evaluate_with_scores(&b.terms(), Some(&[1.0, -1.0, 1.0, 1.0]), &mut grads)),
        "score_sq_norms"
    );
    let result = opt.evaluate_with_scores(&b.terms(), Some(&[1.0, f64::NAN, 1.0, 1.0]), &mut grads);
    assert!(matches!(result, Err(Error::NonFinite { .. })), "{result:?}");
    // Leave-one-out baselines need two trajectories; α-KL and α-TB need an even batch.
    assert_eq!(config_field(ReverseKl::default().evaluate(&batch(1).terms(), &mut grads)), "batch_size");
    assert_eq!(config_field(AlphaTb::default().evaluate(&batch(5).terms(), &mut grads)), "batch_size");
    // The learned baseline needs ψ.
    let mut terms = b.terms();
    terms.log_z = None;
    assert_eq!(config_field(ReverseKl::new(ControlVariate::Learned).unwrap().evaluate(&terms, &mut grads)), "log_z");
    // A Tsallis reference far from log Z overflows.
    let far = Tsallis::new(-3.0, -400.0, ControlVariate::None).unwrap();
    assert!(matches!(far.evaluate(&b.terms(), &mut grads), Err(Error::NonFinite { .. })));
    // opt_vector_gradient checks its shapes.
    let signal = crate::objective::Signal { values: vec![1.0, 2.0], scale: 1.0 };
    assert!(matches!(opt_vector_gradient(&signal, &[1.0; 3]), Err(Error::ShapeMismatch { .. })));
    let single = crate::objective::Signal { values: vec![1.0], scale: 1.0 };
    assert_eq!(config_field(opt_vector_gradient(&single, &[1.0])), "batch_size");
}

#[test]
fn divergence_names_and_requirements() {
    let objectives: Vec<(Box<dyn Divergence>, &str, Requirements)> = vec![
        (Box::new(ReverseKl::default()), "reverse_kl", Requirements::default()),
        (
            Box::new(ReverseKl::new(ControlVariate::Learned).unwrap()),
            "reverse_kl",
            Requirements { log_z: true, ..Requirements::default() },
        ),
        (Box::new(ForwardKl::default()), "forward_kl", Requirements::default()),
        (Box::new(Renyi::default()), "renyi", Requirements::default()),
        (Box::new(Tsallis::default()), "tsallis", Requirements::default()),
        (Box::new(AlphaKl::default()), "alpha_kl", Requirements { even_batch: true, ..Requirements::default() }),
        (
            Box::new(AlphaTb::default()),
            "alpha_tb",
            Requirements { log_z: true, even_batch: true, ..Requirements::default() },
        ),
    ];
    let b = batch(6);
    for (objective, name, requirements) in objectives {
        assert_eq!(objective.name(), name);
        assert_eq!(objective.requirements(), requirements, "{name}");
        let mut grads = TermGrads::default();
        let norms = [1.0; 6];
        let loss = objective.evaluate_with_scores(&b.terms(), Some(&norms), &mut grads).unwrap();
        assert!(loss.is_finite(), "{name}");
        // Exit steps carry no log P_B coefficient.
        for i in 0..6 {
            assert_eq!(grads.log_pb[b.offsets[i + 1] - 1], 0.0, "{name}");
        }
    }
}
