//! Simulated data: random unrooted trees (uniform topology, i.i.d. Exponential branch lengths)
//! and JC69 alignments evolved along them.
//!
//! Topologies come from stepwise addition: taxon `k` is attached to an edge chosen uniformly
//! among the `2k − 5` edges of the tree on the first `k − 1` taxa. Each of the `(2n − 5)!!`
//! unrooted topologies arises from exactly one sequence of choices, so the draw is uniform. The
//! tree is stored with a trifurcating root at the neighbour of the first taxon.
//!
//! Randomness comes from `gfn_core::rng::stream(seed, Purpose::User, …)`, so a simulation is a
//! pure function of its arguments.

use gfn_core::rng::{Purpose, Rng, stream};
use gfn_core::{Error, Result};
use rand::Rng as _;

use super::likelihood::jc69_transition;
use super::tree::{NodeId, Tree, TreeBuilder};

/// Stream path tag of phylogenetic simulations ("PHYS").
const STREAM_TAG: u64 = 0x5048_5953;

/// A simulated tree and the alignment evolved on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulation {
    /// The true tree (leaves `t1 … tn`, with branch lengths).
    pub tree: Tree,
    /// The taxon names `t1 … tn`.
    pub taxa: Vec<String>,
    /// One `ACGT` sequence per taxon.
    pub sequences: Vec<Vec<u8>>,
}

/// Draws a tree on `taxa` (at least 3) with a uniform unrooted topology and i.i.d.
/// Exponential(`rate`) branch lengths.
pub fn random_tree(taxa: Vec<String>, rate: f64, rng: &mut Rng) -> Result<Tree> {
    let n = taxa.len();
    if n < 3 {
        return Err(Error::config("taxa", n, "a random unrooted tree needs at least 3 taxa"));
    }
    if !(rate.is_finite() && rate > 0.0) {
        return Err(Error::config("rate", rate, "the branch-length rate must be finite and positive"));
    }
    // Nodes 0..n are the leaves; internal nodes follow. Undirected edges.
    let center = n;
    let mut edges: Vec<(usize, usize)> = vec![(center, 0), (center, 1), (center, 2)];
    let mut next = n + 1;
    for leaf in 3..n {
        let e = rng.random_range(0..edges.len());
        let (u, v) = edges[e];
        let w = next;
        next += 1;
        edges[e] = (u, w);
        edges.push((w, v));
        edges.push((w, leaf));
    }
    let lengths: Vec<f64> = edges.iter().map(|_| -(1.0 - rng.random::<f64>()).ln() / rate).collect();
    from_edges(taxa, next, &edges, &lengths)
}

/// Builds a tree from undirected `edges` over `nodes` nodes (the first `taxa.len()` are the
/// leaves), rooted at the internal neighbour of leaf 0.
fn from_edges(taxa: Vec<String>, nodes: usize, edges: &[(usize, usize)], lengths: &[f64]) -> Result<Tree> {
    let mut adjacent: Vec<Vec<(usize, f64)>> = vec![Vec::new(); nodes];
    for (&(u, v), &l) in edges.iter().zip(lengths) {
        adjacent[u].push((v, l));
        adjacent[v].push((u, l));
    }
    let root = adjacent[0][0].0;
    // Iterative post-order over (node, parent, length of the edge to the parent).
    let mut builder = TreeBuilder::new();
    let mut built: Vec<Option<NodeId>> = vec![None; nodes];
    let mut stack = vec![(root, usize::MAX, None, false)];
    while let Some((v, parent, length, expanded)) = stack.pop() {
        let children: Vec<(usize, f64)> = adjacent[v].iter().copied().filter(|&(c, _)| c != parent).collect();
        if v < taxa.len() {
            built[v] = Some(builder.leaf(v, length));
        } else if expanded {
            let ids = children.iter().filter_map(|&(c, _)| built[c]).collect();
            built[v] = Some(builder.internal(ids, length, None));
        } else {
            stack.push((v, parent, length, true));
            stack.extend(children.iter().rev().map(|&(c, l)| (c, v, Some(l), false)));
        }
    }
    let root_id = built[root].unwrap_or_else(|| unreachable!());
    builder.finish(root_id, taxa)
}

/// Evolves `sites` JC69 sites along `tree`: the root state is uniform on `ACGT`, and along an edge
/// of length `t` a site keeps its state with probability `¼ + ¾ e^{−4t/3}`. Returns one sequence
/// per taxon of the tree. Every edge needs a length.
pub fn simulate_jc69(tree: &Tree, sites: usize, rng: &mut Rng) -> Result<Vec<Vec<u8>>> {
    const BASES: [u8; 4] = *b"ACGT";
    if sites == 0 {
        return Err(Error::config("sites", sites, "must be positive"));
    }
    tree.unrooted_edge_lengths()?;
    let mut states: Vec<Vec<u8>> = vec![Vec::new(); tree.nodes().len()];
    states[tree.root()] = (0..sites).map(|_| rng.random_range(0..4u8)).collect();
    for id in tree.postorder().into_iter().rev().filter(|&id| id != tree.root()) {
        let node = tree.node(id);
        let parent = node.parent.unwrap_or_else(|| unreachable!());
        // Keep with probability P_ii; otherwise pick one of the three other bases.
        let (same, _) = jc69_transition(node.length.unwrap_or(0.0));
        let child: Vec<u8> = states[parent]
            .iter()
            .map(|&x| if rng.random::<f64>() < same { x } else { (x + rng.random_range(1..4u8)) % 4 })
            .collect();
        states[id] = child;
    }
    let mut sequences = vec![Vec::new(); tree.num_leaves()];
    for (id, node) in tree.nodes().iter().enumerate() {
        if let Some(t) = node.taxon {
            sequences[t] = states[id].iter().map(|&s| BASES[s as usize]).collect();
        }
    }
    Ok(sequences)
}

/// Simulates a tree on taxa `t1 … t{taxa}` with Exponential(`rate`) branch lengths and a JC69
/// alignment of `sites` sites on it, from `seed`.
pub fn simulate(taxa: usize, sites: usize, rate: f64, seed: u64) -> Result<Simulation> {
    let names: Vec<String> = (1..=taxa).map(|i| format!("t{i}")).collect();
    let tree = random_tree(names.clone(), rate, &mut stream(seed, Purpose::User, &[STREAM_TAG, 0]))?;
    let sequences = simulate_jc69(&tree, sites, &mut stream(seed, Purpose::User, &[STREAM_TAG, 1]))?;
    Ok(Simulation { tree, taxa: names, sequences })
}

#[cfg(test)]
#[path = "simulate_tests.rs"]
mod tests;
