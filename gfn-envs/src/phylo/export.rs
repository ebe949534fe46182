//! Terminal states of the phylogenetics environment as named trees with branch lengths, for
//! Newick output and the tree tools ([`super::newick`], [`super::splits`], [`super::score`]).

use gfn_core::{Error, Result};

use super::env::{Forest, PhyloEnv};
use super::tree::{NodeId, Tree, TreeBuilder};

impl PhyloEnv {
    /// The unrooted tree of the terminal state `state` over the alignment's taxon names, in the
    /// trifurcating unrooted form (taxon 0 and the two subtrees of the other side of its edge at
    /// the root), with the bin lengths `(bin + 1) · bin_size` or the real lengths as branch lengths
    /// (JC69) or without lengths (parsimony). [`Error::InvalidConfig`] for a state that is not a terminal tree.
    pub fn unrooted_tree(&self, state: &Forest) -> Result<Tree> {
        if !state.is_terminal() || state.pending.is_some() {
            return Err(Error::config("state", format!("{state:?}"), "is not a terminal unrooted tree"));
        }
        let nodes = state.trees[0].nodes();
        // Nodes 1..rest are the other side of taxon 0's edge (post-order); `rest` is its root.
        let rest = nodes.len() - 2;
        let mut builder = TreeBuilder::new();
        let mut ids: Vec<NodeId> = vec![usize::MAX; nodes.len()];
        for (i, node) in nodes.iter().enumerate().take(rest).skip(1) {
            ids[i] = match node.children {
                None => builder.leaf(usize::from(node.min_leaf), self.edge_length(node)),
                Some((l, r)) => {
                    builder.internal(vec![ids[usize::from(l)], ids[usize::from(r)]], self.edge_length(node), None)
                }
            };
        }
        let taxon0 = builder.leaf(0, self.edge_length(&nodes[rest]));
        let (l, r) = nodes[rest].children.expect("at least 3 taxa: the node opposite taxon 0 is internal");
        let root = builder.internal(vec![taxon0, ids[usize::from(l)], ids[usize::from(r)]], None, None);
        builder.finish(root, self.alignment.taxa().to_vec())
    }
}
