//! Autoregressive sequence generation (da Silva et al. 2024; `ALGORITHMS.md` §6.4).
//!
//! Append tokens of a vocabulary of `vocab` left to right until the sequence has `length`
//! tokens; only then exit (and only exit) is allowed. The DAG is a tree.
//!
//! Reward (the paper leaves it open; this is ours): a per-position term plus a bigram term,
//!
//! `log R(x) = Σ_t u[t][x_t] + Σ_t b[x_t][x_{t+1}]`,
//!
//! with `u ~ Uniform[-1, 1]` and `b ~ Uniform[-1, 1]` drawn from the seed. The per-position terms
//! alone give a single best sequence; the bigram terms couple neighbours and create several
//! competing local optima (sequences better than every one-token change; a few dozen for the
//! default 6 tokens over 8).
//!
//! Features: one-hot of the token at each position (`length · vocab` slots; positions not yet
//! written stay zero). Actions: `Append { token }` has index `token`, exit has index `vocab`.

use gfn_core::rng::{Purpose, stream};
use gfn_core::{Action, Error, Result, State, environment};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// Parameters of [`SequenceGeneration`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceConfig {
    /// The number of tokens of a complete sequence (at least 1).
    pub length: usize,
    /// The vocabulary size, in `1..=256`.
    pub vocab: usize,
    /// The seed of the reward tables.
    pub seed: u64,
}

impl Default for SequenceConfig {
    fn default() -> Self {
        SequenceConfig { length: 6, vocab: 8, seed: 0 }
    }
}

/// The sequence-generation environment; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct SequenceGeneration {
    config: SequenceConfig,
    /// `position_utilities[t * vocab + v]`.
    position_utilities: Vec<f64>,
    /// `bigram_utilities[v * vocab + w]`.
    bigram_utilities: Vec<f64>,
}

/// A partial sequence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = SequenceGeneration)]
pub struct SequenceState {
    /// The tokens so far, each in `0..vocab`.
    #[state(len = env.config.length, range = 0..env.config.vocab)]
    pub tokens: Vec<u8>,
}

/// An action on a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = SequenceGeneration)]
pub enum SequenceAction {
    /// Append a token.
    Append {
        /// The token.
        #[action(range = 0..env.config.vocab)]
        token: u8,
    },
    /// End a complete sequence.
    #[action(exit)]
    Exit,
}

#[environment(state = SequenceState, action = SequenceAction, name = "sequences", enumerable)]
impl SequenceGeneration {
    fn source(&self) -> SequenceState {
        SequenceState { tokens: Vec::with_capacity(self.config.length) }
    }

    fn allowed(&self, state: &SequenceState, action: SequenceAction) -> bool {
        let full = state.tokens.len() == self.config.length;
        match action {
            SequenceAction::Append { .. } => !full,
            SequenceAction::Exit => full,
        }
    }

    fn apply(&self, state: &mut SequenceState, action: SequenceAction) {
        if let SequenceAction::Append { token } = action {
            state.tokens.push(token);
        }
    }

    fn can_revert(&self, state: &SequenceState, action: SequenceAction) -> bool {
        matches!(action, SequenceAction::Append { token } if state.tokens.last() == Some(&token))
    }

    fn revert(&self, state: &mut SequenceState, _: SequenceAction) {
        state.tokens.pop();
    }

    fn log_reward(&self, state: &SequenceState) -> f64 {
        let v = self.config.vocab;
        let tokens = &state.tokens;
        let position: f64 =
            tokens.iter().enumerate().map(|(t, &x)| self.position_utilities[t * v + usize::from(x)]).sum();
        let bigram: f64 =
            tokens.windows(2).map(|w| self.bigram_utilities[usize::from(w[0]) * v + usize::from(w[1])]).sum();
        position + bigram
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("sequences:{}:{}:{}", c.length, c.vocab, c.seed)
    }
}

impl SequenceGeneration {
    /// Validates `config`, draws the reward tables and builds the environment.
    pub fn new(config: SequenceConfig) -> Result<Self> {
        if config.length == 0 {
            return Err(Error::config("length", config.length, "must be at least 1"));
        }
        if !(1..=256).contains(&config.vocab) {
            return Err(Error::config("vocab", config.vocab, "must be in 1..=256"));
        }
        let mut rng = stream(config.seed, Purpose::User, &[0x7365_7173]);
        let v = config.vocab;
        let position_utilities = (0..config.length * v).map(|_| rng.random_range(-1.0..=1.0)).collect();
        let bigram_utilities = (0..v * v).map(|_| rng.random_range(-1.0..=1.0)).collect();
        Ok(SequenceGeneration { config, position_utilities, bigram_utilities })
    }

    /// The configuration.
    pub fn config(&self) -> &SequenceConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gfn_core::check::assert_environment_conforms;
    use gfn_core::env::{Enumerable, Environment};

    fn env(length: usize, vocab: usize) -> SequenceGeneration {
        SequenceGeneration::new(SequenceConfig { length, vocab, seed: 2 }).unwrap()
    }

    #[test]
    fn conforms_and_enumerates() {
        let env = env(3, 4);
        assert_environment_conforms(&env);
        let graph = env.state_graph().unwrap();
        assert_eq!(graph.len(), 1 + 4 + 16 + 64);
        assert_eq!(graph.terminals().count(), 64);
    }

    #[test]
    fn the_default_is_enumerable() {
        let env = SequenceGeneration::new(SequenceConfig::default()).unwrap();
        let graph = env.state_graph().unwrap();
        assert_eq!(graph.terminals().count(), 8usize.pow(6));
    }

    #[test]
    fn steps_masks_and_encoding() {
        let env = env(2, 3);
        assert_eq!((env.action_count(), env.exit_action(), env.feature_dim()), (4, 3, 6));
        let mut state = env.source();
        env.step(&mut state, 2).unwrap();
        env.step(&mut state, 0).unwrap();
        let mut mask = [false; 4];
        env.forward_mask(&state, &mut mask);
        assert_eq!(mask, [false, false, false, true]);
        env.backward_mask(&state, &mut mask);
        assert_eq!(mask, [true, false, false, false]);
        let mut out = vec![0.0; 6];
        env.encode(&state, &mut out);
        assert_eq!(out, [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        let expected = env.position_utilities[2] + env.position_utilities[3] + env.bigram_utilities[2 * 3];
        assert!((env.log_reward(&state) - expected).abs() < 1e-12);
    }

    #[test]
    fn the_reward_has_several_local_optima() {
        let env = SequenceGeneration::new(SequenceConfig::default()).unwrap();
        let graph = env.state_graph().unwrap();
        let terminals: Vec<&SequenceState> = graph.terminals().map(|i| &graph.states[i]).collect();
        let is_local_optimum = |x: &SequenceState| {
            let r = env.log_reward(x);
            (0..6).all(|t| {
                (0..8u8).all(|v| {
                    let mut y = x.clone();
                    y.tokens[t] = v;
                    y == *x || env.log_reward(&y) < r
                })
            })
        };
        let optima = terminals.iter().filter(|x| is_local_optimum(x)).count();
        assert!(optima >= 5, "{optima} local optima");
    }

    #[test]
    fn invalid_configs_are_rejected() {
        for config in [
            SequenceConfig { length: 0, ..Default::default() },
            SequenceConfig { vocab: 0, ..Default::default() },
            SequenceConfig { vocab: 257, ..Default::default() },
        ] {
            assert!(matches!(SequenceGeneration::new(config), Err(Error::InvalidConfig { .. })));
        }
    }
}
