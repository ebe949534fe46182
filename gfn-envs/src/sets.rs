//! Set generation (ALGORITHMS §6.4): pick `set_size` of `pool_size` elements, one per step.

use gfn_core::env::{Enumerable, Environment};
use gfn_core::rng::{Purpose, stream};
use gfn_core::{Error, Result};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// Set-generation parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SetConfig {
    /// Number of elements to choose from (at most 64).
    pub pool_size: usize,
    /// Size of a complete set.
    pub set_size: usize,
    /// Seed of the element utilities.
    pub seed: u64,
}

impl Default for SetConfig {
    fn default() -> Self {
        SetConfig { pool_size: 16, set_size: 6, seed: 0 }
    }
}

/// Sets of `set_size` distinct elements of a pool, built by adding one element per step; a
/// complete set may only exit. `log R(S) = Σ_{i∈S} u_i` with utilities `u_i ∼ U(−1, 1)` drawn
/// from the seed, so the target favours a few high-utility elements without collapsing onto
/// one set. States are bit masks; features are the mask's bits.
#[derive(Debug, Clone)]
pub struct SetGeneration {
    config: SetConfig,
    utilities: Vec<f64>,
}

impl SetGeneration {
    /// Validates `config`, draws the utilities and builds the environment.
    pub fn new(config: SetConfig) -> Result<Self> {
        if config.pool_size == 0 || config.pool_size > 64 {
            return Err(Error::config("pool_size", config.pool_size, "must be in 1..=64"));
        }
        if config.set_size == 0 || config.set_size > config.pool_size {
            return Err(Error::config("set_size", config.set_size, format!("must be in 1..={}", config.pool_size)));
        }
        let mut rng = stream(config.seed, Purpose::User, &[0x5E7]);
        let utilities = (0..config.pool_size).map(|_| rng.random_range(-1.0..1.0)).collect();
        Ok(SetGeneration { config, utilities })
    }

    /// The utility of each element.
    pub fn utilities(&self) -> &[f64] {
        &self.utilities
    }

    fn invalid(s: u64, action: usize, reason: &str) -> Error {
        Error::InvalidAction { action, state: format!("{s:#b}"), reason: reason.into() }
    }
}

impl Environment for SetGeneration {
    type State = u64;

    fn name(&self) -> String {
        "sets".into()
    }

    fn action_count(&self) -> usize {
        self.config.pool_size + 1
    }

    fn exit_action(&self) -> usize {
        self.config.pool_size
    }

    fn feature_dim(&self) -> usize {
        self.config.pool_size
    }

    fn source(&self) -> u64 {
        0
    }

    fn forward_mask(&self, s: &u64, mask: &mut [bool]) {
        let full = s.count_ones() as usize >= self.config.set_size;
        for (i, m) in mask[..self.config.pool_size].iter_mut().enumerate() {
            *m = !full && s & (1 << i) == 0;
        }
        mask[self.config.pool_size] = full;
    }

    fn backward_mask(&self, s: &u64, mask: &mut [bool]) {
        for (i, m) in mask[..self.config.pool_size].iter_mut().enumerate() {
            *m = s & (1 << i) != 0;
        }
    }

    fn step(&self, s: &mut u64, action: usize) -> Result<()> {
        if action >= self.config.pool_size || *s & (1 << action) != 0 {
            return Err(Self::invalid(*s, action, "not an element outside the set"));
        }
        if s.count_ones() as usize >= self.config.set_size {
            return Err(Self::invalid(*s, action, "the set is complete"));
        }
        *s |= 1 << action;
        Ok(())
    }

    fn backward_step(&self, s: &mut u64, action: usize) -> Result<()> {
        if action >= self.config.pool_size || *s & (1 << action) == 0 {
            return Err(Self::invalid(*s, action, "not an element of the set"));
        }
        *s &= !(1 << action);
        Ok(())
    }

    fn log_reward(&self, s: &u64) -> f64 {
        self.utilities.iter().enumerate().filter(|(i, _)| s & (1 << i) != 0).map(|(_, u)| u).sum()
    }

    fn encode(&self, s: &u64, out: &mut [f32]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = f32::from(u8::from(s & (1 << i) != 0));
        }
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("sets:pool={}:size={}:seed={}", c.pool_size, c.set_size, c.seed)
    }
}

impl Enumerable for SetGeneration {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerates_every_subset_up_to_the_set_size() {
        let env = SetGeneration::new(SetConfig { pool_size: 6, set_size: 3, seed: 1 }).expect("valid");
        let graph = env.state_graph().expect("enumerable");
        assert_eq!(graph.len(), 1 + 6 + 15 + 20);
        assert_eq!(graph.terminals().count(), 20);
        assert!(SetGeneration::new(SetConfig { pool_size: 3, set_size: 4, seed: 0 }).is_err());
        assert!(SetGeneration::new(SetConfig { pool_size: 65, set_size: 4, seed: 0 }).is_err());
    }
}
