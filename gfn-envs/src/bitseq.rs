//! Bit sequences (TB paper §5.3; `ALGORITHMS.md` §6.2).
//!
//! A sequence of `length` bits is built left to right in words of `k = word_size` bits (one of
//! `2^k` word actions per step). Once full, only exit is allowed; before, exit is not. The DAG is
//! a tree, so the backward policy is trivial.
//!
//! Modes: `num_modes` sequences, each the concatenation of `length / k` words drawn uniformly
//! (seeded) from a pattern set that generalises the paper's
//! `{00000000, 11111111, 11110000, 00001111, 00111100}` to `k` bits with `h = ⌊k/2⌋`: all zeros,
//! all ones, the top `h` bits set, the low `h` bits set, and `h` bits set in the middle (shifted
//! left by `⌊(k - h)/2⌋`); duplicates removed (so `k = 1` gives `{0, 1}`). Bits of a word are read
//! most significant first.
//!
//! Reward: `log R(x) = -min_m Hamming(x, m) / temperature` (torchgfn's form).
//!
//! Features: one-hot of the word at each position (`length/k · 2^k` slots; positions not yet
//! written stay zero). Actions: `Append { word }` has index `word`, exit has index `2^k`.

use gfn_core::rng::{Purpose, Rng, stream};
use gfn_core::{Action, Error, Result, State, environment};
use rand::Rng as _;
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

/// Parameters of [`BitSequence`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BitSequenceConfig {
    /// The number of bits `n` (a positive multiple of `word_size`).
    pub length: usize,
    /// The bits per action `k`, in `1..=8`.
    pub word_size: usize,
    /// The number of modes (at least 1).
    pub num_modes: usize,
    /// The reward temperature (positive).
    pub temperature: f64,
    /// The seed of the mode set.
    pub seed: u64,
}

impl Default for BitSequenceConfig {
    fn default() -> Self {
        BitSequenceConfig { length: 120, word_size: 8, num_modes: 60, temperature: 1.0, seed: 0 }
    }
}

/// The bit-sequence environment; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct BitSequence {
    config: BitSequenceConfig,
    /// `length / word_size`.
    num_words: usize,
    /// `2^word_size`.
    vocab: usize,
    modes: Vec<BitState>,
}

/// A partial sequence: the words written so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = BitSequence)]
pub struct BitState {
    /// The words, each in `0..2^word_size`, at most `length / word_size` of them.
    #[state(len = env.num_words, range = 0..env.vocab)]
    pub words: Vec<u8>,
}

/// An action on a bit sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = BitSequence)]
pub enum BitAction {
    /// Append one word.
    Append {
        /// The word, its bits most significant first.
        #[action(range = 0..env.vocab)]
        word: u8,
    },
    /// End a full sequence.
    #[action(exit)]
    Exit,
}

#[environment(state = BitState, action = BitAction, name = "bitseq", enumerable)]
impl BitSequence {
    fn source(&self) -> BitState {
        BitState { words: Vec::with_capacity(self.num_words) }
    }

    fn allowed(&self, state: &BitState, action: BitAction) -> bool {
        let full = state.words.len() == self.num_words;
        match action {
            BitAction::Append { .. } => !full,
            BitAction::Exit => full,
        }
    }

    fn apply(&self, state: &mut BitState, action: BitAction) {
        if let BitAction::Append { word } = action {
            state.words.push(word);
        }
    }

    fn can_revert(&self, state: &BitState, action: BitAction) -> bool {
        matches!(action, BitAction::Append { word } if state.words.last() == Some(&word))
    }

    fn revert(&self, state: &mut BitState, _: BitAction) {
        state.words.pop();
    }

    fn log_reward(&self, state: &BitState) -> f64 {
        let distance = self.modes.iter().map(|m| hamming(state, m)).min().unwrap_or(0);
        -(distance as f64) / self.config.temperature
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("bitseq:{}:{}:{}:{}:{}", c.length, c.word_size, c.num_modes, c.temperature, c.seed)
    }
}

impl BitSequence {
    /// Validates `config`, draws the modes and builds the environment.
    pub fn new(config: BitSequenceConfig) -> Result<Self> {
        let k = config.word_size;
        if !(1..=8).contains(&k) {
            return Err(Error::config("word_size", k, "must be in 1..=8"));
        }
        if config.length == 0 || !config.length.is_multiple_of(k) {
            return Err(Error::config(
                "length",
                config.length,
                format!("must be a positive multiple of word_size = {k}"),
            ));
        }
        if config.num_modes == 0 {
            return Err(Error::config("num_modes", config.num_modes, "needs at least one mode"));
        }
        if !(config.temperature.is_finite() && config.temperature > 0.0) {
            return Err(Error::config("temperature", config.temperature, "must be positive and finite"));
        }
        let num_words = config.length / k;
        let patterns = patterns(k);
        let mut rng = stream(config.seed, Purpose::User, &[0x6269_7473]);
        let modes = (0..config.num_modes)
            .map(|_| BitState {
                words: (0..num_words).map(|_| patterns[rng.random_range(0..patterns.len())]).collect(),
            })
            .collect();
        Ok(BitSequence { num_words, vocab: 1 << k, modes, config })
    }

