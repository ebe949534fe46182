//! A small hand-written environment with a slot layout, for the pair-policy tests: labelled graphs
//! on `nodes` nodes built by adding edges one at a time.

use gfn_core::env::{Enumerable, Environment, PairKind, SlotLayout};
use gfn_core::{Error, Result};

/// Graphs on `nodes` nodes with at most `max_edges` edges, each edge carrying one of `labels`
/// labels. Edges are unordered pairs `{i, j}` or, with [`PairKind::Ordered`], directed `i → j`
/// (`i ≠ j`). Action `pair·labels + k` adds the edge `pair` with label `k`; the last action exits,
/// which every state may do. `log R = Σ_edges w(i, j, k)` for fixed weights in `[-1, 1]`.
///
/// State: one entry per pair of the layout, 0 for no edge and `k + 1` for an edge labelled `k`.
#[derive(Debug, Clone)]
pub(crate) struct PairGraph {
    pub(crate) nodes: usize,
    pub(crate) pairs: PairKind,
    pub(crate) labels: usize,
    pub(crate) max_edges: usize,
}

impl PairGraph {
    fn layout(&self) -> SlotLayout {
        SlotLayout {
            slots: self.nodes,
            slot_dim: self.nodes * (1 + self.labels * self.directions()),
            global_dim: self.max_edges + 1,
            pairs: self.pairs,
            per_pair: self.labels,
            extra_actions: 1,
        }
    }

    fn directions(&self) -> usize {
        if self.pairs == PairKind::Ordered { 2 } else { 1 }
    }

    fn pair_of(&self, p: usize) -> (usize, usize) {
        self.layout().pair(p).expect("pair in range")
    }

    fn weight(&self, i: usize, j: usize, k: usize) -> f64 {
        ((i * 7 + j * 3 + k * 5) % 5) as f64 * 0.5 - 1.0
    }

    fn edges(&self, s: &[u8]) -> usize {
        s.iter().filter(|&&e| e > 0).count()
    }

    fn bad(&self, s: &[u8], action: usize, reason: &str) -> Error {
        Error::InvalidAction { action, state: format!("{s:?}"), reason: reason.into() }
    }
}

impl Environment for PairGraph {
    type State = Vec<u8>;
    fn name(&self) -> String {
        format!("test-pair-graph-{:?}", self.pairs)
    }
    fn action_count(&self) -> usize {
        self.layout().action_count()
    }
    fn exit_action(&self) -> usize {
        self.action_count() - 1
    }
    fn feature_dim(&self) -> usize {
        self.layout().feature_dim()
    }
    fn source(&self) -> Vec<u8> {
        vec![0; self.layout().pair_count()]
    }
    fn forward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        let room = self.edges(s) < self.max_edges;
        for (p, &e) in s.iter().enumerate() {
            let (i, j) = self.pair_of(p);
            for k in 0..self.labels {
                mask[p * self.labels + k] = room && e == 0 && i != j;
            }
        }
        mask[self.exit_action()] = true;
    }
    fn backward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        for (p, &e) in s.iter().enumerate() {
            for k in 0..self.labels {
                mask[p * self.labels + k] = e as usize == k + 1;
            }
        }
        mask[self.exit_action()] = false;
    }
    fn step(&self, s: &mut Vec<u8>, a: usize) -> Result<()> {
        let mut mask = vec![false; self.action_count()];
        self.forward_mask(s, &mut mask);
        if a >= self.exit_action() || !mask[a] {
            return Err(self.bad(s, a, "not an allowed edge"));
        }
        s[a / self.labels] = (a % self.labels + 1) as u8;
        Ok(())
    }
    fn backward_step(&self, s: &mut Vec<u8>, a: usize) -> Result<()> {
        if a >= self.exit_action() || s[a / self.labels] as usize != a % self.labels + 1 {
            return Err(self.bad(s, a, "no such edge"));
        }
        s[a / self.labels] = 0;
        Ok(())
    }
    fn log_reward(&self, s: &Vec<u8>) -> f64 {
        s.iter()
            .enumerate()
            .filter(|(_, e)| **e > 0)
            .map(|(p, &e)| {
                let (i, j) = self.pair_of(p);
                self.weight(i, j, e as usize - 1)
            })
            .sum()
    }
    /// Slot `i`: one-hot node id, then per node `j` the one-hot label of the edge `i → j` (or
    /// `{i, j}`), then (ordered) of the edge `j → i`. Global: one-hot edge count.
    fn encode(&self, s: &Vec<u8>, out: &mut [f32]) {
        let layout = self.layout();
        let (n, l) = (self.nodes, self.labels);
        for (p, &e) in s.iter().enumerate().filter(|(_, e)| **e > 0) {
            let (i, j) = self.pair_of(p);
            let k = e as usize - 1;
            out[i * layout.slot_dim + n + j * l + k] = 1.0;
            let back = if self.pairs == PairKind::Ordered { n * l } else { 0 };
            out[j * layout.slot_dim + n + back + i * l + k] = 1.0;
        }
        for i in 0..n {
            out[i * layout.slot_dim + i] = 1.0;
        }
        out[n * layout.slot_dim + self.edges(s)] = 1.0;
    }
    fn slot_layout(&self) -> Option<SlotLayout> {
        Some(self.layout())
    }
}

impl Enumerable for PairGraph {}
