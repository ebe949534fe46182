//! The optimal vector control variate (ALGORITHMS §2.1 "opt vector", §2.5): a baseline per
//! parameter coordinate, which is not a per-trajectory coefficient and so yields the parameter
//! gradient directly.

use multiversion::multiversion;

use super::Signal;
use crate::objective::validate;
use crate::{Error, Result};

/// Below this fraction of `Σ_j s_{j,d}²`, the leave-one-out sum `Σ_{j≠i} s_{j,d}²` obtained by
/// subtraction has lost too many digits and is summed again directly.
const CANCELLATION: f64 = 1e-9;

/// The controlled `θ`-gradient `ĝ_d = scale · Σ_i (v_i − β_{i,d}) s_{i,d}` with the leave-one-out
/// per-coordinate optimal baseline `β_{i,d} = Σ_{j≠i} v_j s_{j,d}² / Σ_{j≠i} s_{j,d}²` (falling back to
/// `mean_{j≠i} v_j` where every other `s_{j,d}` is 0). Each `β_{i,d}` is independent of `τ_i`, so
/// `ĝ` is unbiased whenever the plain signal estimator is.
///
/// `scores` holds the per-trajectory score vectors `s_i = ∇_θ lF(τ_i)` back to back
/// (`B × P` entries, trajectory `i` at `i·P..(i+1)·P`, in the parameter order of the network, e.g.
/// from [`crate::nn::per_sample`]); the result has `P` entries. This replaces the `log P_F` part of
/// the objective's coefficients; its `log P_B` coefficients and loss come from evaluating it with
/// [`ControlVariate::None`](super::ControlVariate::None). For networks, where the `B × P` score
/// matrix is large, feed [`OptVectorBaseline::gradient_block`] block by block instead.
pub fn opt_vector_gradient(signal: &Signal, scores: &[f64]) -> Result<Vec<f64>> {
    let baseline = OptVectorBaseline::new(signal)?;
    let mut grad = vec![0.0; scores.len() / baseline.batch_size()];
    baseline.gradient_block(scores, &mut grad)?;
    Ok(grad)
}

/// [`opt_vector_gradient`] over blocks of coordinates: every coordinate's baseline only needs the
/// batch's scores of that coordinate, so the `B × P` score matrix never has to exist at once.
///
/// ```
/// use gfn_core::objective::{OptVectorBaseline, Signal, opt_vector_gradient};
///
/// let signal = Signal { values: vec![1.0, -2.0, 0.5], scale: 1.0 / 3.0 };
/// // Three trajectories' scores of four parameters, sample-major.
/// let scores = [0.1, 0.0, 2.0, -1.0, 0.3, 0.0, 1.0, 0.5, -0.2, 0.0, 0.0, 0.5];
/// let whole = opt_vector_gradient(&signal, &scores).unwrap();
/// // The same gradient from two blocks of two coordinates.
/// let baseline = OptVectorBaseline::new(&signal).unwrap();
/// let mut blocks = vec![0.0; 4];
/// for (k, out) in blocks.chunks_mut(2).enumerate() {
///     let block: Vec<f64> = (0..3).flat_map(|i| scores[i * 4 + 2 * k..i * 4 + 2 * k + 2].to_vec()).collect();
///     baseline.gradient_block(&block, out).unwrap();
/// }
/// assert_eq!(whole, blocks);
/// ```
#[derive(Debug, Clone)]
pub struct OptVectorBaseline {
    values: Vec<f64>,
    scale: f64,
    /// `mean_{j≠i} v_j`, the fallback baseline.
    loo_means: Vec<f64>,
}

impl OptVectorBaseline {
    /// The baseline of a batch's signal (at least two trajectories).
    pub fn new(signal: &Signal) -> Result<Self> {
        let b = signal.values.len();
        if b < 2 {
            return Err(Error::config("batch_size", b, "the optimal vector baseline needs two trajectories"));
        }
        Ok(OptVectorBaseline {
            values: signal.values.clone(),
            scale: signal.scale,
            loo_means: super::cv::loo_means(&signal.values),
        })
    }

    /// The number of trajectories `B`.
    pub fn batch_size(&self) -> usize {
        self.values.len()
    }

