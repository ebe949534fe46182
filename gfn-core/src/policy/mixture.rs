//! Mixture-of-Gaussians densities for the continuous part of hybrid steps
//! ([`crate::env::continuous`]).
//!
//! The policy outputs, for every state, one block of `3K` raw values per head and coordinate:
//! `[logits (K) | means (K) | log-std parameters (K)]`. With the environment's location
//! `(c, s)` ([`ContinuousSteps::location`]) and mean bounds `(lo, hi)`
//! ([`ContinuousSteps::mean_bounds`]) the mixture of one coordinate is
//!
//! ```text
//! w = softmax(logits),   μ_k = lo + (hi − lo) · sigmoid(a + b · m_k),
//! log σ_k = log s + LOG_STD_MIN + (LOG_STD_MAX − LOG_STD_MIN) · sigmoid(ρ_k),
//! p(x) = Σ_k w_k N(x; μ_k, σ_k²)
//! ```
//!
//! where `a` and `b` make `μ = c` and `dμ/dm = s` at `m = 0`: a freshly initialised policy draws
//! values around `c`, and near there the means move like `c + s · m`. The squashed means and
//! standard deviations keep every density finite and every sample within a few `s` of
//! `[lo, hi]`, so one bad gradient step cannot send the sampler to absurd values (PhyloGFN
//! squashes its log-length means the same way). Coordinates are independent given the state and
//! head. All arithmetic is in `f64`; [`Mixture::add_log_density_grad`] gives the exact gradient of
//! `log p(x)` with respect to the raw outputs.

use rand::Rng as _;
use rand_distr::StandardNormal;

use crate::env::ContinuousSteps;
use crate::rng::Rng;
use crate::{Error, Result};

/// The smallest log standard deviation, relative to the location scale.
pub const LOG_STD_MIN: f64 = -4.0;
/// The largest log standard deviation, relative to the location scale.
pub const LOG_STD_MAX: f64 = 0.5;

const HALF_LOG_TWO_PI: f64 = 0.918_938_533_204_672_8;

/// The shape of a policy's mixture head: `heads × dim` coordinates of `components` Gaussians.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureHead {
    /// Heads `G` (one per class of discrete action).
    pub heads: usize,
    /// Coordinates per head `D`.
    pub dim: usize,
    /// Components `K` per coordinate.
    pub components: usize,
    /// Centre `c` of the means (their value for raw output 0).
    pub center: f64,
    /// Scale `s` of the means (their slope at `c`) and of the standard deviations.
    pub scale: f64,
    /// The means lie in the open interval `(low, high)`, which contains `center`.
    pub low: f64,
    /// See [`MixtureHead::low`].
    pub high: f64,
}

impl MixtureHead {
    /// The head for the continuous steps `steps` with `components` Gaussians per coordinate.
    ///
    /// Fails if the steps' location or mean bounds are not finite, the scale is not positive, or
    /// the centre does not lie strictly inside the bounds.
    pub fn new<S>(steps: &dyn ContinuousSteps<S>, components: usize) -> Result<Self> {
        let (center, scale) = steps.location();
        let (low, high) = steps.mean_bounds();
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::config("mixture scale", scale, "the location scale must be finite and positive"));
        }
        if !(low.is_finite() && high.is_finite() && low < center && center < high) {
            return Err(Error::config(
                "mixture mean bounds",
                format!("({low}, {high}) around centre {center}"),
                "the bounds must be finite with low < centre < high",
            ));
        }
        Ok(MixtureHead { heads: steps.heads(), dim: steps.dim(), components, center, scale, low, high })
    }

    /// Raw outputs per coordinate (`3K`).
    pub fn block(&self) -> usize {
        3 * self.components
    }

    /// Raw outputs per state (`G · D · 3K`).
    pub fn rows(&self) -> usize {
        self.heads * self.dim * self.block()
    }

    /// The offset of the block of coordinate `coord` of head `head` among the head's rows.
    pub fn offset(&self, head: usize, coord: usize) -> usize {
        (head * self.dim + coord) * self.block()
    }

    /// The mixture of one coordinate from its raw block (`raw.len() == 3K`; the policy's `f32`
    /// outputs widened to `f64`).
    pub fn mixture(&self, raw: &[f64]) -> Mixture {
        let k = self.components;
        let max = raw[..k].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_norm = max + raw[..k].iter().map(|l| (l - max).exp()).sum::<f64>().ln();
        let log_scale = self.scale.ln();
        let sigmoids: Vec<f64> = raw[2 * k..3 * k].iter().map(|&r| sigmoid(r)).collect();
        // μ = lo + (hi − lo) · sigmoid(a + b m) with μ(0) = c and μ'(0) = s.
        let width = self.high - self.low;
        let p = (self.center - self.low) / width;
        let (a, b) = ((p / (1.0 - p)).ln(), self.scale / (width * p * (1.0 - p)));
        let squashed: Vec<f64> = raw[k..2 * k].iter().map(|&m| sigmoid(a + b * m)).collect();
        Mixture {
            log_weights: raw[..k].iter().map(|l| l - log_norm).collect(),
            means: squashed.iter().map(|g| self.low + width * g).collect(),
            log_stds: sigmoids.iter().map(|g| log_scale + LOG_STD_MIN + (LOG_STD_MAX - LOG_STD_MIN) * g).collect(),
            mean_slopes: squashed.iter().map(|g| width * g * (1.0 - g) * b).collect(),
            sigmoids,
        }
    }
}

