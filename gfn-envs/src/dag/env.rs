//! The DAG environment: add one edge at a time, stop at any DAG.

use std::path::PathBuf;

use gfn_core::env::{Enumerable, Environment, PairKind, SlotLayout};
use gfn_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::data::Dataset;
use super::graph::Dag;
use super::scores::{CacheStats, GraphPrior, ScoreConfig, Scorer};
use super::simulate::{Simulation, SimulationConfig};

/// Where the observations come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase", deny_unknown_fields)]
pub enum DataSource {
    /// A CSV file with a header (see [`Dataset::from_csv_path`]), re-read when the environment is
    /// rebuilt (a checkpoint records the path and a digest of the values in its signature).
    Csv {
        /// The file.
        path: PathBuf,
    },
    /// Data simulated from an Erdős–Rényi linear-Gaussian model; rebuilt bit-exactly from the seed.
    Simulate(SimulationConfig),
}

impl Default for DataSource {
    fn default() -> Self {
        DataSource::Simulate(SimulationConfig::default())
    }
}

/// Parameters of [`DagEnv`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DagConfig {
    /// The data.
    pub data: DataSource,
    /// The marginal likelihood.
    pub score: ScoreConfig,
    /// The graph prior.
    pub prior: GraphPrior,
}

/// Bayesian structure learning over DAGs (DAG-GFlowNet); see the [module documentation](super).
#[derive(Debug)]
pub struct DagEnv {
    config: DagConfig,
    data: Dataset,
    truth: Option<Simulation>,
    scorer: Scorer,
    nodes: usize,
}

/// Features per node slot, in units of `d`: parents, children, addable children, addable parents.
const SLOT_FEATURES: usize = 4;

/// DAGs are enumerated for exact evaluation up to this many nodes (29,281 DAGs).
pub const MAX_ENUMERABLE_NODES: usize = 5;

impl DagEnv {
    /// Reads or simulates the data, validates the score and prior, and builds the environment.
    pub fn new(config: DagConfig) -> Result<Self> {
        let (data, truth) = match &config.data {
            DataSource::Csv { path } => (Dataset::from_csv_path(path)?, None),
            DataSource::Simulate(sim) => {
                let simulation = sim.simulate()?;
                (simulation.data.clone(), Some(simulation))
            }
        };
        Self::build(config, data, truth)
    }

    /// An environment over an in-memory data set (`config.data` is kept only as a description).
    pub fn from_dataset(data: Dataset, score: ScoreConfig, prior: GraphPrior) -> Result<Self> {
        let config = DagConfig { data: DataSource::Csv { path: PathBuf::from("<memory>") }, score, prior };
        Self::build(config, data, None)
    }

    fn build(config: DagConfig, data: Dataset, truth: Option<Simulation>) -> Result<Self> {
        let scorer = Scorer::new(&data, &config.score, &config.prior)?;
        let nodes = data.variables();
        Ok(DagEnv { config, data, truth, scorer, nodes })
    }

    /// The configuration.
    pub fn config(&self) -> &DagConfig {
        &self.config
    }

    /// The number of variables `d`.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The data set.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The generating model, for simulated data.
    pub fn simulation(&self) -> Option<&Simulation> {
        self.truth.as_ref()
    }

    /// The scorer (node terms, deltas, cache).
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// Hit and miss counts of the local-score cache.
    pub fn cache_stats(&self) -> CacheStats {
        self.scorer.cache().stats()
    }

    /// The action that adds `i → j`.
    pub fn add_action(&self, i: usize, j: usize) -> usize {
        i * self.nodes + j
    }

    /// The edge `(i, j)` added by a non-exit action.
    pub fn edge_of(&self, action: usize) -> (usize, usize) {
        (action / self.nodes, action % self.nodes)
    }

    fn invalid(&self, state: &Dag, action: usize, reason: &str) -> Error {
        Error::InvalidAction { action, state: format!("{state:?}"), reason: reason.into() }
    }
}

impl Environment for DagEnv {
    type State = Dag;

    fn name(&self) -> String {
        "dag".into()
    }

    fn action_count(&self) -> usize {
        self.nodes * self.nodes + 1
    }

    fn exit_action(&self) -> usize {
        self.nodes * self.nodes
    }

