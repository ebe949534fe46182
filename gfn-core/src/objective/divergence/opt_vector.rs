//! The optimal vector control variate (ALGORITHMS §2.1 "opt vector", §2.5): a baseline per
//! parameter coordinate, which is not a per-trajectory coefficient and so yields the parameter
//! gradient directly.

use super::Signal;
use super::cv::loo_fold;
use crate::objective::validate;
use crate::{Error, Result};

/// The controlled `θ`-gradient `ĝ_d = scale · Σ_i (v_i − β_{i,d}) s_{i,d}` with the leave-one-out
/// per-coordinate optimal baseline `β_{i,d} = Σ_{j≠i} v_j s_{j,d}² / Σ_{j≠i} s_{j,d}²` (falling back to
/// `mean_{j≠i} v_j` where every other `s_{j,d}` is 0). Each `β_{i,d}` is independent of `τ_i`, so
/// `ĝ` is unbiased whenever the plain signal estimator is.
///
/// `scores` holds the per-trajectory score vectors `s_i = ∇_θ lF(τ_i)` back to back
/// (`B × P` entries, trajectory `i` at `i·P..(i+1)·P`, in the parameter order of the network, e.g.
/// from [`crate::nn::per_sample`]); the result has `P` entries. This replaces the `log P_F` part of
/// the objective's coefficients; its `log P_B` coefficients and loss come from evaluating it with
/// [`ControlVariate::None`](super::ControlVariate::None).
pub fn opt_vector_gradient(signal: &Signal, scores: &[f64]) -> Result<Vec<f64>> {
    let b = signal.values.len();
    if b < 2 {
        return Err(Error::config("batch_size", b, "the optimal vector baseline needs two trajectories"));
    }
    if scores.is_empty() || !scores.len().is_multiple_of(b) {
        return Err(Error::ShapeMismatch {
            op: "opt_vector_gradient scores",
            expected: (b, 0),
            got: (scores.len(), 1),
        });
    }
    for (k, &s) in scores.iter().enumerate() {
        validate::finite("scores", k, s)?;
    }
    let p = scores.len() / b;
    let means = super::cv::loo_means(&signal.values);
    let mut grad = vec![0.0; p];
    let (mut squares, mut weighted) = (vec![0.0; b], vec![0.0; b]);
    for (d, out) in grad.iter_mut().enumerate() {
        for i in 0..b {
            let s = scores[i * p + d];
            squares[i] = s * s;
            weighted[i] = signal.values[i] * s * s;
        }
        let num = loo_fold(&weighted, 0.0, |a, x| a + x);
        let den = loo_fold(&squares, 0.0, |a, x| a + x);
        *out = signal.scale
            * (0..b)
                .map(|i| {
                    let baseline = if den[i] > 0.0 { num[i] / den[i] } else { means[i] };
                    (signal.values[i] - baseline) * scores[i * p + d]
                })
                .sum::<f64>();
    }
    Ok(grad)
}
