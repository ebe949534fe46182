//! [`RoundCaches`]: the forward passes of one lock-step sampling run, kept for the training step.

use std::borrow::Cow;

use nalgebra::DMatrix;

use super::PolicyCache;
use crate::backend::{Backend, Cpu};

/// The forward passes of one lock-step sampling run (one [`PolicyCache`] per round) and, for each
/// step of the sampled trajectories in batch order, the round and column that evaluated it.
///
/// An on-policy training step evaluates the policy on exactly the states the sampler just
/// evaluated, with the same parameters: [`Policy::forward_gathered`](super::Policy::forward_gathered)
/// copies those activations into one batch instead of recomputing them. Filled by
/// [`sample_forward_recorded`](crate::sampler::sample_forward_recorded); the buffers are reused
/// from one run to the next.
#[derive(Debug)]
pub struct RoundCaches<B: Backend = Cpu> {
    rounds: Vec<PolicyCache<B>>,
    /// Columns of each round's pass.
    widths: Vec<usize>,
    used: usize,
    columns: Vec<(usize, usize)>,
    /// The distinct `(round, column)` pairs of `columns`, in order of first use.
    distinct: Vec<(usize, usize)>,
    /// For each step, its pair's index in `distinct`.
    step_distinct: Vec<usize>,
    /// For each pair of `distinct`, the first step that uses it.
    first_step: Vec<usize>,
}

impl<B: Backend> Default for RoundCaches<B> {
    fn default() -> Self {
        RoundCaches {
            rounds: Vec::new(),
            widths: Vec::new(),
            used: 0,
            columns: Vec::new(),
            distinct: Vec::new(),
            step_distinct: Vec::new(),
            first_step: Vec::new(),
        }
    }
}

impl<B: Backend> RoundCaches<B> {
    /// Empty, ready for a sampling run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets the previous run (keeping its buffers).
    pub(crate) fn start(&mut self) {
        self.used = 0;
        self.widths.clear();
        self.columns.clear();
        self.distinct.clear();
        self.step_distinct.clear();
        self.first_step.clear();
    }

    /// The cache for the next round, whose pass evaluates `width` states.
    pub(crate) fn next_round(&mut self, width: usize) -> &mut PolicyCache<B> {
        if self.used == self.rounds.len() {
            self.rounds.push(PolicyCache::default());
        }
        self.used += 1;
        self.widths.push(width);
        &mut self.rounds[self.used - 1]
    }

    /// Records the `(round, column)` of every sampled step, in batch order (steps of trajectories
    /// that were in the same state share a column), and indexes the distinct pairs.
    pub(crate) fn set_columns(&mut self, columns: impl IntoIterator<Item = (usize, usize)>) {
        self.columns.clear();
        self.columns.extend(columns);
        let mut start = Vec::with_capacity(self.widths.len());
        let mut total = 0;
        for &w in &self.widths {
            start.push(total);
            total += w;
        }
        let mut index = vec![usize::MAX; total];
        self.distinct.clear();
        self.step_distinct.clear();
        self.first_step.clear();
        for (t, &(round, column)) in self.columns.iter().enumerate() {
            let slot = &mut index[start[round] + column];
            if *slot == usize::MAX {
                *slot = self.distinct.len();
                self.distinct.push((round, column));
                self.first_step.push(t);
            }
            self.step_distinct.push(*slot);
        }
    }

    /// The passes of the last run, one per round.
    pub(super) fn passes(&self) -> &[PolicyCache<B>] {
        &self.rounds[..self.used]
    }

    /// `(round, column)` of every sampled step, in batch order.
    pub(super) fn columns(&self) -> &[(usize, usize)] {
        &self.columns
    }

    /// The distinct `(round, column)` pairs of [`RoundCaches::columns`], in order of first use.
    pub(super) fn distinct_columns(&self) -> &[(usize, usize)] {
        &self.distinct
    }

    /// For each step, the index of its pair in [`RoundCaches::distinct_columns`].
    pub(super) fn step_distinct(&self) -> &[usize] {
        &self.step_distinct
    }

    /// For each pair of [`RoundCaches::distinct_columns`], the first step that uses it.
    pub(super) fn first_steps(&self) -> &[usize] {
        &self.first_step
    }

    /// The number of sampled steps recorded.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// The number of distinct `(round, column)` pairs among the recorded steps: the network
    /// columns of [`Policy::forward_gathered`](super::Policy::forward_gathered) with `distinct`.
    pub fn distinct_len(&self) -> usize {
        self.distinct.len()
    }

    /// Whether no step is recorded.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

/// A forward pass that evaluated each distinct state of a batch once: the networks' columns are
/// the distinct states, the policy's outputs have one column per step.
#[derive(Debug, Clone)]
pub(super) struct Folding {
    /// The network column of each step.
    pub(super) step_columns: Vec<usize>,
    /// The number of network columns.
    pub(super) columns: usize,
}

impl Folding {
    /// The output gradient of the network columns: each step's column of `d` (one per step) added
    /// into its network column, in step order. Without a folding, `d` itself.
    pub(super) fn fold<'a>(folding: Option<&Folding>, d: &'a DMatrix<f32>) -> Cow<'a, DMatrix<f32>> {
        let Some(folding) = folding else { return Cow::Borrowed(d) };
        let rows = d.nrows();
        let mut out = DMatrix::zeros(rows, folding.columns);
        if rows > 0 {
            for (step, &column) in d.as_slice().chunks_exact(rows).zip(&folding.step_columns) {
                let dst = &mut out.as_mut_slice()[column * rows..(column + 1) * rows];
                for (acc, &g) in dst.iter_mut().zip(step) {
                    *acc += g;
                }
            }
        }
        Cow::Owned(out)
    }
}

/// `out[:, c] = m[:, columns[c]]`.
pub(super) fn select_columns(m: &DMatrix<f32>, columns: &[usize]) -> DMatrix<f32> {
    let rows = m.nrows();
    let mut data = Vec::with_capacity(rows * columns.len());
    for &c in columns {
        data.extend_from_slice(&m.as_slice()[c * rows..(c + 1) * rows]);
    }
    DMatrix::from_vec(rows, columns.len(), data)
}
