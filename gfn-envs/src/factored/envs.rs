//! Factors that are the rewards of environments sharing one dynamics.

use gfn_core::Result;
use gfn_core::env::Environment;
use gfn_core::ep::{Factored, RewardFactors};

use super::factor_seed;
use crate::multisets::{MultisetConfig, Multisets};
use crate::sequences::{SequenceConfig, SequenceGeneration};

/// Factor `n` is the reward of `envs[n]`; every environment must have the same dynamics (they
/// differ only in the seed of their reward).
#[derive(Debug, Clone)]
pub struct EnvFactors<E> {
    envs: Vec<E>,
}

impl<E: Environment + std::fmt::Debug> RewardFactors<E::State> for EnvFactors<E> {
    fn count(&self) -> usize {
        self.envs.len()
    }

    fn name(&self, i: usize) -> String {
        self.envs[i].signature()
    }

    fn log_factor(&self, state: &E::State, i: usize) -> f64 {
        self.envs[i].log_reward(state)
    }

    fn signature(&self) -> String {
        let names: Vec<String> = self.envs.iter().map(|e| e.signature()).collect();
        format!("factors[{}]", names.join(","))
    }
}

/// Multisets with `factors` utility vectors; see the [module documentation](super).
pub type FactoredMultisets = Factored<Multisets, EnvFactors<Multisets>>;

/// Sequences with `factors` pairs of position and bigram tables; see the
/// [module documentation](super).
pub type FactoredSequences = Factored<SequenceGeneration, EnvFactors<SequenceGeneration>>;

/// Multisets of `config` (whose own seed fixes nothing but the unused base reward) with `factors`
/// factors seeded from `config.seed`.
pub fn factored_multisets(config: MultisetConfig, factors: usize) -> Result<FactoredMultisets> {
    let envs = (0..factors)
        .map(|n| Multisets::new(MultisetConfig { seed: factor_seed(config.seed, n), ..config.clone() }))
        .collect::<Result<Vec<_>>>()?;
    Factored::new(Multisets::new(config)?, EnvFactors { envs })
}

/// Sequences of `config` with `factors` factors seeded from `config.seed`.
pub fn factored_sequences(config: SequenceConfig, factors: usize) -> Result<FactoredSequences> {
    let envs = (0..factors)
        .map(|n| SequenceGeneration::new(SequenceConfig { seed: factor_seed(config.seed, n), ..config.clone() }))
        .collect::<Result<Vec<_>>>()?;
    Factored::new(SequenceGeneration::new(config)?, EnvFactors { envs })
}
