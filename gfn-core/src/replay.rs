//! Replay buffers of terminal objects, replayed as backward trajectories.

use std::collections::HashSet;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::{Error, Result};

/// Which objects a replay buffer keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayKind {
    /// The most recent objects (first in, first out).
    #[default]
    Uniform,
    /// The distinct objects of highest reward seen so far.
    Prioritized,
}

/// Replay-buffer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplayConfig {
    /// Capacity in objects; 0 disables replay.
    pub capacity: usize,
    /// Which objects are kept.
    pub kind: ReplayKind,
    /// Replayed objects per iteration, as a fraction of the batch size.
    pub ratio: f64,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig { capacity: 0, kind: ReplayKind::Uniform, ratio: 0.5 }
    }
}

impl ReplayConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if !(self.ratio.is_finite() && self.ratio > 0.0 && self.ratio <= 4.0) {
            return Err(Error::config("replay.ratio", self.ratio, "must be in (0, 4]"));
        }
        Ok(())
    }

    /// How many objects to replay with a batch of `batch_size`.
    pub fn draws(&self, batch_size: usize) -> usize {
        if self.capacity == 0 { 0 } else { ((batch_size as f64) * self.ratio).round().max(1.0) as usize }
    }
}

/// One stored terminal object: the forward action path that builds it and its log-reward.
/// Paths (not states) are stored so buffers serialise for any state type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayEntry {
    /// Forward actions from the source, exit excluded.
    pub path: Vec<usize>,
    /// `log R(x)`.
    pub log_reward: f64,
    /// Hybrid environments ([`crate::env::continuous`]): the values drawn at each step of `path`,
    /// one slot of the environment's `dim` values per step; empty for discrete environments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
}

/// A replay buffer of terminal objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayBuffer {
    config: ReplayConfig,
    entries: Vec<ReplayEntry>,
    /// Next slot to overwrite (uniform buffers).
    cursor: usize,
}

impl ReplayBuffer {
    /// An empty buffer.
    pub fn new(config: ReplayConfig) -> Self {
        ReplayBuffer { config, entries: Vec::new(), cursor: 0 }
    }

    /// The stored entries.
    pub fn entries(&self) -> &[ReplayEntry] {
        &self.entries
    }

    /// The number of stored objects.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Offers new objects to the buffer.
    pub fn extend(&mut self, items: impl IntoIterator<Item = ReplayEntry>) {
        let cap = self.config.capacity;
        if cap == 0 {
            return;
        }
        match self.config.kind {
            ReplayKind::Uniform => {
                for item in items {
                    if self.entries.len() < cap {
                        self.entries.push(item);
                    } else {
                        self.entries[self.cursor] = item;
                    }
                    self.cursor = (self.cursor + 1) % cap;
                }
            }
            ReplayKind::Prioritized => {
                let mut seen: HashSet<Vec<usize>> = self.entries.iter().map(|e| e.path.clone()).collect();
                for item in items {
                    if seen.insert(item.path.clone()) {
                        self.entries.push(item);
                    }
                }
                // Highest reward first; ties keep insertion order (stable sort), so the buffer is
                // deterministic.
                self.entries.sort_by(|a, b| b.log_reward.total_cmp(&a.log_reward));
                self.entries.truncate(cap);
            }
        }
    }

    /// Replaces the stored log-rewards by `log_rewards` (one per entry, in [`ReplayBuffer::entries`]
    /// order), e.g. after the reward changed; a prioritized buffer re-sorts.
    pub fn rescore(&mut self, log_rewards: &[f64]) -> Result<()> {
        if log_rewards.len() != self.entries.len() {
            return Err(Error::config(
                "log_rewards",
                log_rewards.len(),
                format!("the replay buffer holds {} entries", self.entries.len()),
            ));
        }
        for (e, &r) in self.entries.iter_mut().zip(log_rewards) {
            e.log_reward = r;
        }
        if self.config.kind == ReplayKind::Prioritized {
            self.entries.sort_by(|a, b| b.log_reward.total_cmp(&a.log_reward));
        }
        Ok(())
    }

    /// Draws `n` stored entries uniformly with replacement.
    pub fn draw(&self, n: usize, rng: &mut Rng) -> Vec<&ReplayEntry> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        (0..n).map(|_| &self.entries[rng.random_range(0..self.entries.len())]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    fn entry(k: usize, r: f64) -> ReplayEntry {
        ReplayEntry { path: vec![k], log_reward: r, values: Vec::new() }
    }

    #[test]
    fn uniform_buffer_is_fifo() {
        let mut b = ReplayBuffer::new(ReplayConfig { capacity: 2, ..Default::default() });
        b.extend([entry(1, 0.0), entry(2, 0.0), entry(3, 0.0)]);
        let paths: Vec<usize> = b.entries().iter().map(|e| e.path[0]).collect();
        assert_eq!(paths, vec![3, 2]);
    }

    #[test]
    fn prioritized_buffer_keeps_best_distinct() {
        let mut b = ReplayBuffer::new(ReplayConfig { capacity: 2, kind: ReplayKind::Prioritized, ratio: 0.5 });
        b.extend([entry(1, 0.0), entry(2, 3.0), entry(2, 3.0), entry(3, 1.0)]);
        let paths: Vec<usize> = b.entries().iter().map(|e| e.path[0]).collect();
        assert_eq!(paths, vec![2, 3]);
        let mut rng = stream(0, Purpose::Replay, &[]);
        assert_eq!(b.draw(5, &mut rng).len(), 5);
    }

    #[test]
    fn bad_ratio_is_rejected() {
        assert!(ReplayConfig { ratio: f64::NAN, ..Default::default() }.validate().is_err());
    }
}
