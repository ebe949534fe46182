//! Parameter initialisation schemes.

use nalgebra::DMatrix;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How a linear layer's weights (`out × in`) and biases (`out × 1`) are drawn.
///
/// Draws are taken weights first, in row-major order (PyTorch's layout), then biases, so a seeded
/// generator always produces the same network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weights and biases `U(±1/√fan_in)`.
    #[default]
    KaimingUniform,
    /// Glorot: weights `U(±√(6/(fan_in + fan_out)))`, biases 0.
    XavierUniform,
    /// He: weights `N(0, 2/fan_in)`, biases 0.
    KaimingNormal,
}

impl Init {
    /// A `fan_out × fan_in` weight matrix.
    pub fn weight(self, fan_out: usize, fan_in: usize, rng: &mut impl Rng) -> DMatrix<f32> {
        let n = fan_out * fan_in;
        let values: Vec<f32> = match self {
            Init::KaimingUniform => uniform(n, 1.0 / (fan_in as f64).sqrt(), rng),
            Init::XavierUniform => uniform(n, (6.0 / (fan_in + fan_out) as f64).sqrt(), rng),
            Init::KaimingNormal => {
                let std = (2.0 / fan_in as f64).sqrt();
                (0..n).map(|_| (std * standard_normal(rng)) as f32).collect()
            }
        };
        DMatrix::from_row_slice(fan_out, fan_in, &values)
    }

    /// A `fan_out × 1` bias vector.
    pub fn bias(self, fan_out: usize, fan_in: usize, rng: &mut impl Rng) -> DMatrix<f32> {
        match self {
            Init::KaimingUniform => DMatrix::from_vec(fan_out, 1, uniform(fan_out, 1.0 / (fan_in as f64).sqrt(), rng)),
            Init::XavierUniform | Init::KaimingNormal => DMatrix::zeros(fan_out, 1),
        }
    }
}

/// `n` draws from `U(−bound, bound)` in f32 (`bound` > 0, finite).
fn uniform(n: usize, bound: f64, rng: &mut impl Rng) -> Vec<f32> {
    let bound = bound as f32;
    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
}

/// One `N(0, 1)` draw (Box–Muller; two uniforms per draw).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn draws_respect_their_bounds_and_moments() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let w = Init::KaimingUniform.weight(64, 16, &mut rng);
        assert!(w.iter().all(|&x| x.abs() <= 0.25));
        let b = Init::KaimingUniform.bias(64, 16, &mut rng);
        assert!(b.iter().all(|&x| x.abs() <= 0.25) && b.iter().any(|&x| x != 0.0));
        let w = Init::XavierUniform.weight(30, 20, &mut rng);
        assert!(w.iter().all(|&x| x.abs() <= (6.0f32 / 50.0).sqrt()));
        assert!(Init::XavierUniform.bias(30, 20, &mut rng).iter().all(|&x| x == 0.0));
        let w = Init::KaimingNormal.weight(200, 50, &mut rng);
        let var = w.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / 10_000.0;
        assert!((var - 0.04).abs() < 0.004, "variance {var}");
    }

    #[test]
    fn serde_names_are_snake_case() {
        assert_eq!(serde_json::to_string(&Init::KaimingUniform).unwrap(), "\"kaiming_uniform\"");
        let init: Init = serde_json::from_str("\"xavier_uniform\"").unwrap();
        assert_eq!(init, Init::XavierUniform);
    }
}
