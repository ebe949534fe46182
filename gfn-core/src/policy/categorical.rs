//! Masked categorical distributions over logits, in `f64`.

use rand::Rng as _;

use crate::rng::Rng;

/// Writes the masked log-softmax of `logits` into `log_probs`: masked-out entries get `-inf`.
/// Returns `false` (and writes `-inf` everywhere) when no entry is allowed.
pub fn masked_log_softmax_into(logits: &[f32], mask: &[bool], log_probs: &mut [f64]) -> bool {
    debug_assert_eq!(logits.len(), mask.len());
    debug_assert_eq!(logits.len(), log_probs.len());
    let mut max = f64::NEG_INFINITY;
    for (&l, &m) in logits.iter().zip(mask) {
        if m {
            max = max.max(f64::from(l));
        }
    }
    if max == f64::NEG_INFINITY {
        log_probs.fill(f64::NEG_INFINITY);
        return false;
    }
    let mut sum = 0.0;
    for (&l, &m) in logits.iter().zip(mask) {
        if m {
            sum += (f64::from(l) - max).exp();
        }
    }
    let log_norm = max + sum.ln();
    for ((lp, &l), &m) in log_probs.iter_mut().zip(logits).zip(mask) {
        *lp = if m { f64::from(l) - log_norm } else { f64::NEG_INFINITY };
    }
    true
}

/// Writes `log P_B` over the backward `mask`: the masked log-softmax of learned backward `logits`,
/// or, without logits, the uniform distribution over the allowed (parent) actions.
pub fn backward_log_probs_into(logits: Option<&[f32]>, mask: &[bool], log_probs: &mut [f64]) {
    match logits {
        Some(logits) => {
            masked_log_softmax_into(logits, mask, log_probs);
        }
        None => {
            let log_uniform = -(mask.iter().filter(|m| **m).count() as f64).ln();
            for (lp, &m) in log_probs.iter_mut().zip(mask) {
                *lp = if m { log_uniform } else { f64::NEG_INFINITY };
            }
        }
    }
}

/// How actions are drawn during sampling: the policy tempered by `temperature`, mixed with the
/// uniform distribution over allowed actions with weight `epsilon`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exploration {
    /// Probability of a uniformly random allowed action.
    pub epsilon: f64,
    /// Logit temperature (1 = on-policy).
    pub temperature: f64,
}

impl Default for Exploration {
    fn default() -> Self {
        Exploration { epsilon: 0.0, temperature: 1.0 }
    }
}

impl Exploration {
    /// Whether draws follow the policy exactly.
    pub fn is_on_policy(&self) -> bool {
        self.epsilon == 0.0 && self.temperature == 1.0
    }
}

/// Draws an allowed action from the policy `log_probs` (masked log-softmax) under `exploration`.
/// `scratch` must have the same length as `log_probs`.
pub fn sample_action(
    log_probs: &[f64],
    mask: &[bool],
    exploration: Exploration,
    rng: &mut Rng,
    scratch: &mut [f64],
) -> usize {
    let allowed = mask.iter().filter(|m| **m).count();
    debug_assert!(allowed > 0);
    if exploration.epsilon > 0.0 && rng.random::<f64>() < exploration.epsilon {
        let k = rng.random_range(0..allowed);
        return mask.iter().enumerate().filter(|(_, m)| **m).nth(k).map(|(a, _)| a).unwrap_or(0);
    }
    let probs: &[f64] = if exploration.temperature == 1.0 {
        for (p, &lp) in scratch.iter_mut().zip(log_probs) {
            *p = lp.exp();
        }
        scratch
    } else {
        let inv_t = 1.0 / exploration.temperature;
        let max = log_probs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (p, &lp) in scratch.iter_mut().zip(log_probs) {
            *p = if lp == f64::NEG_INFINITY { 0.0 } else { ((lp - max) * inv_t).exp() };
        }
        scratch
    };
    let total: f64 = probs.iter().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (a, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            last = a;
            if u < p {
                return a;
            }
            u -= p;
        }
    }
    last
}

/// Adds the logit gradient of `coef * log p(action)` to `d_logits`, where `log_probs` is the
/// masked log-softmax: `coef * (onehot(action) - p)` on allowed entries.
pub fn add_log_prob_grad(log_probs: &[f64], action: usize, coef: f64, d_logits: &mut [f32]) {
    if coef == 0.0 {
        return;
    }
    for (d, &lp) in d_logits.iter_mut().zip(log_probs) {
        if lp > f64::NEG_INFINITY {
            *d -= (coef * lp.exp()) as f32;
        }
    }
    d_logits[action] += coef as f32;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn log_softmax_masks_and_normalises() {
        let mut out = [0.0; 4];
        assert!(masked_log_softmax_into(&[1.0, 2.0, 3.0, 100.0], &[true, true, true, false], &mut out));
        let total: f64 = out[..3].iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert_eq!(out[3], f64::NEG_INFINITY);
        assert!(!masked_log_softmax_into(&[1.0], &[false], &mut out[..1]));
    }

    #[test]
    fn sampling_follows_probabilities_and_masks() {
        let mut lp = [0.0; 3];
        masked_log_softmax_into(&[0.0, (3.0f32).ln(), 5.0], &[true, true, false], &mut lp);
        let mut rng = stream(1, Purpose::Eval, &[]);
        let mut scratch = [0.0; 3];
        let mut counts = [0usize; 3];
        for _ in 0..40_000 {
            counts[sample_action(&lp, &[true, true, false], Exploration::default(), &mut rng, &mut scratch)] += 1;
        }
        assert_eq!(counts[2], 0);
        let frac = counts[1] as f64 / 40_000.0;
        assert!((frac - 0.75).abs() < 0.01, "{frac}");
        // epsilon = 1: uniform over allowed actions.
        let explore = Exploration { epsilon: 1.0, temperature: 1.0 };
        let mut counts = [0usize; 3];
        for _ in 0..40_000 {
            counts[sample_action(&lp, &[true, true, false], explore, &mut rng, &mut scratch)] += 1;
        }
        assert!((counts[1] as f64 / 40_000.0 - 0.5).abs() < 0.01);
    }

    #[test]
    fn log_prob_gradient_matches_finite_differences() {
        let logits = [0.3f32, -1.2, 0.7, 2.0];
        let mask = [true, false, true, true];
        let mut lp = [0.0; 4];
        masked_log_softmax_into(&logits, &mask, &mut lp);
        let mut grad = [0.0f32; 4];
        add_log_prob_grad(&lp, 2, 1.5, &mut grad);
        for k in 0..4 {
            let h = 1e-3f32;
            let (mut up, mut down) = (logits, logits);
            up[k] += h;
            down[k] -= h;
            let (mut lu, mut ld) = ([0.0; 4], [0.0; 4]);
            masked_log_softmax_into(&up, &mask, &mut lu);
            masked_log_softmax_into(&down, &mask, &mut ld);
            let fd = 1.5 * (lu[2] - ld[2]) / (2.0 * f64::from(h));
            assert!((fd - f64::from(grad[k])).abs() < 1e-3, "{k}: {fd} vs {}", grad[k]);
        }
    }
}
