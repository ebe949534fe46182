//! DAG states: parent bit sets plus the transitive closure that keeps the acyclicity mask O(d²).

use std::fmt;
use std::hash::{Hash, Hasher};

use gfn_core::{Error, Result};

/// The largest number of variables (nodes are bits of a `u32`).
pub const MAX_NODES: usize = 32;

/// A directed acyclic graph over `d ≤ 32` nodes.
///
/// Stored as the parent set of every node (`parents[j]` has bit `i` set when `i → j`) and the
/// reflexive transitive closure (`descendants[v]` has bit `u` set when `v ⇝ u`, and always bit
/// `v`). The edge `i → j` may be added exactly when `i ∉ parents[j]` and `i ∉ descendants[j]`: the
/// second condition forbids self-loops (`j ∈ descendants[j]`) and edges that close a cycle.
/// Adding an edge updates the closure with one pass over the nodes (every ancestor of `i` gains
/// the descendants of `j`), the bit-set form of `Cᵀ ← Cᵀ ∨ Cᵀ[:, j] ⊗ Cᵀ[i, :]` (DOMAINS §2.1).
///
/// Equality and hashing look at the edges only (the closure is a function of them).
#[derive(Clone, Copy)]
pub struct Dag {
    nodes: u8,
    parents: [u32; MAX_NODES],
    descendants: [u32; MAX_NODES],
}

impl Dag {
    /// The empty graph over `nodes ≤ 32` nodes (the source state).
    ///
    /// # Panics
    /// If `nodes > 32`; environments validate the size before building graphs.
    pub fn empty(nodes: usize) -> Self {
        assert!(nodes <= MAX_NODES, "at most {MAX_NODES} nodes, got {nodes}");
        let mut descendants = [0u32; MAX_NODES];
        for (v, row) in descendants.iter_mut().enumerate().take(nodes) {
            *row = 1 << v;
        }
        #[allow(clippy::cast_possible_truncation, reason = "nodes <= 32")]
        Dag { nodes: nodes as u8, parents: [0; MAX_NODES], descendants }
    }

    /// The graph with the given parent sets, or an error if it has a cycle, a self-loop or a
    /// parent outside `0..parents.len()`.
    pub fn from_parents(parents: &[u32]) -> Result<Self> {
        let d = parents.len();
        if d > MAX_NODES {
            return Err(Error::config("nodes", d, format!("at most {MAX_NODES} nodes")));
        }
        for (j, &pa) in parents.iter().enumerate() {
            if d < MAX_NODES && pa >> d != 0 {
                return Err(Error::config(
                    "parents",
                    format!("{pa:#b}"),
                    format!("node {j} has a parent outside 0..{d}"),
                ));
            }
        }
        Self::acyclic(parents)
            .ok_or_else(|| Error::config("parents", format!("{parents:?}"), "the graph has a self-loop or a cycle"))
    }

    /// The graph with the given parent sets (at most 32, parents in range), or `None` on a cycle.
    pub(crate) fn acyclic(parents: &[u32]) -> Option<Self> {
        let mut dag = Dag::empty(parents.len());
        dag.parents[..parents.len()].copy_from_slice(parents);
        dag.recompute_closure().then_some(dag)
    }

    /// The number of nodes `d`.
    pub fn nodes(&self) -> usize {
        usize::from(self.nodes)
    }

    /// The parent set of node `j` as a bit set.
    pub fn parents(&self, j: usize) -> u32 {
        self.parents[j]
    }

    /// The nodes reachable from `v` (including `v`) as a bit set.
    pub fn descendants(&self, v: usize) -> u32 {
        self.descendants[v]
    }

    /// Whether the edge `i → j` is present.
    pub fn has_edge(&self, i: usize, j: usize) -> bool {
        self.parents[j] >> i & 1 == 1
    }

    /// The number of edges.
    pub fn edge_count(&self) -> usize {
        self.parents[..self.nodes()].iter().map(|p| p.count_ones() as usize).sum()
    }

