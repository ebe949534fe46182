//! PhyloGFN's cascading reward-temperature schedule (DOMAINS §1.3), independent of the trainer.
//!
//! Every [`CascadingAnnealing::interval`] epochs, the temperature is halved while the model's
//! probability of the best tree seen so far, `exp(log R_best − log Z)`, is below a threshold and the
//! temperature is above a floor. Rebuild the environment with [`super::env::PhyloEnv::with_temperature`]
//! when the temperature changes.

/// The parameters of the cascading schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CascadingAnnealing {
    /// Halve only while the best tree's model probability is below this (PhyloGFN: 1e-4).
    pub threshold: f64,
    /// Never go below this temperature (PhyloGFN: 0.25).
    pub min_temperature: f64,
}

impl Default for CascadingAnnealing {
    fn default() -> Self {
        CascadingAnnealing { threshold: 1e-4, min_temperature: 0.25 }
    }
}

impl CascadingAnnealing {
    /// The number of epochs between checks for a run of `epochs` epochs: `max(30, epochs / 5)`.
    pub fn interval(epochs: u64) -> u64 {
        (epochs / 5).max(30)
    }

    /// The temperature after a check at `temperature`, given the tempered log-reward of the best
    /// tree seen and the learned `log Z`: halved if `log R_best − log Z < log threshold` and
    /// `temperature > min_temperature`, else unchanged.
    pub fn next_temperature(&self, temperature: f64, log_reward_best: f64, log_z: f64) -> f64 {
        if log_reward_best - log_z < self.threshold.ln() && temperature > self.min_temperature {
            temperature / 2.0
        } else {
            temperature
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_only_while_the_best_tree_is_improbable() {
        let a = CascadingAnnealing::default();
        assert_eq!(a.next_temperature(4.0, -20.0, 0.0), 2.0);
        assert_eq!(a.next_temperature(4.0, -1.0, 0.0), 4.0);
        assert_eq!(a.next_temperature(0.25, -20.0, 0.0), 0.25);
        assert_eq!((CascadingAnnealing::interval(100), CascadingAnnealing::interval(500)), (30, 100));
    }
}
