//! Temperature-conditioned training (DOMAINS §1.3, PhyloGFN's conditional variant): one policy and
//! one `log Z` per temperature of a fixed set, trained on batches whose reward temperature is drawn
//! from that set.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the temperature of each training batch is drawn from [`ConditionConfig::temperatures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConditionSchedule {
    /// Every temperature with the same probability, throughout the run.
    #[default]
    Uniform,
    /// Around a centre `μ` that moves linearly in `log₂ T` from the highest temperature (at the
    /// first iteration) to the lowest (at the last): `P(T) ∝ exp(−(log₂ T − μ)² / (2·spread²))`.
    Annealed,
}

impl std::fmt::Display for ConditionSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConditionSchedule::Uniform => "uniform",
            ConditionSchedule::Annealed => "annealed",
        })
    }
}

impl std::str::FromStr for ConditionSchedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "uniform" => Ok(ConditionSchedule::Uniform),
            "annealed" => Ok(ConditionSchedule::Annealed),
            other => Err(Error::config("condition.schedule", other, "unknown schedule; expected uniform or annealed")),
        }
    }
}

/// Temperature conditioning (`[train.condition]` in TOML files); off while `temperatures` is empty.
///
/// Each training batch draws one reward temperature `T` from `temperatures` (from its own seeded
/// stream, so runs stay deterministic), rebuilds the environment at `T` with
/// [`Environment::with_reward_temperature`] and trains a `log Z` of its own for `T` (a table, one
/// entry per temperature: exact on a finite set). Each temperature's `log Z` starts at the
/// importance-sampling estimate `log mean w`, `w = R·P_B/P_F`, of the first batch drawn at it
/// (tempered log-partition functions differ by orders of magnitude, so one shared `log_z_init`
/// leaves the others far off). The policy sees `T` only through the
/// environment's features, so the environment must encode its temperature (the phylogenetics
/// environment does with `temperature_feature = true`); the trainer checks that the source
/// features differ between temperatures.
///
/// Between steps the trainer stands at the **reference** temperature, the lowest of the set (the
/// target): [`Trainer::log_z`], evaluation, the best object and the replay buffer's log-rewards
/// refer to it. [`Trainer::condition_on`] moves to another temperature of the set, e.g. to sample
/// or evaluate there.
///
/// [`Environment::with_reward_temperature`]: crate::env::Environment::with_reward_temperature
/// [`Trainer::log_z`]: super::Trainer::log_z
/// [`Trainer::condition_on`]: super::Trainer::condition_on
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConditionConfig {
    /// The temperatures (each finite, `> 0`, distinct); empty: no conditioning.
    pub temperatures: Vec<f64>,
    /// How each batch's temperature is drawn.
    pub schedule: ConditionSchedule,
    /// [`ConditionSchedule::Annealed`]: the standard deviation of the draw around its centre, in
    /// `log₂ T` (`> 0`; 0.5 puts about 73% of the mass on the nearest temperature of a set of
    /// halvings).
    pub spread: f64,
}

impl Default for ConditionConfig {
    fn default() -> Self {
        ConditionConfig { temperatures: Vec::new(), schedule: ConditionSchedule::Uniform, spread: 0.5 }
    }
}

