//! Set generation (da Silva et al. 2024; `ALGORITHMS.md` §6.4).
//!
//! Choose `set_size` distinct elements of a pool of `pool_size`, one per step; only a full set
//! may exit (and then only exit is allowed). Backward: remove any element. Every set is reached
//! by `set_size!` orders, so the backward policy matters.
//!
//! Reward: `log R(S) = Σ_{i ∈ S} u_i`, with utilities `u_i ~ Uniform[-1, 1]` drawn from the seed.
//! For the default 8 of 16 the log-rewards of the sets span about ±6 nats: the target has a few
//! dominant sets but is far from a point mass.
//!
//! Features: the membership bits (`pool_size` slots). Actions: `Add { item }` has index `item`,
//! exit has index `pool_size`.

use gfn_core::rng::{Purpose, stream};
use gfn_core::{Action, Error, Result, State, environment};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// Parameters of [`SetGeneration`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SetConfig {
    /// The number of elements to choose from, in `1..=128` (the paper uses 32).
    pub pool_size: usize,
    /// The size of a complete set, in `1..=pool_size` (the paper uses 16).
    pub set_size: usize,
    /// The seed of the utilities.
    pub seed: u64,
}

impl Default for SetConfig {
    fn default() -> Self {
        SetConfig { pool_size: 16, set_size: 8, seed: 0 }
    }
}

/// The set-generation environment; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct SetGeneration {
    config: SetConfig,
    utilities: Vec<f64>,
}

/// A partial set, as a bit set over the pool.
#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = SetGeneration)]
pub struct SetState {
    /// Bit `i` is set when element `i` is in the set.
    #[state(bits = env.config.pool_size)]
    pub members: u128,
}

impl SetState {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.members.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.members == 0
    }

    /// Whether element `item` is in the set.
    pub fn contains(&self, item: u8) -> bool {
        self.members >> item & 1 == 1
    }
}

/// An action on a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = SetGeneration)]
pub enum SetAction {
    /// Add element `item` of the pool.
    Add {
        /// The element.
        #[action(range = 0..env.config.pool_size)]
        item: u8,
    },
    /// End a full set.
    #[action(exit)]
    Exit,
}

#[environment(state = SetState, action = SetAction, name = "sets", enumerable)]
impl SetGeneration {
    fn source(&self) -> SetState {
        SetState { members: 0 }
    }

    fn allowed(&self, state: &SetState, action: SetAction) -> bool {
        let full = state.len() == self.config.set_size;
        match action {
            SetAction::Add { item } => !full && !state.contains(item),
            SetAction::Exit => full,
        }
    }

    fn apply(&self, state: &mut SetState, action: SetAction) {
        if let SetAction::Add { item } = action {
            state.members |= 1 << item;
        }
    }

    fn can_revert(&self, state: &SetState, action: SetAction) -> bool {
        matches!(action, SetAction::Add { item } if state.contains(item))
    }

    fn revert(&self, state: &mut SetState, action: SetAction) {
        if let SetAction::Add { item } = action {
            state.members &= !(1 << item);
        }
    }

    fn log_reward(&self, state: &SetState) -> f64 {
        (0..self.config.pool_size).filter(|&i| state.members >> i & 1 == 1).map(|i| self.utilities[i]).sum()
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("sets:{}:{}:{}", c.pool_size, c.set_size, c.seed)
    }
}

impl SetGeneration {
    /// Validates `config`, draws the utilities and builds the environment.
    pub fn new(config: SetConfig) -> Result<Self> {
        if !(1..=128).contains(&config.pool_size) {
            return Err(Error::config("pool_size", config.pool_size, "must be in 1..=128"));
        }
        if !(1..=config.pool_size).contains(&config.set_size) {
            return Err(Error::config("set_size", config.set_size, format!("must be in 1..={}", config.pool_size)));
        }
        let mut rng = stream(config.seed, Purpose::User, &[0x7365_7473]);
        let utilities = (0..config.pool_size).map(|_| rng.random_range(-1.0..=1.0)).collect();
        Ok(SetGeneration { config, utilities })
    }

    /// The configuration.
    pub fn config(&self) -> &SetConfig {
        &self.config
    }

    /// The per-element utilities `u_i` (`log R` of a set is the sum over its elements).
    pub fn utilities(&self) -> &[f64] {
        &self.utilities
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gfn_core::check::assert_environment_conforms;
    use gfn_core::env::{Enumerable, Environment};

    fn env(pool_size: usize, set_size: usize) -> SetGeneration {
        SetGeneration::new(SetConfig { pool_size, set_size, seed: 5 }).unwrap()
    }

    #[test]
    fn conforms_and_enumerates() {
        let env = env(6, 3);
        assert_environment_conforms(&env);
        let graph = env.state_graph().unwrap();
        assert_eq!(graph.len(), 1 + 6 + 15 + 20);
        assert_eq!(graph.terminals().count(), 20);
    }

    #[test]
    fn steps_masks_and_encoding() {
        let env = env(4, 2);
        assert_eq!((env.action_count(), env.exit_action(), env.feature_dim()), (5, 4, 4));
        let mut state = env.source();
        env.step(&mut state, 2).unwrap();
        assert!(env.step(&mut state, 2).is_err(), "an element is added once");
        env.step(&mut state, 0).unwrap();
        let mut mask = [false; 5];
        env.forward_mask(&state, &mut mask);
        assert_eq!(mask, [false, false, false, false, true]);
        env.backward_mask(&state, &mut mask);
        assert_eq!(mask, [true, false, true, false, false]);
        let mut out = vec![0.0; 4];
        env.encode(&state, &mut out);
        assert_eq!(out, [1.0, 0.0, 1.0, 0.0]);
        let expected = env.utilities()[0] + env.utilities()[2];
        assert!((env.log_reward(&state) - expected).abs() < 1e-12);
    }

    #[test]
    fn utilities_are_seeded_and_bounded() {
        let a = env(16, 8);
        assert_eq!(a.utilities(), env(16, 8).utilities());
        assert!(a.utilities().iter().all(|u| (-1.0..=1.0).contains(u)));
        let b = SetGeneration::new(SetConfig { seed: 6, ..a.config().clone() }).unwrap();
        assert_ne!(a.utilities(), b.utilities());
    }

    #[test]
    fn large_pools_use_all_128_bits() {
        let env = env(128, 1);
        let mut state = env.source();
        env.step(&mut state, 127).unwrap();
        assert!(state.contains(127));
        let mut out = vec![0.0; 128];
        env.encode(&state, &mut out);
        assert_eq!(out[127], 1.0);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = [
            SetConfig { pool_size: 0, ..Default::default() },
            SetConfig { pool_size: 129, ..Default::default() },
            SetConfig { set_size: 0, ..Default::default() },
            SetConfig { pool_size: 4, set_size: 5, seed: 0 },
        ];
        for config in bad {
            assert!(matches!(SetGeneration::new(config), Err(Error::InvalidConfig { .. })));
        }
    }
}