/// The mixture of one coordinate, in `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    /// `log w_k`.
    pub log_weights: Vec<f64>,
    /// `μ_k`.
    pub means: Vec<f64>,
    /// `log σ_k`.
    pub log_stds: Vec<f64>,
    sigmoids: Vec<f64>,
    /// `dμ_k / dm_k`.
    mean_slopes: Vec<f64>,
}

impl Mixture {
    /// `log w_k + log N(x; μ_k, σ_k²)` per component.
    fn joint(&self, x: f64) -> Vec<f64> {
        (0..self.means.len())
            .map(|k| {
                let z = (x - self.means[k]) * (-self.log_stds[k]).exp();
                self.log_weights[k] - HALF_LOG_TWO_PI - self.log_stds[k] - 0.5 * z * z
            })
            .collect()
    }

    /// `log p(x)`.
    pub fn log_density(&self, x: f64) -> f64 {
        logsumexp(&self.joint(x))
    }

    /// Adds `coef · ∂ log p(x) / ∂ raw` to `d_raw` (the `3K` raw outputs of this coordinate):
    /// with responsibilities `r_k = w_k N_k / p`, `r_k − w_k` on the logits,
    /// `r_k (x − μ_k) / σ_k² · dμ_k/dm_k` on the means and `r_k ((x − μ_k)² / σ_k² − 1) · (dlog σ_k / dρ_k)`
    /// on the log-std parameters.
    pub fn add_log_density_grad(&self, x: f64, coef: f64, d_raw: &mut [f64]) {
        let k = self.means.len();
        let joint = self.joint(x);
        let log_p = logsumexp(&joint);
        let span = LOG_STD_MAX - LOG_STD_MIN;
        for c in 0..k {
            let resp = (joint[c] - log_p).exp();
            let z = (x - self.means[c]) * (-self.log_stds[c]).exp();
            d_raw[c] += coef * (resp - self.log_weights[c].exp());
            d_raw[k + c] += coef * resp * z * (-self.log_stds[c]).exp() * self.mean_slopes[c];
            d_raw[2 * k + c] += coef * resp * (z * z - 1.0) * span * self.sigmoids[c] * (1.0 - self.sigmoids[c]);
        }
    }

