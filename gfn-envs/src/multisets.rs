//! Multiset generation (EP-GFlowNets; `ALGORITHMS.md` §6.5).
//!
//! Add one element of `types` kinds per step, repeats allowed, until the multiset has `size`
//! elements; only then exit (and only exit) is allowed. Backward: remove one element of any kind
//! present, so a multiset is reached by as many orders as its distinct arrangements.
//!
//! Reward: `log R(S) = Σ_i c_i u_i` for the multiplicities `c_i`, with utilities
//! `u_i ~ Uniform[-1, 1]` drawn from the seed (the multiset analogue of [`crate::sets`]).
//!
//! Features: one-hot of each multiplicity (`types · (size + 1)` slots). Actions: `Add { kind }`
//! has index `kind`, exit has index `types`.

use gfn_core::rng::{Purpose, stream};
use gfn_core::{Action, Error, Result, State, environment};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// Parameters of [`Multisets`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultisetConfig {
    /// The number of element kinds, in `1..=64` (the EP-GFlowNets task uses 10).
    pub types: usize,
    /// The number of elements of a complete multiset, in `1..=64` (the task uses 8).
    pub size: usize,
    /// The seed of the utilities.
    pub seed: u64,
}

impl Default for MultisetConfig {
    fn default() -> Self {
        MultisetConfig { types: 10, size: 8, seed: 0 }
    }
}

/// The multiset-generation environment; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Multisets {
    config: MultisetConfig,
    utilities: Vec<f64>,
}

/// A partial multiset: the multiplicity of each kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = Multisets)]
pub struct MultisetState {
    /// `counts[i]` elements of kind `i`.
    #[state(len = env.config.types, range = 0..env.config.size + 1)]
    pub counts: Vec<u8>,
}

impl MultisetState {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.counts.iter().map(|&c| usize::from(c)).sum()
    }

    /// Whether the multiset is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An action on a multiset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = Multisets)]
pub enum MultisetAction {
    /// Add one element of a kind.
    Add {
        /// The kind.
        #[action(range = 0..env.config.types)]
        kind: u8,
    },
    /// End a complete multiset.
    #[action(exit)]
    Exit,
}

#[environment(state = MultisetState, action = MultisetAction, name = "multisets", enumerable)]
impl Multisets {
    fn source(&self) -> MultisetState {
        MultisetState { counts: vec![0; self.config.types] }
    }

    fn allowed(&self, state: &MultisetState, action: MultisetAction) -> bool {
        let full = state.len() == self.config.size;
        match action {
            MultisetAction::Add { .. } => !full,
            MultisetAction::Exit => full,
        }
    }

    fn apply(&self, state: &mut MultisetState, action: MultisetAction) {
        if let MultisetAction::Add { kind } = action {
            state.counts[usize::from(kind)] += 1;
        }
    }

    fn can_revert(&self, state: &MultisetState, action: MultisetAction) -> bool {
        matches!(action, MultisetAction::Add { kind } if state.counts[usize::from(kind)] > 0)
    }

    fn revert(&self, state: &mut MultisetState, action: MultisetAction) {
        if let MultisetAction::Add { kind } = action {
            state.counts[usize::from(kind)] -= 1;
        }
    }

    fn log_reward(&self, state: &MultisetState) -> f64 {
        state.counts.iter().zip(&self.utilities).map(|(&c, u)| f64::from(c) * u).sum()
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("multisets:{}:{}:{}", c.types, c.size, c.seed)
    }
}

impl Multisets {
    /// Validates `config`, draws the utilities and builds the environment.
    pub fn new(config: MultisetConfig) -> Result<Self> {
        if !(1..=64).contains(&config.types) {
            return Err(Error::config("types", config.types, "must be in 1..=64"));
        }
        if !(1..=64).contains(&config.size) {
            return Err(Error::config("size", config.size, "must be in 1..=64"));
        }
        let mut rng = stream(config.seed, Purpose::User, &[0x6d73_6574]);
        let utilities = (0..config.types).map(|_| rng.random_range(-1.0..=1.0)).collect();
        Ok(Multisets { config, utilities })
    }

    /// The configuration.
    pub fn config(&self) -> &MultisetConfig {
        &self.config
    }

    /// The per-kind utilities `u_i`.
    pub fn utilities(&self) -> &[f64] {
        &self.utilities
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gfn_core::check::assert_environment_conforms;
    use gfn_core::env::{Enumerable, Environment};

    #[test]
    fn conforms_and_enumerates_every_multiset() {
        let env = Multisets::new(MultisetConfig { types: 3, size: 4, seed: 2 }).unwrap();
        assert_environment_conforms(&env);
        let graph = env.state_graph().unwrap();
        // Multisets of size k over 3 kinds: C(k + 2, 2); states of size 0..=4, terminals of size 4.
        assert_eq!(graph.len(), 1 + 3 + 6 + 10 + 15);
        assert_eq!(graph.terminals().count(), 15);
        let x = MultisetState { counts: vec![2, 0, 2] };
        let expected = 2.0 * env.utilities()[0] + 2.0 * env.utilities()[2];
        assert!((env.log_reward(&x) - expected).abs() < 1e-12);
        let mut mask = [false; 4];
        env.backward_mask(&x, &mut mask);
        assert_eq!(mask, [true, false, true, false]);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        for config in [
            MultisetConfig { types: 0, ..Default::default() },
            MultisetConfig { size: 0, ..Default::default() },
            MultisetConfig { types: 65, ..Default::default() },
        ] {
            assert!(matches!(Multisets::new(config), Err(Error::InvalidConfig { .. })));
        }
    }
}
