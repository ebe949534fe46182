//! Coefficients against central finite differences of the loss.

use super::{Batch, FIELDS, Field, Flows, LENGTHS, assert_close, coefficient, evaluate};
use crate::objective::{
    ContrastiveBalance, DetailedBalance, FlowGrads, FlowMatching, ModifiedDetailedBalance,
    Objective, Pairing, Residual, SubTrajectoryBalance, TrajectoryBalance, VarGrad,
};

const H: f64 = 1e-5;
const TOL: f64 = 1e-6;

/// Both penalties; the Huber threshold is small enough that both branches are hit.
fn residuals() -> [Residual; 2] {
    [Residual::Squared, Residual::Huber { delta: 0.5 }]
}

/// Checks every coefficient of `objective` on a random ragged batch against finite differences.
fn check(objective: &dyn Objective, seed: u64) {
    let batch = Batch::random(seed, &LENGTHS);
    let (_, grads) = evaluate(objective, &batch);
    for field in FIELDS {
        let n = if field == Field::LogZ {
            1
        } else {
            batch.log_pf.len()
        };
        for t in 0..n {
            let mut plus = batch.clone();
            plus.field_mut(field)[t] += H;
            let mut minus = batch.clone();
            minus.field_mut(field)[t] -= H;
            let fd = (evaluate(objective, &plus).0 - evaluate(objective, &minus).0) / (2.0 * H);
            let what = format!("{} {:?} {field:?}[{t}]", objective.name(), objective);
            assert_close(coefficient(&grads, field, t), fd, TOL, &what);
        }
    }
}

#[test]
fn objective_fd_trajectory_balance() {
    for (seed, residual) in residuals().into_iter().enumerate() {
        check(&TrajectoryBalance::new(residual), seed as u64);
    }
}

#[test]
fn objective_fd_vargrad() {
    for (seed, residual) in residuals().into_iter().enumerate() {
        check(&VarGrad::new(residual), 10 + seed as u64);
    }
}

#[test]
fn objective_fd_contrastive_balance() {
    for (seed, residual) in residuals().into_iter().enumerate() {
        for pairing in [Pairing::Halves, Pairing::AllPairs] {
            check(
                &ContrastiveBalance::new(pairing, residual),
                20 + seed as u64,
            );
        }
    }
}

#[test]
fn objective_fd_detailed_balance() {
    for (seed, residual) in residuals().into_iter().enumerate() {
        check(&DetailedBalance::new(residual), 30 + seed as u64);
    }
}

#[test]
fn objective_fd_modified_detailed_balance() {
    for (seed, residual) in residuals().into_iter().enumerate() {
        check(&ModifiedDetailedBalance::new(residual), 40 + seed as u64);
    }
}

#[test]
fn objective_fd_subtrajectory_balance() {
    for (seed, residual) in residuals().into_iter().enumerate() {
        for lambda in [0.3, 0.9, 1.0, 2.5] {
            check(
                &SubTrajectoryBalance::new(lambda, residual).unwrap(),
                50 + seed as u64,
            );
        }
    }
}

#[test]
fn objective_fd_flow_matching() {
    for (seed, residual) in residuals().into_iter().enumerate() {
        let fm = FlowMatching::new(residual);
        let flows = Flows::random(60 + seed as u64, 7);
        let mut grads = FlowGrads::default();
        fm.evaluate(&flows.terms(), &mut grads).unwrap();
        let mut scratch = FlowGrads::default();
        for incoming in [true, false] {
            let coeffs = if incoming {
                &grads.in_log_flow
            } else {
                &grads.out_log_flow
            };
            for (e, &coeff) in coeffs.iter().enumerate() {
                let mut values = [0.0; 2];
                for (value, h) in values.iter_mut().zip([H, -H]) {
                    let mut shifted = flows.clone();
                    shifted.edge_mut(incoming)[e] += h;
                    *value = fm.evaluate(&shifted.terms(), &mut scratch).unwrap();
                }
                let fd = (values[0] - values[1]) / (2.0 * H);
                assert_close(
                    coeff,
                    fd,
                    TOL,
                    &format!("fm {residual:?} in={incoming} edge {e}"),
                );
            }
        }
    }
}
