//! Per-batch identities between objectives (ALGORITHMS §1.2, §1.3, §1.8, §2.7).

use super::{Batch, LENGTHS, assert_close, assert_grads_close, evaluate};
use crate::objective::{
    ContrastiveBalance, DetailedBalance, Pairing, Residual, SubTrajectoryBalance, TrajectoryBalance, VarGrad,
};

/// VarGrad's coefficient on every `log P_F` step of trajectory `i` is `2(B−1)/B` times the RLOO
/// reverse-KL coefficient `(1/B)(δ_i − mean_{j≠i} δ_j)`, and its `log P_B` coefficient is the
/// negative (on proper steps).
#[test]
fn objective_vargrad_is_scaled_rloo() {
    let batch = Batch::random(100, &LENGTHS);
    let (_, grads) = evaluate(&VarGrad::default(), &batch);
    let deltas = batch.deltas();
    let b = deltas.len() as f64;
    let total: f64 = deltas.iter().sum();
    for (i, &d) in deltas.iter().enumerate() {
        let rloo = (d - (total - d) / (b - 1.0)) / b;
        let expected = 2.0 * (b - 1.0) / b * rloo;
        let (start, exit) = (batch.offsets[i], batch.offsets[i + 1] - 1);
        for t in start..=exit {
            assert_close(grads.log_pf[t], expected, 1e-12, &format!("log_pf[{t}]"));
            let pb = if t == exit { 0.0 } else { -expected };
            assert_close(grads.log_pb[t], pb, 1e-12, &format!("log_pb[{t}]"));
        }
    }
}

/// Contrastive balance over all pairs with the squared penalty is exactly twice VarGrad (loss and
/// every coefficient), and its O(B²) Huber path agrees with that when `δ` never reaches the
/// linear branch.
#[test]
fn objective_cb_all_pairs_is_twice_vargrad() {
    let batch = Batch::random(101, &LENGTHS);
    let (vg_loss, vg) = evaluate(&VarGrad::default(), &batch);
    let squared = ContrastiveBalance::new(Pairing::AllPairs, Residual::Squared);
    let (cb_loss, cb) = evaluate(&squared, &batch);
    assert_close(cb_loss, 2.0 * vg_loss, 1e-12, "loss");
    assert_grads_close(&cb, &vg, 2.0, 1e-12);
    let wide = ContrastiveBalance::new(Pairing::AllPairs, Residual::Huber { delta: 1e6 });
    let (wide_loss, wide_grads) = evaluate(&wide, &batch);
    assert_close(wide_loss, cb_loss, 1e-12, "huber loss");
    assert_grads_close(&wide_grads, &cb, 1.0, 1e-12);
}

/// Trajectory balance with `log Z = −mean δ` has the VarGrad loss (either penalty); with the
/// squared penalty its coefficients equal VarGrad's and its `log Z` coefficient vanishes.
#[test]
fn objective_tb_at_optimal_log_z_is_vargrad() {
    let mut batch = Batch::random(102, &LENGTHS);
    let deltas = batch.deltas();
    batch.log_z = -deltas.iter().sum::<f64>() / deltas.len() as f64;
    for residual in [Residual::Squared, Residual::Huber { delta: 0.5 }] {
        let (tb_loss, tb) = evaluate(&TrajectoryBalance::new(residual), &batch);
        let (vg_loss, vg) = evaluate(&VarGrad::new(residual), &batch);
        assert_close(tb_loss, vg_loss, 1e-12, "loss");
        if residual == Residual::Squared {
            assert_close(tb.log_z, 0.0, 1e-12, "log_z coefficient");
            assert_grads_close(&tb, &vg, 1.0, 1e-12);
        }
    }
}

/// On a single trajectory, SubTB(λ → ∞) is trajectory balance and SubTB(λ → 0⁺) is the mean of
/// the detailed-balance residuals with `log F(s_0) = log Z` (loss and coefficients; DB's
/// coefficient on `log F(s_0)` becomes SubTB's on `log Z`).
#[test]
fn objective_subtb_limits() {
    for residual in [Residual::Squared, Residual::Huber { delta: 0.5 }] {
        let mut batch = Batch::random(103, &[6]);
        batch.log_flow[0] = batch.log_z;

        let huge = SubTrajectoryBalance::new(1e12, residual).unwrap();
        let (sub_loss, sub) = evaluate(&huge, &batch);
        let (tb_loss, tb) = evaluate(&TrajectoryBalance::new(residual), &batch);
        assert_close(sub_loss, tb_loss, 1e-9, "λ → ∞ loss");
        assert_grads_close(&sub, &tb, 1.0, 1e-9);

        let tiny = SubTrajectoryBalance::new(1e-12, residual).unwrap();
        let (sub_loss, sub) = evaluate(&tiny, &batch);
        let (db_loss, mut db) = evaluate(&DetailedBalance::new(residual), &batch);
        assert_close(sub_loss, db_loss, 1e-9, "λ → 0 loss");
        db.log_z = std::mem::take(&mut db.log_flow[0]);
        assert_grads_close(&sub, &db, 1.0, 1e-9);
    }
}
