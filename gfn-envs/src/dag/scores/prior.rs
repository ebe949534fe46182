//! Modular graph priors: `log P(G) = Σ_j log P_j(|Pa_j|)` (DOMAINS §2.3).

use std::fmt;
use std::str::FromStr;

use gfn_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// A prior over DAGs that factorises over nodes by their number of parents.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraphPrior {
    /// Every DAG equally likely (`log P_j = 0`); the default of the DAG-GFlowNet experiments.
    #[default]
    Uniform,
    /// Independent edges with probability `ρ = expected_edges / (d(d−1)/2)`:
    /// `log P_j(p) = p ln ρ + (d − 1 − p) ln(1 − ρ)`.
    ErdosRenyi {
        /// The expected number of edges, in `(0, d(d−1)/2)`; `None` means `d`.
        #[serde(default)]
        expected_edges: Option<f64>,
    },
}

impl FromStr for GraphPrior {
    type Err = Error;

    /// `uniform`, `er` (expected edges `d`) or `er=E`.
    fn from_str(text: &str) -> Result<Self> {
        match text.trim().split_once('=') {
            None if text.trim() == "uniform" => Ok(GraphPrior::Uniform),
            None if text.trim() == "er" => Ok(GraphPrior::ErdosRenyi { expected_edges: None }),
            Some(("er", e)) => e
                .trim()
                .parse()
                .map(|e| GraphPrior::ErdosRenyi { expected_edges: Some(e) })
                .map_err(|_| Error::config("graph_prior", text, "expected edges must be a number")),
            _ => Err(Error::config("graph_prior", text, "expected uniform, er or er=EXPECTED_EDGES")),
        }
    }
}

impl fmt::Display for GraphPrior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphPrior::Uniform => write!(f, "uniform"),
            GraphPrior::ErdosRenyi { expected_edges: None } => write!(f, "er"),
            GraphPrior::ErdosRenyi { expected_edges: Some(e) } => write!(f, "er={e}"),
        }
    }
}

/// A [`GraphPrior`] resolved for `d` nodes: the log-prior term of every in-degree.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePrior {
    by_parent_count: Vec<f64>,
}

impl NodePrior {
    /// Validates `prior` for `nodes` variables and tabulates `log P_j(p)` for `p < nodes`.
    pub fn new(prior: &GraphPrior, nodes: usize) -> Result<Self> {
        let by_parent_count = match prior {
            GraphPrior::Uniform => vec![0.0; nodes],
            GraphPrior::ErdosRenyi { expected_edges } => {
                let pairs = (nodes * nodes.saturating_sub(1) / 2) as f64;
                let e = expected_edges.unwrap_or(nodes as f64);
                if nodes < 2 {
                    vec![0.0; nodes]
                } else if !(e > 0.0 && e < pairs) {
                    return Err(Error::config("graph_prior", e, format!("expected edges must be in (0, {pairs})")));
                } else {
                    let rho = e / pairs;
                    (0..nodes).map(|p| p as f64 * rho.ln() + (nodes - 1 - p) as f64 * (-rho).ln_1p()).collect()
                }
            }
        };
        Ok(NodePrior { by_parent_count })
    }

    /// `log P_j` for a node with `parents` parents.
    pub fn log_prior(&self, parents: usize) -> f64 {
        self.by_parent_count[parents]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_tabulates() {
        assert_eq!("uniform".parse::<GraphPrior>().unwrap(), GraphPrior::Uniform);
        assert_eq!("er".parse::<GraphPrior>().unwrap(), GraphPrior::ErdosRenyi { expected_edges: None });
        let er: GraphPrior = "er=3".parse().unwrap();
        assert_eq!(er.to_string().parse::<GraphPrior>().unwrap(), er);
        assert!("bogus".parse::<GraphPrior>().is_err());
        assert!("er=x".parse::<GraphPrior>().is_err());
        // d = 4: 6 pairs, rho = 0.5, so every node has (d-1) ln 0.5 whatever its parents.
        let node = NodePrior::new(&er, 4).unwrap();
        for p in 0..4 {
            assert!((node.log_prior(p) - 3.0 * 0.5f64.ln()).abs() < 1e-12);
        }
        // The node terms of all DAGs sum to the ER log-probability of their edge set.
        let sparse = NodePrior::new(&GraphPrior::ErdosRenyi { expected_edges: Some(1.5) }, 4).unwrap();
        let rho: f64 = 0.25;
        let graph = [0usize, 1, 2, 0]; // 3 edges
        let total: f64 = graph.iter().map(|&p| sparse.log_prior(p)).sum();
        let direct = 3.0 * rho.ln() + (12.0 - 3.0) * (1.0 - rho).ln();
        assert!((total - direct).abs() < 1e-12);
        assert!(NodePrior::new(&GraphPrior::ErdosRenyi { expected_edges: Some(6.0) }, 4).is_err());
    }
}
