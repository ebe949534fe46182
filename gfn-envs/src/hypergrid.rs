//! The hypergrid (Bengio et al. 2021; TB paper §5.1; `ALGORITHMS.md` §6.1).
//!
//! States are points of `{0, .., H-1}^D`, starting at the origin. A step increments one
//! coordinate (masked at `H - 1`); every state may exit (the modern, torchgfn convention). The
//! reward has `2^D` corner modes:
//!
//! `R(s) = R0 + R1 Π_d 1[|s_d/(H-1) - 1/2| > 1/4] + R2 Π_d 1[0.3 < |s_d/(H-1) - 1/2| < 0.4]`.
//!
//! Features: one-hot per coordinate (`D·H` slots). Actions: `Increment { dim }` has index `dim`,
//! exit has index `D`.

use gfn_core::{Action, Error, Result, State, environment};
use serde::{Deserialize, Serialize};

/// Parameters of [`Hypergrid`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HypergridConfig {
    /// The number of dimensions `D` (at least 1).
    pub ndim: usize,
    /// The side length `H` (at least 2).
    pub height: usize,
    /// The base reward `R0` (positive).
    pub r0: f64,
    /// The reward added on the outer band `R1` (non-negative).
    pub r1: f64,
    /// The reward added on the thin inner ring `R2` (non-negative).
    pub r2: f64,
}

impl Default for HypergridConfig {
    fn default() -> Self {
        HypergridConfig { ndim: 2, height: 8, r0: 0.01, r1: 0.5, r2: 2.0 }
    }
}

/// The hypergrid environment; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct Hypergrid {
    config: HypergridConfig,
}

/// A point of the grid.
#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = Hypergrid)]
pub struct GridState {
    /// The coordinates, each in `0..height`.
    #[state(len = env.config.ndim, range = 0..env.config.height)]
    pub coords: Vec<usize>,
}

/// A move on the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = Hypergrid)]
pub enum GridAction {
    /// Add one to coordinate `dim`.
    Increment {
        /// The coordinate.
        #[action(range = 0..env.config.ndim)]
        dim: usize,
    },
    /// Stop at the current point.
    #[action(exit)]
    Exit,
}

#[environment(state = GridState, action = GridAction, enumerable)]
impl Hypergrid {
    fn source(&self) -> GridState {
        GridState { coords: vec![0; self.config.ndim] }
    }

    fn allowed(&self, state: &GridState, action: GridAction) -> bool {
        match action {
            GridAction::Increment { dim } => state.coords[dim] + 1 < self.config.height,
            GridAction::Exit => true,
        }
    }

    fn apply(&self, state: &mut GridState, action: GridAction) {
        if let GridAction::Increment { dim } = action {
            state.coords[dim] += 1;
        }
    }

    fn can_revert(&self, state: &GridState, action: GridAction) -> bool {
        matches!(action, GridAction::Increment { dim } if state.coords[dim] > 0)
    }

    fn revert(&self, state: &mut GridState, action: GridAction) {
        if let GridAction::Increment { dim } = action {
            state.coords[dim] -= 1;
        }
    }

    fn log_reward(&self, state: &GridState) -> f64 {
        let outer = state.coords.iter().all(|&x| self.in_outer_band(x));
        let ring = state.coords.iter().all(|&x| self.in_ring(x));
        let c = &self.config;
        (c.r0 + c.r1 * f64::from(u8::from(outer)) + c.r2 * f64::from(u8::from(ring))).ln()
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("hypergrid:{}:{}:{}:{}:{}", c.ndim, c.height, c.r0, c.r1, c.r2)
    }
}

