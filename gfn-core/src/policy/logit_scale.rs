//! Logit scaling (Logit-GFN, Kim et al. 2023; PhyloGFN's "scale MLP"): a temperature-conditioned
//! policy multiplies its forward logits by a learned positive scale per temperature, so that one
//! network can be as sharp as the target at every temperature.

use nalgebra::DMatrix;

/// Multiplies the first `actions` rows (the forward logits) of `trunk` by `scale` in place.
pub(super) fn scale_logits(trunk: &mut DMatrix<f32>, actions: usize, scale: f64) {
    let scale = scale as f32;
    trunk.rows_mut(0, actions).iter_mut().for_each(|x| *x *= scale);
}

/// The backward pass of [`scale_logits`]: given the gradient `d_trunk` with respect to the scaled
/// trunk output and the unscaled forward logits `raw` (`actions × N`), returns the gradient with
/// respect to the unscaled output and `dL/d scale`.
pub(super) fn scale_logits_backward(d_trunk: &DMatrix<f32>, raw: &DMatrix<f32>, scale: f64) -> (DMatrix<f32>, f64) {
    let actions = raw.nrows();
    let d_scale: f64 =
        d_trunk.rows(0, actions).iter().zip(raw.iter()).map(|(&d, &r)| f64::from(d) * f64::from(r)).sum();
    let mut d_raw = d_trunk.clone();
    scale_logits(&mut d_raw, actions, scale);
    (d_raw, d_scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `L = Σ w ⊙ (scale · raw)` has `dL/draw = scale · w` and `dL/dscale = Σ w ⊙ raw`; rows after the
    /// logits (log-flows, mixture parameters) are neither scaled nor rescaled.
    #[test]
    fn backward_matches_the_analytic_gradient() {
        let raw_full = DMatrix::from_row_slice(3, 2, &[1.0, -2.0, 0.5, 3.0, 7.0, 9.0]);
        let w = DMatrix::from_row_slice(3, 2, &[0.3, -0.1, 2.0, 0.25, 1.0, -1.0]);
        let mut scaled = raw_full.clone();
        scale_logits(&mut scaled, 2, 0.5);
        assert_eq!(scaled.row(2), raw_full.row(2));
        assert_eq!(scaled[(0, 1)], -1.0);
        let raw = raw_full.rows(0, 2).into_owned();
        let (d_raw, d_scale) = scale_logits_backward(&w, &raw, 0.5);
        let expected: f64 = [0.3, 0.2, 1.0, 0.75].iter().sum();
        assert!((d_scale - expected).abs() < 1e-6, "{d_scale} vs {expected}");
        assert_eq!(d_raw[(0, 0)], 0.15);
        assert_eq!(d_raw.row(2), w.row(2));
    }
}
