//! Bit sequences built word by word (TB paper §5.3 style; ALGORITHMS §6.2).

use gfn_core::env::{Enumerable, Environment};
use gfn_core::rng::{Purpose, stream};
use gfn_core::{Error, Result};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::sequence_core::{append, backward_mask, forward_mask, pop};

/// Bit-sequence parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BitSequenceConfig {
    /// Sequence length `n` in bits.
    pub length: usize,
    /// Bits appended per action `k` (`2^k` word actions); must divide `length`.
    pub word_size: usize,
    /// Number of modes.
    pub num_modes: usize,
    /// Reward temperature `T`: `log R(x) = −min_m Hamming(x, m) / T`.
    pub temperature: f64,
    /// Seed of the mode set.
    pub seed: u64,
}

impl Default for BitSequenceConfig {
    fn default() -> Self {
        BitSequenceConfig { length: 120, word_size: 8, num_modes: 60, temperature: 1.0, seed: 0 }
    }
}

/// Bit sequences of `n` bits appended `k` at a time, left to right; a full sequence may only exit.
///
/// Modes: `num_modes` sequences, each the concatenation of `n/k` words drawn uniformly (seeded)
/// from five `k`-bit patterns generalising the TB paper's {00000000, 11111111, 11110000,
/// 00001111, 00111100}: all zeros, all ones, ones in the first half, ones in the second half,
/// ones in the middle half. The reward is `log R(x) = −min_m Hamming(x, m) / T` (torchgfn's
/// Hamming form). Features: two slots per bit (`is one`, `is zero`; both 0 while unset).
#[derive(Debug, Clone)]
pub struct BitSequence {
    config: BitSequenceConfig,
    words: usize,
    modes: Vec<Vec<bool>>,
}

impl BitSequence {
    /// Validates `config`, draws the modes and builds the environment.
    pub fn new(config: BitSequenceConfig) -> Result<Self> {
        if !(1..=8).contains(&config.word_size) {
            return Err(Error::config("word_size", config.word_size, "must be in 1..=8"));
        }
        if config.length == 0 || !config.length.is_multiple_of(config.word_size) {
            return Err(Error::config(
                "length",
                config.length,
                format!("must be a positive multiple of word_size {}", config.word_size),
            ));
        }
        if config.num_modes == 0 {
            return Err(Error::config("num_modes", config.num_modes, "must be positive"));
        }
        if !(config.temperature.is_finite() && config.temperature > 0.0) {
            return Err(Error::config("temperature", config.temperature, "must be positive and finite"));
        }
        let k = config.word_size;
        let patterns: Vec<Vec<bool>> = vec![
            vec![false; k],
            vec![true; k],
            (0..k).map(|i| i < k / 2).collect(),
            (0..k).map(|i| i >= k / 2).collect(),
            (0..k).map(|i| i >= k / 4 && i < k - k / 4).collect(),
        ];
        let words = config.length / k;
        let mut rng = stream(config.seed, Purpose::User, &[0xB175]);
        let modes = (0..config.num_modes)
            .map(|_| (0..words).flat_map(|_| patterns[rng.random_range(0..patterns.len())].clone()).collect())
            .collect();
        Ok(BitSequence { config, words, modes })
    }

    /// The modes, as bit vectors.
    pub fn modes(&self) -> &[Vec<bool>] {
        &self.modes
    }

    /// The bits of a (complete or partial) state.
    pub fn bits(&self, s: &[u8]) -> Vec<bool> {
        let k = self.config.word_size;
        s.iter().flat_map(|&w| (0..k).map(move |b| (w >> (k - 1 - b)) & 1 == 1)).collect()
    }
}

impl Environment for BitSequence {
    type State = Vec<u8>;

    fn name(&self) -> String {
        "bitseq".into()
    }

    fn action_count(&self) -> usize {
        (1 << self.config.word_size) + 1
    }

    fn exit_action(&self) -> usize {
        1 << self.config.word_size
    }

    fn feature_dim(&self) -> usize {
        2 * self.config.length
    }

    fn source(&self) -> Vec<u8> {
        Vec::new()
    }

    fn forward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        forward_mask(s, 1 << self.config.word_size, self.words, mask);
    }

    fn backward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        backward_mask(s, mask);
    }

    fn step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        append(s, action, 1 << self.config.word_size, self.words)
    }

    fn backward_step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        pop(s, action)
    }

    fn log_reward(&self, s: &Vec<u8>) -> f64 {
        let bits = self.bits(s);
        let d = self.modes.iter().map(|m| m.iter().zip(&bits).filter(|(a, b)| a != b).count()).min().unwrap_or(0);
        -(d as f64) / self.config.temperature
    }

    fn encode(&self, s: &Vec<u8>, out: &mut [f32]) {
        for (i, bit) in self.bits(s).into_iter().enumerate() {
            out[2 * i + usize::from(!bit)] = 1.0;
        }
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("bitseq:n={}:k={}:modes={}:T={}:seed={}", c.length, c.word_size, c.num_modes, c.temperature, c.seed)
    }
}

impl Enumerable for BitSequence {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_have_zero_distance_and_the_tree_enumerates() {
        let env = BitSequence::new(BitSequenceConfig { length: 6, word_size: 2, num_modes: 3, ..Default::default() })
            .expect("valid");
        assert_eq!(env.modes().len(), 3);
        let graph = env.state_graph().expect("enumerable");
        assert_eq!(graph.len(), 1 + 4 + 16 + 64);
        assert_eq!(graph.terminals().count(), 64);
        let best = graph.states.iter().filter(|s| s.len() == 3).map(|s| env.log_reward(s)).fold(f64::MIN, f64::max);
        assert_eq!(best, 0.0);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = |c: BitSequenceConfig| BitSequence::new(c).is_err();
        assert!(bad(BitSequenceConfig { length: 7, word_size: 2, ..Default::default() }));
        assert!(bad(BitSequenceConfig { word_size: 0, ..Default::default() }));
        assert!(bad(BitSequenceConfig { temperature: 0.0, ..Default::default() }));
    }
}
