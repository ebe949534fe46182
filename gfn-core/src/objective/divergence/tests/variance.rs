//! Measured gradient variance: every control variate beats no control variate.

use super::unbiased::opt_vector_grad;
use super::{Model, Source, THETA, divergence_grad, moments};
use crate::objective::divergence::{
    ControlVariate, Divergence, ForwardKl, Renyi, ReverseKl, Sampling, ScoreSignal, Tsallis,
};

const BATCHES: usize = 5_000;
const BATCH: usize = 8;

/// `tr Cov` of the θ-gradient of `make(cv)` for each control variate, printed as a ratio to no
/// control variate, and each asserted below it. `OptVector` runs through `opt_vector_gradient`.
fn compare<O: Divergence + ScoreSignal>(
    name: &str,
    seed: u64,
    cvs: &[ControlVariate],
    make: impl Fn(ControlVariate) -> O,
) {
    let model = Model::new(seed);
    let variance = |cv: ControlVariate| {
        let objective = make(cv);
        let m = if cv == ControlVariate::OptVector {
            let plain = make(ControlVariate::None);
            moments(&model, 40, Source::Forward(BATCH), BATCHES, |b| opt_vector_grad(&model, &plain, &plain, b))
        } else {
            moments(&model, 40, Source::Forward(BATCH), BATCHES, |b| divergence_grad(&model, &objective, b))
        };
        m.var[..THETA].iter().sum::<f64>()
    };
    let none = variance(ControlVariate::None);
    for &cv in cvs {
        let v = variance(cv);
        eprintln!("{name} B={BATCH}: tr Cov[{}] / tr Cov[none] = {:.3} (none: {none:.4})", cv.name(), v / none);
        assert!(v < none, "{name}/{}: variance {v} not below {none}", cv.name());
    }
}

#[test]
fn divergence_reverse_kl_variance_reduction() {
    use ControlVariate::*;
    compare("reverse_kl", 30, &[Learned, LeaveOneOut, LogZ, OptScalar, OptVector], |cv| ReverseKl {
        control_variate: cv,
    });
}

#[test]
fn divergence_power_variance_reduction() {
    use ControlVariate::*;
    let log_z = Model::new(31).log_z();
    compare("tsallis α=0.5", 31, &[LeaveOneOut, OptScalar, OptVector], |cv| Tsallis {
        alpha: 0.5,
        log_z_ref: log_z,
        control_variate: cv,
    });
    compare("renyi α=0.5", 32, &[LeaveOneOut, OptScalar, OptVector], |cv| Renyi { alpha: 0.5, control_variate: cv });
    compare("forward_kl on-policy", 33, &[LeaveOneOut, OptScalar, OptVector], |cv| ForwardKl {
        sampling: Sampling::OnPolicy,
        control_variate: cv,
    });
}
