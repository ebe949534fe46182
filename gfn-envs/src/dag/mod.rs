//! Bayesian structure learning over DAGs (DAG-GFlowNet, Deleu et al. 2022; DOMAINS §2).
//!
//! A state is a DAG over the `d` observed variables, built from the empty graph one edge at a
//! time; **every state may stop**, and the terminal object is the graph itself. The reward is
//! the (unnormalised) posterior `R(G) = P(D | G) P(G)`, so a trained sampler draws graphs from
//! `P(G | D)`.
//!
//! - **Actions**: `i·d + j` adds `i → j` (`d²` actions), `d²` stops. The forward mask forbids
//!   existing edges, self-loops and every edge that would close a cycle; it is read off the
//!   transitive closure kept in the state ([`Dag`]), updated in `O(d)` word operations per added
//!   edge (the bit-set form of the `O(d²)` outer-product update). Backward: remove any edge,
//!   uniformly (`P_B = 1/#edges`).
//! - **Reward**: `log R(G) = Σ_j [LS(j, Pa_j) + log P_j(|Pa_j|)]` with the BGe or the
//!   linear-Gaussian local score and a uniform or Erdős–Rényi prior ([`scores`]). Node terms are
//!   cached by `(j, Pa_j)` in a thread-safe map with hit/miss counters
//!   ([`DagEnv::cache_stats`]), so `log_reward` on intermediate states — which modified detailed
//!   balance and DB need at every step — costs `d` look-ups, and the reward change of an edge
//!   addition is one node-term difference ([`scores::Scorer::delta_log_score`]).
//! - **Data**: a CSV file with a header ([`Dataset::from_csv_path`]) or a simulated Erdős–Rényi
//!   linear-Gaussian model ([`SimulationConfig`]).
//! - **Features** (`4d²` values, slot-major): node `i`'s slot holds its parents and children
//!   (column and row `i` of the adjacency matrix) and the edges `i → ·` and `· → i` that may still
//!   be added (row and column `i` of the forward mask, which encodes the transitive closure). The
//!   environment declares this as a `SlotLayout` (`d` slots, ordered pairs, edge action `i·d + j`
//!   on the pair `(i, j)`, stop as the one extra action), so besides the MLP it can be trained with
//!   the permutation-equivariant pair policy (`Architecture::Pairs`, `--architecture pairs`).
//! - **Exact evaluation** for `d ≤ 5`: [`DagEnv`] implements `Enumerable` (29,281 states for
//!   `d = 5`), and [`ExactPosterior`] enumerates all DAGs independently for the posterior and the
//!   metrics ([`DagMetrics`]: JSD, edge-marginal MAE, expected SHD, edge AUROC).
//!
//! ```
//! use gfn_core::env::{Environment, EnvironmentExt};
//! use gfn_envs::dag::{DagConfig, DagEnv, DataSource, ExactPosterior, SimulationConfig};
//!
//! let sim = SimulationConfig { nodes: 3, samples: 50, seed: 1, ..SimulationConfig::default() };
//! let env = DagEnv::new(DagConfig { data: DataSource::Simulate(sim), ..DagConfig::default() })?;
//! let mut g = env.source();
//! env.step(&mut g, env.add_action(0, 1))?; // 0 → 1
//! env.step(&mut g, env.add_action(1, 2))?; // 1 → 2
//! assert!(env.step(&mut g.clone(), env.add_action(2, 0)).is_err(), "2 → 0 would close a cycle");
//! let delta = env.scorer().delta_log_score(&g, 0, 2);
//! let bigger = env.child(&g, env.add_action(0, 2))?;
//! assert!((env.log_reward(&bigger) - env.log_reward(&g) - delta).abs() < 1e-9);
//!
//! let posterior = ExactPosterior::new(&env)?; // all 25 DAGs on 3 nodes
//! assert_eq!(posterior.distribution().graphs().len(), 25);
//! let marginals = posterior.distribution().edge_marginals(); // P(i → j), row-major
//! assert!(marginals.iter().all(|p| (0.0..=1.0).contains(p)));
//! println!("cache: {:?}", env.cache_stats());
//! # Ok::<(), gfn_core::Error>(())
//! ```

mod data;
mod env;
mod exact;
mod graph;
mod metrics;
pub mod scores;
mod simulate;

pub use data::Dataset;
pub use env::{DagConfig, DagEnv, DataSource, MAX_ENUMERABLE_NODES};
pub use exact::{ExactPosterior, dag_count, enumerate_dags};
pub use graph::{Dag, MAX_NODES};
pub use metrics::{DagMetrics, GraphDistribution, edge_auroc};
pub use simulate::{Simulation, SimulationConfig};

#[cfg(test)]
mod tests;
