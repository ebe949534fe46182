//! The hypergrid of the trajectory-balance paper (ALGORITHMS §6.1).

use gfn_core::env::{Enumerable, Environment};
use gfn_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Hypergrid parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HypergridConfig {
    /// Number of dimensions `D`.
    pub ndim: usize,
    /// Side length `H`.
    pub height: usize,
    /// Base reward `R0 > 0`.
    pub r0: f64,
    /// Reward added in the outer band.
    pub r1: f64,
    /// Reward added in the thin ring near the corners.
    pub r2: f64,
}

impl Default for HypergridConfig {
    fn default() -> Self {
        HypergridConfig { ndim: 2, height: 8, r0: 0.01, r1: 0.5, r2: 2.0 }
    }
}

/// States `s ∈ {0..H−1}^D` from `s_0 = 0`; actions increment one coordinate or exit (every state
/// is terminal). `R(s) = R0 + R1 Π_d 1[|s_d/(H−1) − ½| > ¼] + R2 Π_d 1[0.3 < |s_d/(H−1) − ½| < 0.4]`,
/// with `2^D` high-reward corner modes. Features: one-hot per coordinate (`D·H`).
#[derive(Debug, Clone)]
pub struct Hypergrid {
    config: HypergridConfig,
    /// `log R` of each coordinate value class, precomputed per coordinate value.
    band: Vec<(bool, bool)>,
}

impl Hypergrid {
    /// Validates `config` and builds the grid.
    pub fn new(config: HypergridConfig) -> Result<Self> {
        if config.ndim == 0 {
            return Err(Error::config("ndim", config.ndim, "the grid needs at least one dimension"));
        }
        if config.height < 2 || config.height > 256 {
            return Err(Error::config("height", config.height, "must be in 2..=256"));
        }
        if !(config.r0.is_finite() && config.r0 > 0.0) {
            return Err(Error::config("r0", config.r0, "must be positive and finite"));
        }
        for (field, v) in [("r1", config.r1), ("r2", config.r2)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(field, v, "must be non-negative and finite"));
            }
        }
        let h = (config.height - 1) as f64;
        let band = (0..config.height)
            .map(|c| {
                let x = (c as f64 / h - 0.5).abs();
                (x > 0.25, x > 0.3 && x < 0.4)
            })
            .collect();
        Ok(Hypergrid { config, band })
    }

    /// The parameters.
    pub fn config(&self) -> &HypergridConfig {
        &self.config
    }

    /// The exact `log Z = log Σ_s R(s)` in closed form.
    pub fn log_partition(&self) -> f64 {
        let c = &self.config;
        let outer = self.band.iter().filter(|b| b.0).count() as f64;
        let ring = self.band.iter().filter(|b| b.1).count() as f64;
        let d = c.ndim as i32;
        let total = c.r0 * (c.height as f64).powi(d) + c.r1 * outer.powi(d) + c.r2 * ring.powi(d);
        total.ln()
    }
}

impl Environment for Hypergrid {
    type State = Vec<u8>;

    fn name(&self) -> String {
        "hypergrid".into()
    }

    fn action_count(&self) -> usize {
        self.config.ndim + 1
    }

    fn exit_action(&self) -> usize {
        self.config.ndim
    }

    fn feature_dim(&self) -> usize {
        self.config.ndim * self.config.height
    }

    fn source(&self) -> Vec<u8> {
        vec![0; self.config.ndim]
    }

    fn forward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        for (m, &c) in mask.iter_mut().zip(s) {
            *m = (c as usize) + 1 < self.config.height;
        }
        mask[self.config.ndim] = true;
    }

    fn backward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        for (m, &c) in mask.iter_mut().zip(s) {
            *m = c > 0;
        }
    }

    fn step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        match s.get_mut(action) {
            Some(c) if (*c as usize) + 1 < self.config.height => {
                *c += 1;
                Ok(())
            }
            _ => Err(Error::InvalidAction {
                action,
                state: format!("{s:?}"),
                reason: "not an increment inside the grid".into(),
            }),
        }
    }

    fn backward_step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        match s.get_mut(action) {
            Some(c) if *c > 0 => {
                *c -= 1;
                Ok(())
            }
            _ => Err(Error::InvalidAction {
                action,
                state: format!("{s:?}"),
                reason: "not a decrement of a positive coordinate".into(),
            }),
        }
    }

    fn log_reward(&self, s: &Vec<u8>) -> f64 {
        let c = &self.config;
        let outer = s.iter().all(|&v| self.band[v as usize].0);
        let ring = s.iter().all(|&v| self.band[v as usize].1);
        (c.r0 + if outer { c.r1 } else { 0.0 } + if ring { c.r2 } else { 0.0 }).ln()
    }

    fn encode(&self, s: &Vec<u8>, out: &mut [f32]) {
        let h = self.config.height;
        for (d, &c) in s.iter().enumerate() {
            out[d * h + c as usize] = 1.0;
        }
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("hypergrid:ndim={}:height={}:r0={}:r1={}:r2={}", c.ndim, c.height, c.r0, c.r1, c.r2)
    }
}

impl Enumerable for Hypergrid {}

#[cfg(test)]
mod tests {
    use super::*;
    use gfn_core::eval::divergence::logsumexp;

    #[test]
    fn closed_form_log_partition_matches_enumeration() {
        for (ndim, height) in [(1, 2), (2, 8), (3, 5), (4, 8)] {
            let env = Hypergrid::new(HypergridConfig { ndim, height, r0: 1e-3, ..Default::default() }).expect("valid");
            let graph = env.state_graph().expect("enumerable");
            assert_eq!(graph.len(), height.pow(ndim as u32));
            let rewards: Vec<f64> = graph.states.iter().map(|s| env.log_reward(s)).collect();
            assert!((logsumexp(&rewards) - env.log_partition()).abs() < 1e-9, "{ndim}x{height}");
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = |c: HypergridConfig| Hypergrid::new(c).is_err();
        assert!(bad(HypergridConfig { height: 0, ..Default::default() }));
        assert!(bad(HypergridConfig { ndim: 0, ..Default::default() }));
        assert!(bad(HypergridConfig { r0: 0.0, ..Default::default() }));
        assert!(bad(HypergridConfig { r1: f64::NAN, ..Default::default() }));
    }
}
