//! Log-rewards of DAGs: decomposable marginal likelihoods plus a modular graph prior,
//! `log R(G) = Σ_j [LS(j, Pa_j) + log P_j(|Pa_j|)]`, with every node term cached.

mod bge;
mod cache;
mod lingauss;
mod prior;

pub use bge::{Bge, BgeParams};
pub use cache::{CacheStats, ScoreCache};
pub use lingauss::{LinGauss, LinGaussParams};
pub use prior::{GraphPrior, NodePrior};

use std::str::FromStr;

use gfn_core::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::data::Dataset;
use super::graph::Dag;

/// Which marginal likelihood scores a node given its parents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ScoreConfig {
    /// BGe (score-equivalent; DOMAINS §2.3 defaults).
    Bge(BgeParams),
    /// Linear-Gaussian with Gaussian weights integrated out.
    Lingauss(LinGaussParams),
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig::Bge(BgeParams::default())
    }
}

impl FromStr for ScoreConfig {
    type Err = Error;

    /// `bge` or `lingauss`, with default hyper-parameters.
    fn from_str(text: &str) -> Result<Self> {
        match text.trim() {
            "bge" => Ok(ScoreConfig::Bge(BgeParams::default())),
            "lingauss" => Ok(ScoreConfig::Lingauss(LinGaussParams::default())),
            other => Err(Error::config("score", other, "expected bge or lingauss")),
        }
    }
}

/// A local score built from a data set.
#[derive(Clone, Debug)]
pub enum LocalScore {
    /// BGe.
    Bge(Bge),
    /// Linear-Gaussian.
    Lingauss(LinGauss),
}

impl LocalScore {
    /// Validates `config` and precomputes the sufficient statistics of `data`.
    pub fn new(data: &Dataset, config: &ScoreConfig) -> Result<Self> {
        Ok(match config {
            ScoreConfig::Bge(p) => LocalScore::Bge(Bge::new(data, p)?),
            ScoreConfig::Lingauss(p) => LocalScore::Lingauss(LinGauss::new(data, p)?),
        })
    }

    /// The uncached local score of node `j` with parent set `parents`.
    pub fn local_score(&self, j: usize, parents: u32) -> f64 {
        match self {
            LocalScore::Bge(s) => s.local_score(j, parents),
            LocalScore::Lingauss(s) => s.local_score(j, parents),
        }
    }
}

/// Node scores `LS(j, Pa) + log P_j(|Pa|)`, cached by `(j, Pa)`.
#[derive(Debug)]
pub struct Scorer {
    local: LocalScore,
    prior: NodePrior,
    cache: ScoreCache,
}

impl Scorer {
    /// A scorer of `data` with `score` and `prior`.
    pub fn new(data: &Dataset, score: &ScoreConfig, prior: &GraphPrior) -> Result<Self> {
        let d = data.variables();
        Ok(Scorer { local: LocalScore::new(data, score)?, prior: NodePrior::new(prior, d)?, cache: ScoreCache::new(d) })
    }

    /// The node term of `j` with parent set `parents` (cached).
    pub fn node_score(&self, j: usize, parents: u32) -> f64 {
        self.cache.get_or_insert_with(j, parents, || {
            self.local.local_score(j, parents) + self.prior.log_prior(parents.count_ones() as usize)
        })
    }

    /// `log R(G)`: the sum of the node terms, in node order (`d` cache look-ups).
    pub fn log_score(&self, dag: &Dag) -> f64 {
        (0..dag.nodes()).map(|j| self.node_score(j, dag.parents(j))).sum()
    }

    /// `log R(G + i→j) − log R(G)`: one node-term difference, since only `j`'s parents change.
    pub fn delta_log_score(&self, dag: &Dag, i: usize, j: usize) -> f64 {
        let parents = dag.parents(j);
        self.node_score(j, parents | 1 << i) - self.node_score(j, parents)
    }

    /// The local score (without cache or prior).
    pub fn local(&self) -> &LocalScore {
        &self.local
    }

    /// The cache (for hit-rate reports).
    pub fn cache(&self) -> &ScoreCache {
        &self.cache
    }
}

/// The members of a bit set, in increasing order.
fn members(set: u32) -> Vec<usize> {
    (0..32).filter(|&i| set >> i & 1 == 1).collect()
}

/// The square submatrix of `m` on `index` (rows and columns in that order).
fn submatrix(m: &DMatrix<f64>, index: &[usize]) -> DMatrix<f64> {
    DMatrix::from_fn(index.len(), index.len(), |a, b| m[(index[a], index[b])])
}

#[cfg(test)]
mod tests;
