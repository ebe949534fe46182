//! Coefficients against central finite differences of the loss, for both penalties.

use super::{Batch, FIELDS, Field, Flows, LENGTHS, assert_close, coefficient, evaluate};
use crate::objective::{
    ContrastiveBalance, DetailedBalance, FlowGrads, FlowMatching, ModifiedDetailedBalance, Objective, Pairing,
    Residual, SubTrajectoryBalance, TrajectoryBalance, VarGrad,
};

const H: f64 = 1e-5;
const TOL: f64 = 1e-6;
/// The Huber threshold of the tests; [`assert_both_branches`] checks that it splits the residuals.
const DELTA: f64 = 1.5;

/// Checks every coefficient of `objective` on `batch` against finite differences.
fn check(objective: &dyn Objective, batch: &Batch) {
    let (_, grads) = evaluate(objective, batch);
    for field in FIELDS {
        let n = if field == Field::LogZ { 1 } else { batch.log_pf.len() };
        for t in 0..n {
            let mut plus = batch.clone();
            plus.field_mut(field)[t] += H;
            let mut minus = batch.clone();
            minus.field_mut(field)[t] -= H;
            let fd = (evaluate(objective, &plus).0 - evaluate(objective, &minus).0) / (2.0 * H);
            let what = format!("{objective:?} {field:?}[{t}]");
            assert_close(coefficient(&grads, field, t), fd, TOL, &what);
        }
    }
}

/// Asserts that the Huber penalty hits both branches, through the coefficients `c(ρ)` (linear in
/// the `ρ'` values): some residual is in the linear branch iff `c(Huber δ) ≠ c(Squared)`, and some
/// is in the quadratic branch iff `c(Huber 2δ) ≠ 2 c(Huber δ)` (linear-branch slopes scale with δ).
fn assert_both_branches(coeffs: impl Fn(Residual) -> Vec<f64>) {
    let differs = |a: &[f64], b: &[f64], scale: f64| a.iter().zip(b).any(|(x, y)| (x - scale * y).abs() > 1e-9);
    let huber = coeffs(Residual::Huber { delta: DELTA });
    let wider = coeffs(Residual::Huber { delta: 2.0 * DELTA });
    assert!(differs(&huber, &coeffs(Residual::Squared), 1.0), "no residual beyond δ");
    assert!(differs(&wider, &huber, 2.0), "no residual within δ");
}

/// Finite-difference checks of `make(ρ)` for both penalties on a random ragged batch.
fn check_both<O: Objective>(seed: u64, make: impl Fn(Residual) -> O) {
    let batch = Batch::random(seed, &LENGTHS);
    assert_both_branches(|residual| evaluate(&make(residual), &batch).1.log_pf);
    for residual in [Residual::Squared, Residual::Huber { delta: DELTA }] {
        check(&make(residual), &batch);
    }
}

#[test]
fn objective_fd_trajectory_balance() {
    check_both(1, TrajectoryBalance::new);
}

#[test]
fn objective_fd_vargrad() {
    check_both(11, VarGrad::new);
}

#[test]
fn objective_fd_contrastive_balance() {
    for pairing in [Pairing::Halves, Pairing::AllPairs] {
        check_both(20, |residual| ContrastiveBalance::new(pairing, residual));
    }
}

#[test]
fn objective_fd_detailed_balance() {
    check_both(31, DetailedBalance::new);
}

#[test]
fn objective_fd_modified_detailed_balance() {
    check_both(41, ModifiedDetailedBalance::new);
}

#[test]
fn objective_fd_subtrajectory_balance() {
    for lambda in [0.3, 0.9, 1.0, 2.5] {
        check_both(51, |residual| SubTrajectoryBalance::new(lambda, residual).unwrap());
    }
}

#[test]
fn objective_fd_flow_matching() {
    let flows = Flows::random(60, 7);
    let grads = |residual| {
        let mut grads = FlowGrads::default();
        FlowMatching::new(residual).evaluate(&flows.terms(), &mut grads).unwrap();
        grads
    };
    assert_both_branches(|residual| {
        let grads = grads(residual);
        [grads.in_log_flow, grads.out_log_flow, grads.sink_log_flow].concat()
    });
    for residual in [Residual::Squared, Residual::Huber { delta: DELTA }] {
        let fm = FlowMatching::new(residual);
        let grads = grads(residual);
        let mut scratch = FlowGrads::default();
        for group in 0..3 {
            let coeffs = [&grads.in_log_flow, &grads.out_log_flow, &grads.sink_log_flow][group];
            for (e, &coeff) in coeffs.iter().enumerate() {
                let mut values = [0.0; 2];
                for (value, h) in values.iter_mut().zip([H, -H]) {
                    let mut shifted = flows.clone();
                    shifted.group_mut(group)[e] += h;
                    *value = fm.evaluate(&shifted.terms(), &mut scratch).unwrap();
                }
                let fd = (values[0] - values[1]) / (2.0 * H);
                assert_close(coeff, fd, TOL, &format!("fm {residual:?} group {group} edge {e}"));
            }
        }
    }
}