    /// Writes the controlled gradient of `out.len()` consecutive coordinates into `out`, from their
    /// scores `block` (`B × out.len()` entries, sample-major: trajectory `i` at
    /// `i·len..(i+1)·len`).
    pub fn gradient_block<T: Copy + Default + Into<f64>>(&self, block: &[T], out: &mut [f64]) -> Result<()> {
        let (b, len) = (self.values.len(), out.len());
        if len == 0 || block.len() != b * len {
            return Err(Error::ShapeMismatch {
                op: "opt_vector_gradient scores",
                expected: (b, len),
                got: (block.len(), 1),
            });
        }
        let score = |i: usize, d: usize| -> f64 { block[i * len + d].into() };
        // Σ_i v_i s_{i,d}², Σ_i s_{i,d}² and the number of nonzero s_{i,d}, vectorised over d.
        let (mut weighted, mut squares, mut nonzero) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
        // Trajectories go through the vectorised kernels four at a time; a missing fourth is a row
        // of zeros with v = 0, which adds nothing.
        let zeros = vec![T::default(); len];
        let quads: Vec<([&[T]; ROWS], [usize; ROWS])> = (0..b.div_ceil(ROWS))
            .map(|q| {
                let index = std::array::from_fn(|k| q * ROWS + k);
                (index.map(|i| if i < b { &block[i * len..(i + 1) * len] } else { &zeros[..] }), index)
            })
            .collect();
        let value = |i: usize| self.values.get(i).copied().unwrap_or(0.0);
        for (rows, index) in &quads {
            accumulate_squares(*rows, index.map(value), &mut weighted, &mut squares, &mut nonzero);
        }
        if let Some(d) = squares.iter().zip(&weighted).position(|(q, w)| !(q + w).is_finite()) {
            let i = (0..b).find(|&i| !score(i, d).is_finite()).unwrap_or(0);
            validate::finite("scores", i * len + d, score(i, d) * score(i, d))?;
        }
        out.fill(0.0);
        let sums = (&weighted[..], &squares[..], &nonzero[..]);
        for (rows, index) in &quads {
            let mean = index.map(|i| self.loo_means.get(i).copied().unwrap_or(0.0));
            let cancelled = add_controlled(*rows, index.map(value), mean, sums, out);
            for (k, &i) in index.iter().enumerate().filter(|&(_, &i)| cancelled && i < b) {
                // Trajectory i carries nearly all of some coordinates' squared score: form their
                // leave-one-out sums directly.
                let (v, s_i) = (self.values[i], |d: usize| score(i, d));
                for (d, o) in out.iter_mut().enumerate() {
                    if nonzero[d] <= 1.0 || squares[d] - s_i(d) * s_i(d) > CANCELLATION * squares[d] {
                        continue;
                    }
                    let others = (0..b).filter(|&j| j != i);
                    let den: f64 = others.clone().map(|j| score(j, d) * score(j, d)).sum();
                    let num: f64 = others.map(|j| self.values[j] * score(j, d) * score(j, d)).sum();
                    let beta = if den > 0.0 { num / den } else { mean[k] };
                    *o += (v - beta) * s_i(d);
                }
            }
        }
        for o in out.iter_mut() {
            *o *= self.scale;
        }
        Ok(())
    }
}

/// Trajectories per pass of the vectorised kernels (the per-coordinate sums are loaded and stored
/// once per pass).
const ROWS: usize = 4;

/// Adds the squared scores of `rows` (trajectories with signal values `v`) to the per-coordinate
/// sums: `weighted += Σ v s²`, `squares += Σ s²`, `nonzero += Σ [s ≠ 0]`. Compiled for several
/// SIMD levels, chosen at run time.
#[multiversion(targets = "simd")]
fn accumulate_squares<T: Copy + Into<f64>>(
    rows: [&[T]; ROWS],
    v: [f64; ROWS],
    weighted: &mut [f64],
    squares: &mut [f64],
    nonzero: &mut [f64],
) {
    let len = weighted.len();
    let (rows, q, n) = (rows.map(|r| &r[..len]), &mut squares[..len], &mut nonzero[..len]);
    for d in 0..len {
        let (mut dw, mut dq, mut dn) = (0.0, 0.0, 0.0);
        for k in 0..ROWS {
            let s: f64 = rows[k][d].into();
            dw += v[k] * s * s;
            dq += s * s;
            dn += if s != 0.0 { 1.0 } else { 0.0 };
        }
        weighted[d] += dw;
        q[d] += dq;
        n[d] += dn;
    }
}