impl Hypergrid {
    /// Validates `config` and builds the environment.
    pub fn new(config: HypergridConfig) -> Result<Self> {
        if config.ndim == 0 {
            return Err(Error::config("ndim", config.ndim, "needs at least one dimension"));
        }
        if config.height < 2 {
            return Err(Error::config("height", config.height, "the side length must be at least 2"));
        }
        if !(config.r0.is_finite() && config.r0 > 0.0) {
            return Err(Error::config("r0", config.r0, "must be positive and finite"));
        }
        for (field, value) in [("r1", config.r1), ("r2", config.r2)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::config(field, value, "must be non-negative and finite"));
            }
        }
        Ok(Hypergrid { config })
    }

    /// The configuration.
    pub fn config(&self) -> &HypergridConfig {
        &self.config
    }

    /// `log Z = log Σ_s R(s)`, in closed form: the reward is `R0` plus two products over
    /// coordinates, so `Z = R0 H^D + R1 n1^D + R2 n2^D` with `n1`, `n2` the number of values of
    /// one coordinate inside the outer band and the ring.
    pub fn log_partition(&self) -> f64 {
        let c = &self.config;
        let d = c.ndim as f64;
        let count = |f: &dyn Fn(usize) -> bool| (0..c.height).filter(|&x| f(x)).count() as f64;
        let n1 = count(&|x| self.in_outer_band(x));
        let n2 = count(&|x| self.in_ring(x));
        let terms = [c.r0.ln() + d * (c.height as f64).ln(), c.r1.ln() + d * n1.ln(), c.r2.ln() + d * n2.ln()];
        log_sum_exp(&terms)
    }

    fn offset(&self, x: usize) -> f64 {
        (x as f64 / (self.config.height - 1) as f64 - 0.5).abs()
    }

    fn in_outer_band(&self, x: usize) -> bool {
        self.offset(x) > 0.25
    }

    fn in_ring(&self, x: usize) -> bool {
        let o = self.offset(x);
        0.3 < o && o < 0.4
    }
}

fn log_sum_exp(terms: &[f64]) -> f64 {
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gfn_core::check::assert_environment_conforms;
    use gfn_core::env::{Enumerable, Environment};

    fn grid(ndim: usize, height: usize) -> Hypergrid {
        Hypergrid::new(HypergridConfig { ndim, height, ..HypergridConfig::default() }).unwrap()
    }

    #[test]
    fn closed_form_log_partition_matches_enumeration() {
        for (ndim, height) in [(1, 2), (2, 4), (2, 8), (3, 5), (4, 6)] {
            let env = grid(ndim, height);
            let graph = env.state_graph().unwrap();
            assert_eq!(graph.terminals().count(), height.pow(ndim as u32));
            let log_rewards: Vec<f64> = graph.terminals().map(|i| env.log_reward(&graph.states[i])).collect();
            let brute = log_sum_exp(&log_rewards);
            assert!((brute - env.log_partition()).abs() < 1e-10, "{ndim}x{height}: {brute} vs {}", env.log_partition());
        }
    }

    #[test]
    fn conforms() {
        assert_environment_conforms(&grid(2, 4));
        assert_environment_conforms(&grid(3, 3));
    }

    #[test]
    fn actions_masks_and_encoding() {
        let env = grid(2, 3);
        assert_eq!((env.action_count(), env.exit_action(), env.feature_dim()), (3, 2, 6));
        let mut state = env.source();
        env.step(&mut state, 1).unwrap();
        env.step(&mut state, 1).unwrap();
        assert_eq!(state.coords, [0, 2]);
        let mut mask = [false; 3];
        env.forward_mask(&state, &mut mask);
        assert_eq!(mask, [true, false, true]);
        env.backward_mask(&state, &mut mask);
        assert_eq!(mask, [false, true, false]);
        assert!(env.step(&mut state, 1).is_err());
        let mut out = vec![0.0; 6];
        env.encode(&state, &mut out);
        assert_eq!(out, [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn rewards_have_corner_modes() {
        let env = grid(2, 8);
        let corner = GridState { coords: vec![1, 6] };
        let center = GridState { coords: vec![3, 4] };
        assert!(env.log_reward(&corner) > env.log_reward(&center));
        assert!((env.log_reward(&center) - 0.01f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = [
            HypergridConfig { ndim: 0, ..Default::default() },
            HypergridConfig { height: 1, ..Default::default() },
            HypergridConfig { r0: 0.0, ..Default::default() },
            HypergridConfig { r1: f64::NAN, ..Default::default() },
            HypergridConfig { r2: -1.0, ..Default::default() },
        ];
        for config in bad {
            assert!(matches!(Hypergrid::new(config), Err(Error::InvalidConfig { .. })));
        }
    }
}