    /// `d` node slots of `4d` features each: `4d²` (see `encode`).
    fn feature_dim(&self) -> usize {
        SLOT_FEATURES * self.nodes * self.nodes
    }

    /// Node `i` is slot `i`, and the edge action `i·d + j` is the ordered pair `(i, j)`, so the
    /// permutation-equivariant pair policy applies: `d` slots, ordered pairs (the diagonal is always
    /// masked), one action per pair, and stop.
    fn slot_layout(&self) -> Option<SlotLayout> {
        let d = self.nodes;
        Some(SlotLayout {
            slots: d,
            slot_dim: SLOT_FEATURES * d,
            global_dim: 0,
            pairs: PairKind::Ordered,
            per_pair: 1,
            extra_actions: 1,
        })
    }

    fn source(&self) -> Dag {
        Dag::empty(self.nodes)
    }

    fn forward_mask(&self, state: &Dag, mask: &mut [bool]) {
        let d = self.nodes;
        for j in 0..d {
            let addable = state.addable_parents(j);
            for i in 0..d {
                mask[i * d + j] = addable >> i & 1 == 1;
            }
        }
        mask[d * d] = true;
    }

    fn backward_mask(&self, state: &Dag, mask: &mut [bool]) {
        let d = self.nodes;
        for j in 0..d {
            let parents = state.parents(j);
            for i in 0..d {
                mask[i * d + j] = parents >> i & 1 == 1;
            }
        }
        mask[d * d] = false;
    }

    fn step(&self, state: &mut Dag, action: usize) -> Result<()> {
        if action >= self.nodes * self.nodes {
            return Err(self.invalid(state, action, "not an edge action"));
        }
        let (i, j) = self.edge_of(action);
        if !state.can_add(i, j) {
            return Err(self.invalid(state, action, "the edge exists, is a self-loop or closes a cycle"));
        }
        state.add_edge(i, j);
        Ok(())
    }

    fn backward_step(&self, state: &mut Dag, action: usize) -> Result<()> {
        if action >= self.nodes * self.nodes {
            return Err(self.invalid(state, action, "not an edge action"));
        }
        let (i, j) = self.edge_of(action);
        if !state.has_edge(i, j) {
            return Err(self.invalid(state, action, "the edge is not in the graph"));
        }
        state.remove_edge(i, j);
        Ok(())
    }

    /// `Σ_j [LS(j, Pa_j) + log P_j]` from the cache: `d` look-ups, at most one new local score per
    /// step of a trajectory (only the target node's parents change).
    fn log_reward(&self, state: &Dag) -> f64 {
        self.scorer.log_score(state)
    }

    /// Slot-major: slot `i` holds node `i`'s parents (column `i` of the adjacency matrix), its
    /// children (row `i`), the nodes it may still point to (row `i` of the edge mask) and those that
    /// may still point to it (column `i`), `d` indicators each. Together the slots hold the whole
    /// adjacency matrix and mask, so the MLP sees the same information.
    fn encode(&self, state: &Dag, out: &mut [f32]) {
        let d = self.nodes;
        let indicator = |b: bool| f32::from(u8::from(b));
        for (i, slot) in out.chunks_exact_mut(SLOT_FEATURES * d).enumerate() {
            let (parents, addable) = (state.parents(i), state.addable_parents(i));
            for k in 0..d {
                slot[k] = indicator(parents >> k & 1 == 1);
                slot[d + k] = indicator(state.has_edge(i, k));
                slot[2 * d + k] = indicator(state.can_add(i, k));
                slot[3 * d + k] = indicator(addable >> k & 1 == 1);
            }
        }
    }

    fn signature(&self) -> String {
        let c = &self.config;
        format!("dag:{}:{:?}:{}:{:016x}", self.nodes, c.score, c.prior, self.data.digest())
    }
}

impl Enumerable for DagEnv {
    /// Exact evaluation is offered for `d ≤ 5` (29,281 DAGs); beyond it the limit is 0, so
    /// enumeration fails at once with `TooManyStates` instead of exploring millions of graphs.
    fn state_limit(&self) -> usize {
        if self.nodes <= MAX_ENUMERABLE_NODES { 29_281 } else { 0 }
    }
}