/// Adds `(v_k − β_{k,d}) s_{k,d}` of every trajectory `k` of `rows` to `out` wherever the
/// leave-one-out baseline `β_{k,d}` follows from the sums `(weighted, squares, nonzero)` by
/// subtraction (or is the fallback `mean_k`, where no other trajectory moves the coordinate);
/// returns whether some coordinate cancelled and was skipped. Branch-free so that
/// it vectorises; compiled for several SIMD levels.
#[multiversion(targets = "simd")]
fn add_controlled<T: Copy + Into<f64>>(
    rows: [&[T]; ROWS],
    v: [f64; ROWS],
    mean: [f64; ROWS],
    (weighted, squares, nonzero): (&[f64], &[f64], &[f64]),
    out: &mut [f64],
) -> bool {
    let len = out.len();
    let (rows, w, q, n) = (rows.map(|r| &r[..len]), &weighted[..len], &squares[..len], &nonzero[..len]);
    let mut cancelled = 0u64;
    for d in 0..len {
        let alone = n[d] <= 1.0;
        let mut add = 0.0;
        for k in 0..ROWS {
            let s: f64 = rows[k][d].into();
            let den = q[d] - s * s;
            let ok = den > CANCELLATION * q[d];
            let ratio = (w[d] - v[k] * s * s) / if ok & !alone { den } else { 1.0 };
            let beta = if alone { mean[k] } else { ratio };
            add += if alone | ok { (v[k] - beta) * s } else { 0.0 };
            cancelled += u64::from(!(alone | ok));
        }
        out[d] += add;
    }
    cancelled > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, with every leave-one-out sum formed directly.
    fn reference(signal: &Signal, scores: &[f64]) -> Vec<f64> {
        let b = signal.values.len();
        let p = scores.len() / b;
        let v = &signal.values;
        (0..p)
            .map(|d| {
                let s = |j: usize| scores[j * p + d];
                signal.scale
                    * (0..b)
                        .map(|i| {
                            let others = || (0..b).filter(move |&j| j != i);
                            let den: f64 = others().map(|j| s(j) * s(j)).sum();
                            let num: f64 = others().map(|j| v[j] * s(j) * s(j)).sum();
                            let mean = others().map(|j| v[j]).sum::<f64>() / (b - 1) as f64;
                            let beta = if den > 0.0 { num / den } else { mean };
                            (v[i] - beta) * s(i)
                        })
                        .sum::<f64>()
            })
            .collect()
    }

    #[test]
    fn opt_vector_matches_direct_leave_one_out_sums() {
        let signal = Signal { values: vec![0.7, -1.3, 2.1, 0.2, -0.4], scale: 0.2 };
        let p = 6;
        let mut scores: Vec<f64> = (0..5 * p).map(|k| ((k * 7919) % 23) as f64 / 7.0 - 1.5).collect();
        for i in 0..5 {
            // Coordinate 0: all zero; coordinate 1: only trajectory 2 moves it; coordinate 2:
            // trajectory 3 carries nearly all of it (the subtraction would cancel).
            scores[i * p] = 0.0;
            scores[i * p + 1] = if i == 2 { 0.9 } else { 0.0 };
            scores[i * p + 2] = if i == 3 { 3e7 } else { 1e-3 * (i as f64 + 1.0) };
        }
        let got = opt_vector_gradient(&signal, &scores).unwrap();
        for (d, (a, e)) in got.iter().zip(reference(&signal, &scores)).enumerate() {
            assert!((a - e).abs() <= 1e-9 * (1.0 + e.abs()), "coordinate {d}: {a} vs {e}");
        }
    }

    #[test]
    fn opt_vector_rejects_non_finite_scores_and_bad_shapes() {
        let signal = Signal { values: vec![1.0, 2.0], scale: 1.0 };
        let baseline = OptVectorBaseline::new(&signal).unwrap();
        let mut out = [0.0; 2];
        assert!(matches!(baseline.gradient_block(&[0.0, 1.0, f64::NAN, 0.0], &mut out), Err(Error::NonFinite { .. })));
        assert!(matches!(baseline.gradient_block(&[0.0f32; 3], &mut out), Err(Error::ShapeMismatch { .. })));
    }
}