impl ConditionConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        for (k, &t) in self.temperatures.iter().enumerate() {
            if !(t.is_finite() && t > 0.0) {
                return Err(Error::config("condition.temperatures", t, "every temperature must be finite and > 0"));
            }
            if self.temperatures[..k].contains(&t) {
                return Err(Error::config("condition.temperatures", t, "is listed twice"));
            }
        }
        if !(self.spread.is_finite() && self.spread > 0.0) {
            return Err(Error::config("condition.spread", self.spread, "must be finite and > 0"));
        }
        Ok(())
    }

    /// Whether training is temperature-conditioned.
    pub fn is_active(&self) -> bool {
        !self.temperatures.is_empty()
    }

    /// The index of the reference (lowest) temperature, `None` without conditioning.
    pub fn reference(&self) -> Option<usize> {
        (0..self.temperatures.len()).min_by(|&a, &b| self.temperatures[a].total_cmp(&self.temperatures[b]))
    }

    /// The index of `temperature` in the set, or an error naming it and the set.
    pub fn index_of(&self, temperature: f64) -> Result<usize> {
        self.temperatures.iter().position(|&t| t == temperature).ok_or_else(|| {
            Error::config(
                "temperature",
                temperature,
                format!("is not one of the conditioning temperatures {:?}", self.temperatures),
            )
        })
    }

    /// The probability of each temperature at `iteration` of a run of `iterations`.
    pub fn probabilities(&self, iteration: u64, iterations: u64) -> Vec<f64> {
        let n = self.temperatures.len();
        match self.schedule {
            ConditionSchedule::Uniform => vec![1.0 / n as f64; n],
            ConditionSchedule::Annealed => {
                let log2: Vec<f64> = self.temperatures.iter().map(|t| t.log2()).collect();
                let (lo, hi) =
                    log2.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
                let progress =
                    if iterations <= 1 { 1.0 } else { (iteration as f64 / (iterations - 1) as f64).min(1.0) };
                let centre = hi + progress * (lo - hi);
                let weights: Vec<f64> =
                    log2.iter().map(|x| (-(x - centre).powi(2) / (2.0 * self.spread * self.spread)).exp()).collect();
                let total: f64 = weights.iter().sum();
                weights.iter().map(|w| w / total).collect()
            }
        }
    }

    /// Draws the index of the temperature of the batch at `iteration` of a run of `iterations`.
    pub fn draw(&self, iteration: u64, iterations: u64, rng: &mut impl Rng) -> usize {
        let p = self.probabilities(iteration, iterations);
        let u: f64 = rng.random();
        let mut cumulative = 0.0;
        for (k, pk) in p.iter().enumerate() {
            cumulative += pk;
            if u < cumulative {
                return k;
            }
        }
        p.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn config(temperatures: &[f64], schedule: ConditionSchedule) -> ConditionConfig {
        ConditionConfig { temperatures: temperatures.to_vec(), schedule, ..ConditionConfig::default() }
    }

    #[test]
    fn uniform_draws_cover_the_set_evenly() {
        let c = config(&[4.0, 2.0, 1.0], ConditionSchedule::Uniform);
        assert_eq!(c.reference(), Some(2));
        let mut counts = [0usize; 3];
        let mut rng = stream(3, Purpose::User, &[]);
        for it in 0..3000 {
            counts[c.draw(it, 3000, &mut rng)] += 1;
        }
        for n in counts {
            assert!((n as f64 / 3000.0 - 1.0 / 3.0).abs() < 0.04, "{counts:?}");
        }
    }

    #[test]
    fn annealed_draws_move_from_the_highest_to_the_lowest_temperature() {
        let c = config(&[1.0, 4.0, 2.0], ConditionSchedule::Annealed);
        let start = c.probabilities(0, 101);
        let middle = c.probabilities(50, 101);
        let end = c.probabilities(100, 101);
        // Temperature 4 is index 1, temperature 1 is index 0.
        assert!(start[1] > 0.7 && start[0] < 0.01, "{start:?}");
        assert!(middle[2] > 0.7 && (middle[0] - middle[1]).abs() < 1e-12, "{middle:?}");
        assert!(end[0] > 0.7 && end[1] < 0.01, "{end:?}");
        for p in [start, middle, end] {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        assert_eq!(c.index_of(2.0).unwrap(), 2);
        assert!(c.index_of(3.0).unwrap_err().to_string().contains('3'));
        assert_eq!("annealed".parse::<ConditionSchedule>().unwrap(), ConditionSchedule::Annealed);
        assert!("linear".parse::<ConditionSchedule>().unwrap_err().to_string().contains("linear"));
    }

    #[test]
    fn invalid_values_name_the_field_and_value() {
        let bad = [
            (config(&[1.0, 0.0], ConditionSchedule::Uniform), "condition.temperatures"),
            (config(&[f64::NAN], ConditionSchedule::Uniform), "NaN"),
            (config(&[2.0, 1.0, 2.0], ConditionSchedule::Uniform), "twice"),
            (ConditionConfig { spread: 0.0, ..config(&[1.0], ConditionSchedule::Annealed) }, "condition.spread"),
        ];
        for (c, needle) in bad {
            let message = c.validate().expect_err("invalid").to_string();
            assert!(message.contains(needle), "{message:?} should name {needle}");
        }
        ConditionConfig::default().validate().expect("the defaults are valid");
        assert!(!ConditionConfig::default().is_active());
    }
}
