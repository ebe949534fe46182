//! Simulated data: an Erdős–Rényi DAG, a linear-Gaussian SCM on it, and `n` ancestral samples
//! (DOMAINS §2.4).

use std::fmt;
use std::str::FromStr;

use gfn_core::rng::{Purpose, stream};
use gfn_core::{Error, Result};
use rand::Rng as _;
use rand::seq::SliceRandom as _;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::data::Dataset;
use super::graph::{Dag, MAX_NODES};

/// Parameters of a simulated data set; the text form is `d=5,n=100[,p=0.5][,noise=0.316][,seed=0]`.
///
/// The graph is Erdős–Rényi: each pair of a random node order gets an edge with probability `p`
/// (default `2/(d−1)`, i.e. `d` expected edges, "ER1"). Edge weights are `N(0, 1)`, there is no
/// bias, and the noise is Gaussian with standard deviation `noise` — default `√0.1`, the
/// JSP-GFN/gfnx convention (the 2022 DAG-GFlowNet code used 0.1), which matches the default
/// observation noise of the linear-Gaussian score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationConfig {
    /// The number of variables `d`, in `1..=32`.
    pub nodes: usize,
    /// The number of observations `n ≥ 1`.
    pub samples: usize,
    /// The edge probability, in `[0, 1]`; `None` means `2/(d−1)` (clamped to 1).
    #[serde(default)]
    pub edge_prob: Option<f64>,
    /// The standard deviation of the additive noise (> 0).
    #[serde(default = "default_noise")]
    pub noise_std: f64,
    /// The seed of the graph, the weights and the samples.
    #[serde(default)]
    pub seed: u64,
}

fn default_noise() -> f64 {
    0.1f64.sqrt()
}

impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig { nodes: 5, samples: 100, edge_prob: None, noise_std: default_noise(), seed: 0 }
    }
}

impl FromStr for SimulationConfig {
    type Err = Error;

    /// Parses `d=5,n=100,p=0.5,noise=0.3,seed=1` (any order; `d` and `n` default to 5 and 100).
    fn from_str(text: &str) -> Result<Self> {
        let mut config = SimulationConfig::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| Error::config("simulate", part, "expected key=value (keys d, n, p, noise, seed)"))?;
            let bad = |what: &str| Error::config("simulate", part, format!("{key} must be {what}"));
            match key.trim() {
                "d" => config.nodes = value.trim().parse().map_err(|_| bad("an integer"))?,
                "n" => config.samples = value.trim().parse().map_err(|_| bad("an integer"))?,
                "p" => config.edge_prob = Some(value.trim().parse().map_err(|_| bad("a number"))?),
                "noise" => config.noise_std = value.trim().parse().map_err(|_| bad("a number"))?,
                "seed" => config.seed = value.trim().parse().map_err(|_| bad("an integer"))?,
                other => return Err(Error::config("simulate", other, "unknown key (expected d, n, p, noise, seed)")),
            }
        }
        config.validate()?;
        Ok(config)
    }
}

impl fmt::Display for SimulationConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "d={},n={},p={},noise={},seed={}",
            self.nodes,
            self.samples,
            self.edge_prob(),
            self.noise_std,
            self.seed
        )
    }
}

/// A simulated data set and the model that generated it.
#[derive(Clone, Debug)]
pub struct Simulation {
    /// The true graph.
    pub graph: Dag,
    /// `weights[i * d + j]` is the weight of `i → j` (0 without the edge).
    pub weights: Vec<f64>,
    /// The observations (columns `x0, x1, …`).
    pub data: Dataset,
}

impl SimulationConfig {
    /// Checks the ranges of the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_NODES).contains(&self.nodes) {
            return Err(Error::config("simulate.d", self.nodes, format!("must be in 1..={MAX_NODES}")));
        }
        if self.samples < 2 {
            return Err(Error::config("simulate.n", self.samples, "needs at least 2 observations"));
        }
        if let Some(p) = self.edge_prob
            && !(0.0..=1.0).contains(&p)
        {
            return Err(Error::config("simulate.p", p, "must be in [0, 1]"));
        }
        if !(self.noise_std.is_finite() && self.noise_std > 0.0) {
            return Err(Error::config("simulate.noise", self.noise_std, "must be a positive number"));
        }
        Ok(())
    }

    /// The edge probability in use.
    pub fn edge_prob(&self) -> f64 {
        self.edge_prob.unwrap_or(if self.nodes <= 2 { 1.0 } else { 2.0 / (self.nodes - 1) as f64 })
    }

    /// Draws the graph, the weights and the samples.
    pub fn simulate(&self) -> Result<Simulation> {
        self.validate()?;
        let d = self.nodes;
        let p = self.edge_prob();
        let mut rng = stream(self.seed, Purpose::User, &[0x6461_6773]);
        let mut order: Vec<usize> = (0..d).collect();
        order.shuffle(&mut rng);
        let mut graph = Dag::empty(d);
        let mut weights = vec![0.0; d * d];
        for a in 0..d {
            for b in a + 1..d {
                if rng.random::<f64>() < p {
                    let (i, j) = (order[a], order[b]);
                    graph.add_edge(i, j);
                    weights[i * d + j] = rng.sample(StandardNormal);
                }
            }
        }
        let mut values = vec![0.0; self.samples * d];
        for row in values.chunks_exact_mut(d) {
            for &j in &order {
                let noise: f64 = rng.sample(StandardNormal);
                row[j] = self.noise_std * noise + (0..d).map(|i| weights[i * d + j] * row[i]).sum::<f64>();
            }
        }
        let names = (0..d).map(|j| format!("x{j}")).collect();
        let data = Dataset::new(names, values, &format!("simulated data ({self})"))?;
        Ok(Simulation { graph, weights, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates_the_text_form() {
        let c: SimulationConfig = "d=4, n=50, p=0.3, seed=7".parse().unwrap();
        assert_eq!((c.nodes, c.samples, c.edge_prob, c.seed), (4, 50, Some(0.3), 7));
        assert_eq!(c.to_string().parse::<SimulationConfig>().unwrap(), c);
        let d: SimulationConfig = "d=5".parse().unwrap();
        assert_eq!((d.samples, d.edge_prob()), (100, 0.5));
        for bad in ["d=0", "d=33", "n=1", "p=1.5", "noise=0", "q=1", "d", "d=x"] {
            let err = bad.parse::<SimulationConfig>().expect_err(bad);
            assert!(matches!(err, Error::InvalidConfig { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn simulation_is_seeded_and_follows_the_graph() {
        let config = SimulationConfig { nodes: 6, samples: 2000, seed: 3, ..SimulationConfig::default() };
        let a = config.simulate().unwrap();
        let b = config.simulate().unwrap();
        assert_eq!(a.graph, b.graph);
        assert_eq!(a.data, b.data);
        let d = 6;
        for i in 0..d {
            for j in 0..d {
                assert_eq!(a.weights[i * d + j] != 0.0, a.graph.has_edge(i, j));
            }
        }
        // A root's sample variance is the noise variance (0.1) up to sampling error.
        let root = (0..d).find(|&j| a.graph.parents(j) == 0).unwrap();
        let n = a.data.samples() as f64;
        let mean = (0..a.data.samples()).map(|i| a.data.get(i, root)).sum::<f64>() / n;
        let var = (0..a.data.samples()).map(|i| (a.data.get(i, root) - mean).powi(2)).sum::<f64>() / n;
        assert!((var - 0.1).abs() < 0.015, "root variance {var}");
        let other = SimulationConfig { seed: 4, ..config }.simulate().unwrap();
        assert_ne!(a.data, other.data);
    }
}
