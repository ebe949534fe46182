//! Fixed-length token sequences built left to right (ALGORITHMS §6.4).

use gfn_core::env::{Enumerable, Environment};
use gfn_core::rng::{Purpose, stream};
use gfn_core::{Error, Result};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::sequence_core::{append, backward_mask, forward_mask, pop};

/// Sequence-generation parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceConfig {
    /// Sequence length.
    pub length: usize,
    /// Vocabulary size (at most 255).
    pub vocab: usize,
    /// Seed of the reward tables.
    pub seed: u64,
}

impl Default for SequenceConfig {
    fn default() -> Self {
        SequenceConfig { length: 4, vocab: 6, seed: 0 }
    }
}

/// Sequences of `length` tokens from a vocabulary of `vocab`, appended left to right (the DAG
/// is a tree); a full sequence may only exit.
///
/// `log R(x) = Σ_i u[i][x_i] + Σ_{i>0} b[x_{i−1}][x_i]` with position utilities `u ∼ U(−1, 1)`
/// and bigram couplings `b ∼ U(−1, 1)` drawn from the seed: several well-separated modes.
/// Features: one-hot token per position.
#[derive(Debug, Clone)]
pub struct SequenceGeneration {
    config: SequenceConfig,
    position: Vec<f64>,
    bigram: Vec<f64>,
}

impl SequenceGeneration {
    /// Validates `config`, draws the reward tables and builds the environment.
    pub fn new(config: SequenceConfig) -> Result<Self> {
        if config.length == 0 {
            return Err(Error::config("length", config.length, "must be positive"));
        }
        if config.vocab == 0 || config.vocab > 255 {
            return Err(Error::config("vocab", config.vocab, "must be in 1..=255"));
        }
        let mut rng = stream(config.seed, Purpose::User, &[0x5E9]);
        let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
        let position = draw(config.length * config.vocab);
        let bigram = draw(config.vocab * config.vocab);
        Ok(SequenceGeneration { config, position, bigram })
    }
}

impl Environment for SequenceGeneration {
    type State = Vec<u8>;

    fn name(&self) -> String {
        "sequences".into()
    }

    fn action_count(&self) -> usize {
        self.config.vocab + 1
    }

    fn exit_action(&self) -> usize {
        self.config.vocab
    }

    fn feature_dim(&self) -> usize {
        self.config.length * self.config.vocab
    }

    fn source(&self) -> Vec<u8> {
        Vec::new()
    }

    fn forward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        forward_mask(s, self.config.vocab, self.config.length, mask);
    }

    fn backward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        backward_mask(s, mask);
    }

    fn step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        append(s, action, self.config.vocab, self.config.length)
    }

    fn backward_step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        pop(s, action)
    }

    fn log_reward(&self, s: &Vec<u8>) -> f64 {
        let v = self.config.vocab;
        let unary: f64 = s.iter().enumerate().map(|(i, &t)| self.position[i * v + t as usize]).sum();
        let pairs: f64 = s.windows(2).map(|w| self.bigram[w[0] as usize * v + w[1] as usize]).sum();
        unary + pairs
    }

    fn encode(&self, s: &Vec<u8>, out: &mut [f32]) {
        for (i, &t) in s.iter().enumerate() {
            out[i * self.config.vocab + t as usize] = 1.0;
        }
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("sequences:length={}:vocab={}:seed={}", c.length, c.vocab, c.seed)
    }
}

impl Enumerable for SequenceGeneration {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_enumerates() {
        let env = SequenceGeneration::new(SequenceConfig { length: 3, vocab: 4, seed: 2 }).expect("valid");
        let graph = env.state_graph().expect("enumerable");
        assert_eq!(graph.len(), 1 + 4 + 16 + 64);
        assert_eq!(graph.terminals().count(), 64);
        assert!(SequenceGeneration::new(SequenceConfig { vocab: 0, ..Default::default() }).is_err());
    }
}
