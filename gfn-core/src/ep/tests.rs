//! Unit tests of the aggregating-balance loss and the Jeffrey divergence.

use rand::{Rng as _, SeedableRng};

use super::{AggregatingBalance, jeffrey};
use crate::objective::{Pairing, Residual, TermGrads, TrajectoryTerms};

/// A random ragged batch: offsets, server `log P_F`, `log P_B` (0 on exit steps) and `r̂`.
fn batch(seed: u64, lengths: &[usize]) -> (Vec<usize>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut offsets = vec![0];
    let (mut pf, mut pb) = (Vec::new(), Vec::new());
    for &n in lengths {
        for t in 0..n {
            pf.push(-rng.random_range(0.1..2.0));
            pb.push(if t + 1 == n { 0.0 } else { -rng.random_range(0.0..1.5) });
        }
        offsets.push(pf.len());
    }
    let rhat = lengths.iter().map(|_| rng.random_range(-4.0..4.0)).collect();
    (offsets, pf, pb, rhat)
}

fn loss(ab: &AggregatingBalance, offsets: &[usize], pf: &[f64], pb: &[f64], rhat: &[f64]) -> (f64, TermGrads) {
    let ignored = vec![f64::NAN; rhat.len()];
    let terms = TrajectoryTerms {
        offsets,
        log_pf: pf,
        log_pb: pb,
        log_flow: None,
        log_pf_exit: None,
        log_reward_state: None,
        log_reward: &ignored,
        log_z: None,
    };
    let mut grads = TermGrads::default();
    let l = ab.evaluate(&terms, rhat, &mut grads).unwrap();
    (l, grads)
}

#[test]
fn aggregating_balance_coefficients_match_finite_differences() {
    let lengths = [3, 5, 2, 4, 6, 1];
    let (offsets, pf, pb, rhat) = batch(3, &lengths);
    for pairing in [Pairing::Halves, Pairing::AllPairs] {
        for residual in [Residual::Squared, Residual::Huber { delta: 1.0 }] {
            let ab = AggregatingBalance::new(pairing, residual);
            let (value, grads) = loss(&ab, &offsets, &pf, &pb, &rhat);
            assert!(value > 0.0);
            let h = 1e-5;
            for t in 0..pf.len() {
                for (which, coefficient) in [(0, grads.log_pf[t]), (1, grads.log_pb[t])] {
                    let is_exit = offsets[1..].contains(&(t + 1));
                    if which == 1 && is_exit {
                        assert_eq!(coefficient, 0.0, "exit steps have no backward term");
                        continue;
                    }
                    let (mut up, mut down) = ((pf.clone(), pb.clone()), (pf.clone(), pb.clone()));
                    if which == 0 {
                        up.0[t] += h;
                        down.0[t] -= h;
                    } else {
                        up.1[t] += h;
                        down.1[t] -= h;
                    }
                    let fd = (loss(&ab, &offsets, &up.0, &up.1, &rhat).0
                        - loss(&ab, &offsets, &down.0, &down.1, &rhat).0)
                        / (2.0 * h);
                    assert!(
                        (fd - coefficient).abs() < 1e-6,
                        "{pairing:?} {residual:?} term {which} step {t}: {fd} vs {coefficient}"
                    );
                }
            }
        }
    }
}

#[test]
fn aggregating_balance_vanishes_when_the_server_matches_the_clients_up_to_a_constant() {
    let lengths = [2, 4, 3, 3];
    let (offsets, mut pf, pb, rhat) = batch(9, &lengths);
    // Make Σ log P_F − Σ log P_B − r̂ the same constant on every trajectory.
    for i in 0..lengths.len() {
        let r = offsets[i]..offsets[i + 1];
        let delta: f64 = r.clone().map(|t| pf[t] - pb[t]).sum::<f64>() - rhat[i];
        pf[r.end - 1] += 0.7 - delta;
    }
    let (value, grads) = loss(&AggregatingBalance::default(), &offsets, &pf, &pb, &rhat);
    assert!(value.abs() < 1e-20, "loss {value}");
    assert!(grads.log_pf.iter().all(|g| g.abs() < 1e-12));
    pf[0] += 0.1;
    assert!(loss(&AggregatingBalance::default(), &offsets, &pf, &pb, &rhat).0 > 1e-4);
}

#[test]
fn aggregating_balance_rejects_ratio_count_and_non_pairing_objectives() {
    let (offsets, pf, pb, rhat) = batch(1, &[2, 2]);
    let terms = TrajectoryTerms {
        offsets: &offsets,
        log_pf: &pf,
        log_pb: &pb,
        log_flow: None,
        log_pf_exit: None,
        log_reward_state: None,
        log_reward: &rhat,
        log_z: None,
    };
    let err = AggregatingBalance::default().evaluate(&terms, &rhat[..1], &mut TermGrads::default());
    assert!(matches!(err, Err(crate::Error::ShapeMismatch { .. })));
    let config = crate::train::ObjectiveConfig { kind: crate::train::ObjectiveKind::Tb, ..Default::default() };
    let err = AggregatingBalance::from_config(&config).unwrap_err().to_string();
    assert!(err.contains("tb") && err.contains("aggregating balance"), "{err}");
}

#[test]
fn jeffrey_divergence_matches_the_sum_of_both_kls() {
    let p = [0.2, 0.5, 0.3];
    let q = [0.4, 0.4, 0.2];
    let kl = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * (x / y).ln()).sum::<f64>();
    assert!((jeffrey(&p, &q) - kl(&p, &q) - kl(&q, &p)).abs() < 1e-12);
    assert_eq!(jeffrey(&p, &p), 0.0);
    assert_eq!(jeffrey(&[1.0, 0.0], &[0.5, 0.5]), f64::INFINITY);
}