    /// The edges `(i, j)` in row-major order of the adjacency matrix.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let d = self.nodes();
        (0..d).flat_map(move |i| (0..d).filter(move |&j| self.has_edge(i, j)).map(move |j| (i, j)))
    }

    /// Whether `i → j` may be added: not present, not a self-loop, and `j` does not reach `i`.
    pub fn can_add(&self, i: usize, j: usize) -> bool {
        (self.parents[j] | self.descendants[j]) >> i & 1 == 0
    }

    /// The sources `i` for which `i → j` may be added, as a bit set.
    pub fn addable_parents(&self, j: usize) -> u32 {
        let all = if self.nodes() == MAX_NODES { u32::MAX } else { (1u32 << self.nodes()) - 1 };
        !(self.parents[j] | self.descendants[j]) & all
    }

    /// Adds `i → j` and updates the closure in O(d); the caller checks [`Dag::can_add`].
    pub fn add_edge(&mut self, i: usize, j: usize) {
        debug_assert!(self.can_add(i, j));
        self.parents[j] |= 1 << i;
        let gained = self.descendants[j];
        for v in 0..self.nodes() {
            if self.descendants[v] >> i & 1 == 1 {
                self.descendants[v] |= gained;
            }
        }
    }

    /// Removes `i → j` (present) and recomputes the closure in O(d²).
    pub fn remove_edge(&mut self, i: usize, j: usize) {
        debug_assert!(self.has_edge(i, j));
        self.parents[j] &= !(1 << i);
        let acyclic = self.recompute_closure();
        debug_assert!(acyclic, "removing an edge keeps a DAG acyclic");
    }

    /// A topological order (parents before children), or `None` when the graph has a cycle.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let d = self.nodes();
        let mut placed = 0u32;
        let mut order = Vec::with_capacity(d);
        while order.len() < d {
            let ready = (0..d).find(|&j| placed >> j & 1 == 0 && self.parents[j] & !placed == 0)?;
            placed |= 1 << ready;
            order.push(ready);
        }
        Some(order)
    }

    /// Rebuilds `descendants` from `parents` in reverse topological order; `false` on a cycle.
    fn recompute_closure(&mut self) -> bool {
        let Some(order) = self.topological_order() else {
            return false;
        };
        for &v in order.iter().rev() {
            let mut reach = 1u32 << v;
            for c in 0..self.nodes() {
                if self.has_edge(v, c) {
                    reach |= self.descendants[c];
                }
            }
            self.descendants[v] = reach;
        }
        true
    }

    /// The structural Hamming distance: the number of node pairs whose edge differs (a reversed
    /// edge counts once), as in DiBS / DAG-GFlowNet (DOMAINS §2.6).
    pub fn shd(&self, other: &Dag) -> usize {
        let d = self.nodes();
        let mut count = 0;
        for i in 0..d {
            for j in i + 1..d {
                let a = (self.has_edge(i, j), self.has_edge(j, i));
                let b = (other.has_edge(i, j), other.has_edge(j, i));
                count += usize::from(a != b);
            }
        }
        count
    }

    /// The adjacency matrix, row-major (`out[i * d + j] = 1` when `i → j`).
    pub fn adjacency(&self) -> Vec<u8> {
        let d = self.nodes();
        (0..d * d).map(|a| u8::from(self.has_edge(a / d, a % d))).collect()
    }
}

impl PartialEq for Dag {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes && self.parents[..self.nodes()] == other.parents[..other.nodes()]
    }
}

impl Eq for Dag {}

impl Hash for Dag {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.nodes.hash(state);
        self.parents[..self.nodes()].hash(state);
    }
}

