//! Metrics of distributions over DAGs (DOMAINS §2.6): JSD to the exact posterior, edge-marginal
//! error, expected SHD and edge AUROC against the true graph.

use std::collections::HashMap;

use gfn_core::eval::divergence::jsd;
use gfn_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::graph::Dag;

/// A finite distribution over DAGs of one size.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphDistribution {
    graphs: Vec<Dag>,
    probs: Vec<f64>,
}

impl GraphDistribution {
    /// Graphs and their probabilities (non-negative, summing to 1 within 1e-6).
    pub fn new(graphs: Vec<Dag>, probs: Vec<f64>) -> Result<Self> {
        if graphs.is_empty() || graphs.len() != probs.len() {
            return Err(Error::config(
                "graphs",
                graphs.len(),
                format!("need one probability per graph, got {}", probs.len()),
            ));
        }
        let d = graphs[0].nodes();
        if let Some(g) = graphs.iter().find(|g| g.nodes() != d) {
            return Err(Error::config("graphs", format!("{g:?}"), format!("has {} nodes, not {d}", g.nodes())));
        }
        let total: f64 = probs.iter().sum();
        if probs.iter().any(|p| !(p.is_finite() && *p >= 0.0)) || (total - 1.0).abs() > 1e-6 {
            return Err(Error::config("probs", total, "probabilities must be non-negative and sum to 1"));
        }
        Ok(GraphDistribution { graphs, probs })
    }

    /// The empirical distribution of samples (distinct graphs in order of first appearance).
    pub fn from_samples(samples: &[Dag]) -> Result<Self> {
        let mut index: HashMap<Dag, usize> = HashMap::new();
        let (mut graphs, mut counts) = (Vec::new(), Vec::new());
        for g in samples {
            let k = *index.entry(*g).or_insert_with(|| {
                graphs.push(*g);
                counts.push(0.0);
                graphs.len() - 1
            });
            counts[k] += 1.0;
        }
        let n = samples.len() as f64;
        Self::new(graphs, counts.into_iter().map(|c| c / n).collect())
    }

    /// The graphs.
    pub fn graphs(&self) -> &[Dag] {
        &self.graphs
    }

    /// Their probabilities.
    pub fn probs(&self) -> &[f64] {
        &self.probs
    }

    /// The number of nodes.
    pub fn nodes(&self) -> usize {
        self.graphs[0].nodes()
    }

    /// `P(i → j)`, row-major `d × d`.
    pub fn edge_marginals(&self) -> Vec<f64> {
        let d = self.nodes();
        let mut out = vec![0.0; d * d];
        for (g, p) in self.graphs.iter().zip(&self.probs) {
            for (i, j) in g.edges() {
                out[i * d + j] += p;
            }
        }
        out
    }

    /// `E[SHD(G, truth)]`.
    pub fn expected_shd(&self, truth: &Dag) -> f64 {
        self.graphs.iter().zip(&self.probs).map(|(g, p)| p * g.shd(truth) as f64).sum()
    }

    /// `E[#edges]`.
    pub fn expected_edges(&self) -> f64 {
        self.graphs.iter().zip(&self.probs).map(|(g, p)| p * g.edge_count() as f64).sum()
    }
}

/// The edge AUROC of marginals `scores` (row-major `d × d`) against the edges of `truth`, over the
/// `d(d−1)` off-diagonal entries (the diagonal is never an edge), with ties counted one half
/// (Mann–Whitney). `None` when the truth has no edges or is complete.
pub fn edge_auroc(scores: &[f64], truth: &Dag) -> Option<f64> {
    let d = truth.nodes();
    let (mut positives, mut negatives) = (Vec::new(), Vec::new());
    for i in 0..d {
        for j in (0..d).filter(|&j| j != i) {
            if truth.has_edge(i, j) { &mut positives } else { &mut negatives }.push(scores[i * d + j]);
        }
    }
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let wins: f64 = positives
        .iter()
        .flat_map(|p| {
            negatives.iter().map(move |n| {
                if p > n {
                    1.0
                } else if p == n {
                    0.5
                } else {
                    0.0
                }
            })
        })
        .sum();
    Some(wins / (positives.len() * negatives.len()) as f64)
}

