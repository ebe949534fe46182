//! A thread-safe cache of local scores keyed by `(node, parent set)`, with hit and miss counters.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Counters of a [`ScoreCache`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Look-ups answered from the cache.
    pub hits: u64,
    /// Look-ups that computed the score.
    pub misses: u64,
    /// Distinct `(node, parent set)` entries stored.
    pub entries: u64,
}

impl CacheStats {
    /// `hits / (hits + misses)`, or 0 before any look-up.
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 { 0.0 } else { self.hits as f64 / total as f64 }
    }
}

/// Local scores per node, each table behind its own lock (look-ups for different nodes never
/// contend). Values are pure functions of the key, so concurrent misses that compute the same
/// entry store the same bits and results do not depend on the thread count.
#[derive(Debug)]
pub struct ScoreCache {
    tables: Vec<RwLock<HashMap<u32, f64>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ScoreCache {
    /// An empty cache for `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        ScoreCache {
            tables: (0..nodes).map(|_| RwLock::new(HashMap::new())).collect(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The cached value of `(node, parents)`, computing and storing it with `compute` on a miss.
    pub fn get_or_insert_with(&self, node: usize, parents: u32, compute: impl FnOnce() -> f64) -> f64 {
        let table = &self.tables[node];
        // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
        if let Some(&v) = table.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&parents) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return v;
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let value = compute();
        *table.write().unwrap_or_else(std::sync::PoisonError::into_inner).entry(parents).or_insert(value)
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        let entries =
            self.tables.iter().map(|t| t.read().unwrap_or_else(std::sync::PoisonError::into_inner).len() as u64).sum();
        CacheStats { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed), entries }
    }

    /// Resets the hit and miss counters (the entries stay).
    pub fn reset_counters(&self) {
        self.hits.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_hits_and_misses() {
        let cache = ScoreCache::new(3);
        let mut calls = 0;
        for _ in 0..3 {
            let v = cache.get_or_insert_with(1, 0b101, || {
                calls += 1;
                -2.5
            });
            assert_eq!(v, -2.5);
        }
        assert_eq!(calls, 1);
        assert_eq!(cache.get_or_insert_with(2, 0b101, || 4.0), 4.0);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (2, 2, 2));
        assert!((stats.hit_rate() - 0.5).abs() < 1e-12);
        cache.reset_counters();
        assert_eq!(cache.stats(), CacheStats { hits: 0, misses: 0, entries: 2 });
    }
}
