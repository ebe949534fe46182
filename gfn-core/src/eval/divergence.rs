//! Distances between discrete distributions given as probability vectors.

/// `Σ |p − q|`.
pub fn l1(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum()
}

/// Total variation `½ Σ |p − q|`.
pub fn total_variation(p: &[f64], q: &[f64]) -> f64 {
    0.5 * l1(p, q)
}

/// `KL(p ‖ q) = Σ p log(p / q)` in nats (`+inf` if `q = 0` where `p > 0`).
pub fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .map(|(&a, &b)| {
            if a <= 0.0 {
                0.0
            } else if b <= 0.0 {
                f64::INFINITY
            } else {
                a * (a / b).ln()
            }
        })
        .sum()
}

/// Jensen–Shannon divergence in nats (bounded by `ln 2`).
pub fn jsd(p: &[f64], q: &[f64]) -> f64 {
    let m: Vec<f64> = p.iter().zip(q).map(|(a, b)| 0.5 * (a + b)).collect();
    0.5 * kl(p, &m) + 0.5 * kl(q, &m)
}

/// `log Σ exp(x)`, stable; `-inf` for an empty slice or all `-inf`.
pub fn logsumexp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergences_of_known_pairs() {
        let p = [0.5, 0.5, 0.0];
        let q = [0.25, 0.25, 0.5];
        assert!((l1(&p, &q) - 1.0).abs() < 1e-12);
        assert!((total_variation(&p, &q) - 0.5).abs() < 1e-12);
        assert!((kl(&p, &q) - 2f64.ln()).abs() < 1e-12);
        assert_eq!(kl(&q, &p), f64::INFINITY);
        assert!(jsd(&p, &q) > 0.0 && jsd(&p, &q) < 2f64.ln());
        assert!(jsd(&p, &p).abs() < 1e-15);
        assert!((jsd(&[1.0, 0.0], &[0.0, 1.0]) - 2f64.ln()).abs() < 1e-12);
        assert!((logsumexp(&[0.0, 0.0]) - 2f64.ln()).abs() < 1e-12);
        assert_eq!(logsumexp(&[]), f64::NEG_INFINITY);
    }
}