    /// The configuration.
    pub fn config(&self) -> &BitSequenceConfig {
        &self.config
    }

    /// The modes, as complete sequences.
    pub fn modes(&self) -> &[BitState] {
        &self.modes
    }

    /// The bits of a sequence, left to right.
    pub fn bits(&self, state: &BitState) -> Vec<bool> {
        let k = self.config.word_size;
        state.words.iter().flat_map(|&w| (0..k).rev().map(move |j| (w >> j) & 1 == 1)).collect()
    }

    /// The TB paper's test set for reward correlations: for each mode and each `i` in
    /// `1..=length`, the mode with `i` distinct random bits flipped (`num_modes · length`
    /// sequences).
    pub fn test_set(&self, rng: &mut Rng) -> Vec<BitState> {
        let (n, k) = (self.config.length, self.config.word_size);
        let mut out = Vec::with_capacity(self.modes.len() * n);
        for mode in &self.modes {
            for flips in 1..=n {
                let mut words = mode.words.clone();
                for bit in sample(rng, n, flips) {
                    words[bit / k] ^= 1 << (k - 1 - bit % k);
                }
                out.push(BitState { words });
            }
        }
        out
    }
}

/// The pattern words for `k` bits (see the module documentation).
fn patterns(k: usize) -> Vec<u8> {
    let h = k / 2;
    let half = ((1u16 << h) - 1) as u8;
    let all = ((1u16 << k) - 1) as u8;
    let mut out = Vec::new();
    for pattern in [0, all, half << (k - h), half, half << ((k - h) / 2)] {
        if !out.contains(&pattern) {
            out.push(pattern);
        }
    }
    out
}

fn hamming(a: &BitState, b: &BitState) -> u32 {
    a.words.iter().zip(&b.words).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gfn_core::check::assert_environment_conforms;
    use gfn_core::env::{Enumerable, Environment};

    fn env(length: usize, word_size: usize) -> BitSequence {
        BitSequence::new(BitSequenceConfig { length, word_size, num_modes: 3, ..Default::default() }).unwrap()
    }

    #[test]
    fn patterns_generalise_the_paper() {
        assert_eq!(patterns(8), [0b0000_0000, 0b1111_1111, 0b1111_0000, 0b0000_1111, 0b0011_1100]);
        assert_eq!(patterns(1), [0, 1]);
        assert_eq!(patterns(2), [0b00, 0b11, 0b10, 0b01]);
    }

    #[test]
    fn modes_are_seeded_and_have_reward_one() {
        let a = env(8, 2);
        assert_eq!(a.modes(), env(8, 2).modes());
        let other = BitSequence::new(BitSequenceConfig {
            length: 8,
            word_size: 2,
            num_modes: 3,
            seed: 1,
            ..Default::default()
        });
        assert_ne!(a.modes(), other.unwrap().modes());
        for mode in a.modes() {
            assert_eq!(a.log_reward(mode), 0.0);
            assert_eq!(mode.words.len(), 4);
        }
    }

    #[test]
    fn conforms_and_enumerates() {
        let env = env(6, 2);
        assert_environment_conforms(&env);
        let graph = env.state_graph().unwrap();
        assert_eq!(graph.len(), 1 + 4 + 16 + 64);
        assert_eq!(graph.terminals().count(), 64);
    }

    #[test]
    fn encoding_and_actions() {
        let env = env(4, 2);
        assert_eq!((env.action_count(), env.exit_action(), env.feature_dim()), (5, 4, 8));
        let mut state = env.source();
        env.step(&mut state, 2).unwrap();
        let mut out = vec![0.0; 8];
        env.encode(&state, &mut out);
        assert_eq!(out, [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(env.bits(&state), [true, false]);
        assert!(env.step(&mut state, 4).is_err(), "exit is not a forward step");
        let mut mask = [true; 5];
        env.forward_mask(&state, &mut mask);
        assert_eq!(mask, [true, true, true, true, false]);
    }

    #[test]
    fn test_set_flips_the_requested_number_of_bits() {
        let env = env(8, 4);
        let mut rng = stream(3, Purpose::Eval, &[]);
        let set = env.test_set(&mut rng);
        assert_eq!(set.len(), 3 * 8);
        for (i, x) in set.iter().enumerate() {
            assert_eq!(hamming(x, &env.modes()[i / 8]) as usize, i % 8 + 1);
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = [
            BitSequenceConfig { word_size: 0, ..Default::default() },
            BitSequenceConfig { word_size: 9, ..Default::default() },
            BitSequenceConfig { length: 10, word_size: 4, ..Default::default() },
            BitSequenceConfig { num_modes: 0, ..Default::default() },
            BitSequenceConfig { temperature: 0.0, ..Default::default() },
        ];
        for config in bad {
            assert!(matches!(BitSequence::new(config), Err(Error::InvalidConfig { .. })));
        }
    }
}
