//! [`RoundCaches`]: the forward passes of one lock-step sampling run, kept for the training step.

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
    used: usize,
    columns: Vec<(usize, usize)>,
}

impl<B: Backend> Default for RoundCaches<B> {
    fn default() -> Self {
        RoundCaches { rounds: Vec::new(), used: 0, columns: Vec::new() }
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
        self.columns.clear();
    }

    /// The cache for the next round.
    pub(crate) fn next_round(&mut self) -> &mut PolicyCache<B> {
        if self.used == self.rounds.len() {
            self.rounds.push(PolicyCache::default());
        }
        self.used += 1;
        &mut self.rounds[self.used - 1]
    }

    /// Records the `(round, column)` of every sampled step, in batch order.
    pub(crate) fn set_columns(&mut self, columns: impl IntoIterator<Item = (usize, usize)>) {
        self.columns.clear();
        self.columns.extend(columns);
    }

    /// The passes of the last run, one per round.
    pub(super) fn passes(&self) -> &[PolicyCache<B>] {
        &self.rounds[..self.used]
    }

    /// `(round, column)` of every sampled step, in batch order.
    pub(super) fn columns(&self) -> &[(usize, usize)] {
        &self.columns
    }

    /// The number of sampled steps recorded.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether no step is recorded.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}
