//! Exact posteriors over DAGs by enumeration (`d ≤ 5`; DOMAINS §2.5).

use std::collections::HashMap;

use gfn_core::eval::divergence::logsumexp;
use gfn_core::{Error, Result};

use super::env::{DagEnv, MAX_ENUMERABLE_NODES};
use super::graph::Dag;
use super::metrics::GraphDistribution;

/// The number of labelled DAGs on `d` nodes (OEIS A003024) by Robinson's recurrence
/// `a(n) = Σ_{k=1..n} (−1)^{k+1} C(n,k) 2^{k(n−k)} a(n−k)`; `None` when it overflows `u128`.
pub fn dag_count(d: usize) -> Option<u128> {
    let mut a: Vec<i128> = vec![1];
    for n in 1..=d {
        let mut total: i128 = 0;
        let mut binom: i128 = 1;
        for k in 1..=n {
            binom = binom.checked_mul((n - k + 1) as i128)? / k as i128;
            let term =
                binom.checked_mul(1i128.checked_shl(u32::try_from(k * (n - k)).ok()?)?)?.checked_mul(a[n - k])?;
            total = if k % 2 == 1 { total.checked_add(term)? } else { total.checked_sub(term)? };
        }
        a.push(total);
    }
    u128::try_from(a[d]).ok()
}

/// Every DAG on `d ≤ 5` nodes, by brute force over all `2^{d(d−1)}` off-diagonal adjacency
/// patterns filtered by a topological sort (independent of the environment's closure mask).
pub fn enumerate_dags(d: usize) -> Result<Vec<Dag>> {
    if d > MAX_ENUMERABLE_NODES {
        return Err(Error::config("nodes", d, format!("DAGs are enumerated for at most {MAX_ENUMERABLE_NODES} nodes")));
    }
    let slots: Vec<(usize, usize)> =
        (0..d).flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j))).collect();
    let mut out = Vec::new();
    let mut parents = vec![0u32; d];
    for pattern in 0u64..1 << slots.len() {
        parents.fill(0);
        for (b, &(i, j)) in slots.iter().enumerate() {
            if pattern >> b & 1 == 1 {
                parents[j] |= 1 << i;
            }
        }
        out.extend(Dag::acyclic(&parents));
    }
    Ok(out)
}

/// The exact posterior `P(G | D) = R(G) / Σ_G' R(G')` over every DAG of a small environment.
#[derive(Clone, Debug)]
pub struct ExactPosterior {
    distribution: GraphDistribution,
    log_rewards: Vec<f64>,
    log_z: f64,
    index: HashMap<Dag, usize>,
}

impl ExactPosterior {
    /// Enumerates the DAGs of `env` (`d ≤ 5`) and normalises their rewards.
    pub fn new(env: &DagEnv) -> Result<Self> {
        use gfn_core::env::EnvironmentExt as _;
        let graphs = enumerate_dags(env.nodes())?;
        let log_rewards = graphs.iter().map(|g| env.checked_log_reward(g)).collect::<Result<Vec<f64>>>()?;
        let log_z = logsumexp(&log_rewards);
        if !log_z.is_finite() {
            return Err(Error::InconsistentEnvironment(format!("the posterior normaliser is {log_z}")));
        }
        let probs = log_rewards.iter().map(|r| (r - log_z).exp()).collect();
        let index = graphs.iter().enumerate().map(|(k, g)| (*g, k)).collect();
        Ok(ExactPosterior { distribution: GraphDistribution::new(graphs, probs)?, log_rewards, log_z, index })
    }

    /// The posterior as a distribution over graphs.
    pub fn distribution(&self) -> &GraphDistribution {
        &self.distribution
    }

    /// `log Σ_G R(G)`.
    pub fn log_z(&self) -> f64 {
        self.log_z
    }

    /// The log-rewards, in the order of [`GraphDistribution::graphs`].
    pub fn log_rewards(&self) -> &[f64] {
        &self.log_rewards
    }

    /// The position of `graph` in the enumeration.
    pub fn index_of(&self, graph: &Dag) -> Option<usize> {
        self.index.get(graph).copied()
    }

    /// Re-orders a distribution given as `(graph, probability)` pairs into the enumeration order
    /// (graphs not listed get 0); an error if a graph is not a DAG of this size.
    pub fn align<'a>(&self, pairs: impl IntoIterator<Item = (&'a Dag, f64)>) -> Result<GraphDistribution> {
        let mut probs = vec![0.0; self.index.len()];
        for (graph, p) in pairs {
            let k = self
                .index_of(graph)
                .ok_or_else(|| Error::InconsistentEnvironment(format!("{graph:?} is not among the enumerated DAGs")))?;
            probs[k] += p;
        }
        GraphDistribution::new(self.distribution.graphs().to_vec(), probs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dag::env::{DagConfig, DataSource};
    use crate::dag::simulate::SimulationConfig;
    use gfn_core::env::Enumerable as _;

    #[test]
    fn counts_match_robinson_and_the_state_graph() {
        let expected = [1u128, 1, 3, 25, 543, 29_281];
        for (d, &count) in expected.iter().enumerate() {
            assert_eq!(dag_count(d), Some(count));
            assert_eq!(enumerate_dags(d).unwrap().len() as u128, count, "d = {d}");
        }
        assert_eq!(dag_count(6), Some(3_781_503));
        assert_eq!(dag_count(7), Some(1_138_779_265));
        assert!(enumerate_dags(6).is_err());
        for (d, &count) in expected.iter().enumerate().take(5).skip(1) {
            let config = DagConfig {
                data: DataSource::Simulate(SimulationConfig { nodes: d, samples: 20, ..SimulationConfig::default() }),
                ..DagConfig::default()
            };
            let env = DagEnv::new(config).unwrap();
            let graph = env.state_graph().unwrap();
            assert_eq!(graph.len() as u128, count, "the environment reaches every DAG for d = {d}");
            let posterior = ExactPosterior::new(&env).unwrap();
            assert!(graph.states.iter().all(|s| posterior.index_of(s).is_some()));
        }
    }
}