/// `Dag[0->1, 2->1]`: the edges in row-major order.
impl fmt::Debug for Dag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dag[")?;
        for (k, (i, j)) in self.edges().enumerate() {
            write!(f, "{}{i}->{j}", if k == 0 { "" } else { ", " })?;
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reachability by Floyd–Warshall on the adjacency matrix, independent of the closure code.
    fn reachability(dag: &Dag) -> Vec<Vec<bool>> {
        let d = dag.nodes();
        let mut r: Vec<Vec<bool>> = (0..d).map(|i| (0..d).map(|j| i == j || dag.has_edge(i, j)).collect()).collect();
        for k in 0..d {
            for i in 0..d {
                for j in 0..d {
                    if r[i][k] && r[k][j] {
                        r[i][j] = true;
                    }
                }
            }
        }
        r
    }

    fn closure_matches(dag: &Dag) -> bool {
        let r = reachability(dag);
        (0..dag.nodes()).all(|v| (0..dag.nodes()).all(|u| (dag.descendants(v) >> u & 1 == 1) == r[v][u]))
    }

    /// Whether the graph with `i → j` added (edges as a list) has a cycle, by Kahn's algorithm.
    fn acyclic_with(dag: &Dag, extra: (usize, usize)) -> bool {
        let d = dag.nodes();
        let mut edges: Vec<(usize, usize)> = dag.edges().collect();
        edges.push(extra);
        let mut indegree = vec![0usize; d];
        for &(_, j) in &edges {
            indegree[j] += 1;
        }
        let mut queue: Vec<usize> = (0..d).filter(|&v| indegree[v] == 0).collect();
        let mut seen = 0;
        while let Some(v) = queue.pop() {
            seen += 1;
            for &(a, b) in &edges {
                if a == v {
                    indegree[b] -= 1;
                    if indegree[b] == 0 {
                        queue.push(b);
                    }
                }
            }
        }
        seen == d
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Random add sequences never create cycles, the mask is exactly "acyclic after adding",
        /// the incremental closure is the true reachability, and removals keep it exact.
        #[test]
        fn closure_and_mask_are_exact(d in 1usize..=9, picks in proptest::collection::vec((0usize..81, 0usize..81), 0..60)) {
            let mut dag = Dag::empty(d);
            for (k, &(a, b)) in picks.iter().enumerate() {
                for i in 0..d {
                    for j in 0..d {
                        let new_edge = !dag.has_edge(i, j) && i != j;
                        prop_assert_eq!(dag.can_add(i, j), new_edge && acyclic_with(&dag, (i, j)));
                        prop_assert_eq!(dag.addable_parents(j) >> i & 1 == 1, dag.can_add(i, j));
                    }
                }
                let (i, j) = (a % d, b % d);
                if k % 4 == 3 && dag.edge_count() > 0 {
                    let edges: Vec<_> = dag.edges().collect();
                    let (ri, rj) = edges[a % edges.len()];
                    dag.remove_edge(ri, rj);
                } else if dag.can_add(i, j) {
                    dag.add_edge(i, j);
                }
                prop_assert!(dag.topological_order().is_some());
                prop_assert!(closure_matches(&dag));
            }
        }
    }

    #[test]
    fn from_parents_rejects_cycles_and_strays() {
        assert!(Dag::from_parents(&[0b10, 0b01]).is_err(), "0 <-> 1 is a cycle");
        assert!(Dag::from_parents(&[0b01]).is_err(), "self-loop");
        assert!(Dag::from_parents(&[0b100, 0]).is_err(), "parent 2 of a 2-node graph");
        let dag = Dag::from_parents(&[0, 0b01, 0b11]).unwrap();
        assert_eq!(dag.edge_count(), 3);
        assert_eq!(format!("{dag:?}"), "Dag[0->1, 0->2, 1->2]");
        assert_eq!(dag.descendants(0), 0b111);
        assert_eq!(dag.adjacency(), vec![0, 1, 1, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn shd_counts_reversals_once() {
        let a = Dag::from_parents(&[0, 0b01, 0]).unwrap(); // 0->1
        let b = Dag::from_parents(&[0b10, 0, 0]).unwrap(); // 1->0
        let c = Dag::from_parents(&[0, 0, 0b011]).unwrap(); // 0->2, 1->2
        assert_eq!(a.shd(&b), 1);
        assert_eq!(a.shd(&a), 0);
        assert_eq!(a.shd(&c), 3);
    }

    #[test]
    fn thirty_two_nodes_fit() {
        let mut dag = Dag::empty(MAX_NODES);
        for v in 0..MAX_NODES - 1 {
            dag.add_edge(v, v + 1);
        }
        assert_eq!(dag.descendants(0), u32::MAX);
        assert!(!dag.can_add(31, 0));
        assert!(dag.can_add(0, 31));
        assert_eq!(dag.addable_parents(0), 0);
    }
}