/// How a distribution over DAGs compares with the exact posterior and the true graph.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DagMetrics {
    /// Jensen–Shannon divergence (nats) to the exact posterior.
    pub jsd: Option<f64>,
    /// Mean absolute error of the `d(d−1)` off-diagonal edge marginals against the exact ones.
    pub edge_mae: Option<f64>,
    /// Expected structural Hamming distance to the true graph.
    pub expected_shd: Option<f64>,
    /// Edge AUROC of the marginals against the true graph.
    pub auroc: Option<f64>,
    /// Expected number of edges.
    pub expected_edges: f64,
}

impl DagMetrics {
    /// Compares `model` with the exact posterior (aligned to the same graphs, as from
    /// [`super::ExactPosterior::align`]) and the true graph, when known.
    pub fn compute(model: &GraphDistribution, exact: Option<&GraphDistribution>, truth: Option<&Dag>) -> Result<Self> {
        let marginals = model.edge_marginals();
        let d = model.nodes();
        let (jsd, edge_mae) = match exact {
            Some(exact) => {
                if exact.graphs != model.graphs {
                    return Err(Error::config("model", "graph order", "align the model to the exact posterior first"));
                }
                let e = exact.edge_marginals();
                let off = (0..d * d).filter(|a| a / d != a % d);
                let mae = off.map(|a| (marginals[a] - e[a]).abs()).sum::<f64>() / (d * d - d).max(1) as f64;
                (Some(jsd(&model.probs, &exact.probs)), Some(mae))
            }
            None => (None, None),
        };
        Ok(DagMetrics {
            jsd,
            edge_mae,
            expected_shd: truth.map(|t| model.expected_shd(t)),
            auroc: truth.and_then(|t| edge_auroc(&marginals, t)),
            expected_edges: model.expected_edges(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(parents: &[u32]) -> Dag {
        Dag::from_parents(parents).unwrap()
    }

    #[test]
    fn marginals_shd_and_auroc_of_a_known_mixture() {
        let a = dag(&[0, 0b01, 0]); // 0->1
        let b = dag(&[0b10, 0, 0]); // 1->0
        let c = dag(&[0, 0b01, 0b10]); // 0->1->2
        let model = GraphDistribution::new(vec![a, b, c], vec![0.5, 0.25, 0.25]).unwrap();
        let m = model.edge_marginals();
        assert_eq!(m[1], 0.75); // 0->1
        assert_eq!(m[3], 0.25); // 1->0
        assert_eq!(m[5], 0.25); // 1->2
        assert!((model.expected_edges() - 1.25).abs() < 1e-12);
        assert!((model.expected_shd(&a) - 0.5).abs() < 1e-12); // b: 1 (reversal), c: 1
        // Truth 0->1: the positive scores 0.75 beats all five negatives (0.25, 0.25, 0, 0, 0).
        assert_eq!(edge_auroc(&m, &a), Some(1.0));
        // Truth 1->0: 0.25 beats three zeros, ties the other 0.25, loses to 0.75 -> 3.5 / 5.
        assert_eq!(edge_auroc(&m, &b), Some(0.7));
        assert_eq!(edge_auroc(&m, &dag(&[0, 0, 0])), None);
        let metrics = DagMetrics::compute(&model, Some(&model), Some(&a)).unwrap();
        assert_eq!((metrics.jsd, metrics.edge_mae), (Some(0.0), Some(0.0)));
        let other = GraphDistribution::new(vec![a, b, c], vec![0.0, 0.0, 1.0]).unwrap();
        let metrics = DagMetrics::compute(&other, Some(&model), None).unwrap();
        // |1 - .75| + |0 - .25| + |1 - .25| over 6 off-diagonal entries.
        assert!((metrics.edge_mae.unwrap() - 1.25 / 6.0).abs() < 1e-12);
        assert!(metrics.jsd.unwrap() > 0.1);
    }

    #[test]
    fn empirical_distributions_count_samples() {
        let a = dag(&[0, 0b01]);
        let b = dag(&[0, 0]);
        let e = GraphDistribution::from_samples(&[a, b, a, a]).unwrap();
        assert_eq!(e.graphs(), [a, b]);
        assert_eq!(e.probs(), [0.75, 0.25]);
        assert!(GraphDistribution::from_samples(&[]).is_err());
        assert!(GraphDistribution::new(vec![a], vec![0.5]).is_err());
    }
}
