//! Gaussian-bump factors on the hypergrid.

use gfn_core::ep::{Factored, RewardFactors};
use gfn_core::rng::{Purpose, stream};
use gfn_core::{Error, Result};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::hypergrid::{GridState, Hypergrid, HypergridConfig};

/// Parameters of [`GridBumps`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridBumpsConfig {
    /// Bumps per factor (at least 1).
    pub modes: usize,
    /// The bump width `w`, as a fraction of the side (positive).
    pub width: f64,
    /// The floor `r0` of every factor (positive).
    pub floor: f64,
    /// The seed of the centres.
    pub seed: u64,
}

impl Default for GridBumpsConfig {
    fn default() -> Self {
        GridBumpsConfig { modes: 2, width: 0.2, floor: 0.05, seed: 0 }
    }
}

/// `R_n(x) = r0 + Σ_m exp(−‖x/(H−1) − c_{n,m}‖² / (2w²))`; see the
/// [module documentation](super).
#[derive(Clone, Debug)]
pub struct GridBumps {
    config: GridBumpsConfig,
    scale: f64,
    /// `centres[n][m]`: a point of `[0, 1]^D`.
    centres: Vec<Vec<Vec<f64>>>,
}

impl GridBumps {
    /// `factors` families of bumps for grids of `grid`.
    pub fn new(grid: &HypergridConfig, factors: usize, config: GridBumpsConfig) -> Result<Self> {
        if config.modes == 0 {
            return Err(Error::config("modes", 0, "every factor needs at least one bump"));
        }
        if !(config.width.is_finite() && config.width > 0.0) {
            return Err(Error::config("width", config.width, "must be positive and finite"));
        }
        if !(config.floor.is_finite() && config.floor > 0.0) {
            return Err(Error::config("floor", config.floor, "must be positive and finite"));
        }
        let mut rng = stream(config.seed, Purpose::User, &[0x6275_6d70]);
        let centres = (0..factors)
            .map(|_| (0..config.modes).map(|_| (0..grid.ndim).map(|_| rng.random::<f64>()).collect()).collect())
            .collect();
        let scale = (grid.height.max(2) - 1) as f64;
        Ok(GridBumps { config, scale, centres })
    }

    /// The bump centres of factor `n`, in `[0, 1]^D`.
    pub fn centres(&self, n: usize) -> &[Vec<f64>] {
        &self.centres[n]
    }
}

impl RewardFactors<GridState> for GridBumps {
    fn count(&self) -> usize {
        self.centres.len()
    }

    fn name(&self, i: usize) -> String {
        format!("bumps{i}")
    }

    fn log_factor(&self, state: &GridState, i: usize) -> f64 {
        let w2 = 2.0 * self.config.width * self.config.width;
        let bumps: f64 = self.centres[i]
            .iter()
            .map(|c| {
                let d2: f64 = state.coords.iter().zip(c).map(|(&x, c)| (x as f64 / self.scale - c).powi(2)).sum();
                (-d2 / w2).exp()
            })
            .sum();
        (self.config.floor + bumps).ln()
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("bumps:{}:{}:{}:{}:{}", self.centres.len(), c.modes, c.width, c.floor, c.seed)
    }
}

/// The hypergrid with a factored bump reward.
pub type FactoredHypergrid = Factored<Hypergrid, GridBumps>;

/// The hypergrid of `grid` (its own reward unused) with `factors` bump factors.
pub fn factored_hypergrid(grid: HypergridConfig, factors: usize, bumps: GridBumpsConfig) -> Result<FactoredHypergrid> {
    let factors = GridBumps::new(&grid, factors, bumps)?;
    Factored::new(Hypergrid::new(grid)?, factors)
}