    /// Draws `x ~ p`: a component by its weight, then a Gaussian value.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        let mut u = rng.random::<f64>();
        let mut chosen = self.means.len() - 1;
        for (c, lw) in self.log_weights.iter().enumerate() {
            let w = lw.exp();
            if u < w {
                chosen = c;
                break;
            }
            u -= w;
        }
        let z: f64 = rng.sample(StandardNormal);
        self.means[chosen] + self.log_stds[chosen].exp() * z
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logsumexp(values: &[f64]) -> f64 {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn head() -> MixtureHead {
        MixtureHead { heads: 1, dim: 1, components: 3, center: -2.0, scale: 1.5, low: -9.0, high: 1.0 }
    }

    const RAW: [f64; 9] = [0.3, -0.8, 1.1, -0.4, 0.2, 0.9, 0.5, -1.3, 0.1];

    #[test]
    fn density_integrates_to_one_and_matches_the_formula() {
        let m = head().mixture(&RAW);
        let (lo, hi, n) = (-25.0, 20.0, 200_000);
        let dx = (hi - lo) / f64::from(n);
        let total: f64 = (0..n).map(|i| m.log_density(lo + (f64::from(i) + 0.5) * dx).exp() * dx).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        // Independent evaluation at one point.
        let x = -1.7;
        let w: Vec<f64> = RAW[..3].iter().map(|&l| l.exp()).collect();
        let wsum: f64 = w.iter().sum();
        let mut p = 0.0f64;
        for k in 0..3 {
            // μ = lo + (hi − lo) sigmoid(a + b m) with μ(0) = −2, μ'(0) = 1.5.
            let (at, width) = (0.7, 10.0);
            let (a, b) = ((at / (1.0f64 - at)).ln(), 1.5 / (width * at * (1.0 - at)));
            let mu = -9.0 + width / (1.0 + (-(a + b * RAW[3 + k])).exp());
            let g = 1.0 / (1.0 + (-RAW[6 + k]).exp());
            let sigma = 1.5 * (LOG_STD_MIN + (LOG_STD_MAX - LOG_STD_MIN) * g).exp();
            p += w[k] / wsum * (-(x - mu) * (x - mu) / (2.0 * sigma * sigma)).exp()
                / (sigma * (2.0 * std::f64::consts::PI).sqrt());
        }
        assert!((m.log_density(x) - p.ln()).abs() < 1e-12);
    }

    #[test]
    fn means_start_at_the_centre_with_the_scale_as_slope_and_stay_within_bounds() {
        let h = head();
        let mean = |m: f64| h.mixture(&[0.0, 0.0, 0.0, m, 0.0, 0.0, 0.0, 0.0, 0.0]).means[0];
        assert!((mean(0.0) + 2.0).abs() < 1e-12);
        assert!(((mean(1e-6) - mean(-1e-6)) / 2e-6 - 1.5).abs() < 1e-6);
        for m in [-1e6, -50.0, 50.0, 1e6] {
            assert!((-9.0..=1.0).contains(&mean(m)), "raw {m}: mean {}", mean(m));
        }
    }

    struct Steps((f64, f64), (f64, f64));
    impl ContinuousSteps<()> for Steps {
        fn dim(&self) -> usize {
            1
        }
        fn count(&self, _: &(), _: usize) -> usize {
            1
        }
        fn step_with(&self, _: &mut (), _: usize, _: &[f64]) -> Result<()> {
            Ok(())
        }
        fn location(&self) -> (f64, f64) {
            self.0
        }
        fn mean_bounds(&self) -> (f64, f64) {
            self.1
        }
    }

    #[test]
    fn inconsistent_locations_are_rejected() {
        assert!(MixtureHead::new(&Steps((0.0, 1.0), (-1.0, 1.0)), 2).is_ok());
        for bad in [Steps((0.0, 0.0), (-1.0, 1.0)), Steps((0.0, 1.0), (0.0, 1.0)), Steps((f64::NAN, 1.0), (-1.0, 1.0))]
        {
            let err = MixtureHead::new(&bad, 2).unwrap_err().to_string();
            assert!(err.contains("mixture"), "{err}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let h = head();
        for &x in &[-3.5, -1.7, 0.4] {
            let mut grad = vec![0.0; 9];
            h.mixture(&RAW).add_log_density_grad(x, 1.5, &mut grad);
            for i in 0..9 {
                let eps = 1e-6;
                let eval = |delta: f64| {
                    let mut raw = RAW;
                    raw[i] += delta;
                    h.mixture(&raw).log_density(x)
                };
                let fd = 1.5 * (eval(eps) - eval(-eps)) / (2.0 * eps);
                assert!((fd - grad[i]).abs() < 1e-6 * (1.0 + fd.abs()), "x {x} raw {i}: fd {fd} vs {}", grad[i]);
            }
        }
    }

    #[test]
    fn samples_follow_the_density() {
        let m = head().mixture(&RAW);
        let mut rng = stream(3, Purpose::Eval, &[]);
        let n = 100_000;
        let mut xs: Vec<f64> = (0..n).map(|_| m.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        // Kolmogorov–Smirnov distance against the CDF by quadrature.
        let (lo, steps) = (-30.0, 400_000);
        let dx = 60.0 / f64::from(steps);
        let (mut cdf, mut next, mut ks) = (0.0f64, 0usize, 0.0f64);
        for i in 0..steps {
            let right = lo + f64::from(i + 1) * dx;
            cdf += m.log_density(right - 0.5 * dx).exp() * dx;
            while next < n && xs[next] <= right {
                next += 1;
            }
            ks = ks.max((next as f64 / n as f64 - cdf).abs());
        }
        // 1.63 / sqrt(n) is the 1% critical value.
        assert!(ks < 1.63 / (n as f64).sqrt(), "KS {ks}");
    }
}
