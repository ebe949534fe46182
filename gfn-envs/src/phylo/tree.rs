//! An arena phylogenetic tree: nodes in a `Vec`, leaves carry taxon indices into the tree's name
//! table, edges carry optional lengths (the length of the edge to the parent).
//!
//! Trees are stored rooted, but phylogenetics treats them as unrooted: a root with three children
//! is the standard unrooted form, and a root with two children is the same unrooted tree with the
//! two root edges fused into one (length `l0 + l1`). [`Tree::check_binary`] accepts both.

use std::collections::HashMap;

use gfn_core::{Error, Result};

/// Index of a node in a [`Tree`].
pub type NodeId = usize;

/// A node of a [`Tree`].
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The parent (`None` for the root).
    pub parent: Option<NodeId>,
    /// The children, in order (empty for a leaf).
    pub children: Vec<NodeId>,
    /// The taxon index of a leaf (into [`Tree::taxa`]); `None` for internal nodes.
    pub taxon: Option<usize>,
    /// The length of the edge to the parent, if given.
    pub length: Option<f64>,
    /// An internal node's label (for example a support value); `None` for leaves.
    pub label: Option<String>,
}

/// A phylogenetic tree; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
    root: NodeId,
    taxa: Vec<String>,
}

/// Builds a [`Tree`] bottom-up: create leaves and internal nodes (children first), then
/// [`finish`](TreeBuilder::finish) with the root, which checks the structure.
#[derive(Clone, Debug, Default)]
pub struct TreeBuilder {
    nodes: Vec<Node>,
}

impl TreeBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a leaf for taxon `taxon` whose edge to the parent has `length`.
    pub fn leaf(&mut self, taxon: usize, length: Option<f64>) -> NodeId {
        self.nodes.push(Node { parent: None, children: Vec::new(), taxon: Some(taxon), length, label: None });
        self.nodes.len() - 1
    }

    /// Adds an internal node over `children` (created earlier).
    pub fn internal(&mut self, children: Vec<NodeId>, length: Option<f64>, label: Option<String>) -> NodeId {
        self.nodes.push(Node { parent: None, children, taxon: None, length, label });
        self.nodes.len() - 1
    }

    /// Checks the structure and returns the tree rooted at `root` with leaf names `taxa`: every
    /// node but the root has exactly one parent and is reachable from the root, internal nodes
    /// have children, lengths are finite and non-negative, and each taxon has exactly one leaf.
    pub fn finish(mut self, root: NodeId, taxa: Vec<String>) -> Result<Tree> {
        let n = self.nodes.len();
        let bad = |reason: String| Error::config("tree", format!("{n} nodes"), reason);
        if root >= n {
            return Err(bad(format!("root {root} is not a node")));
        }
        let mut leaf_of = vec![None; taxa.len()];
        for id in 0..n {
            let node = &self.nodes[id];
            if let Some(l) = node.length.filter(|l| !(l.is_finite() && *l >= 0.0)) {
                return Err(bad(format!("branch length {l} is not finite and non-negative")));
            }
            match node.taxon {
                Some(t) if t >= taxa.len() => return Err(bad(format!("leaf taxon {t} outside {} taxa", taxa.len()))),
                Some(t) if leaf_of[t].is_some() => return Err(bad(format!("taxon '{}' on two leaves", taxa[t]))),
                Some(t) => leaf_of[t] = Some(id),
                None if node.children.is_empty() => return Err(bad(format!("internal node {id} has no children"))),
                None => {}
            }
            for c in node.children.clone() {
                if c >= n || c == root || self.nodes[c].parent.is_some() {
                    return Err(bad(format!("node {c} is not a valid child of node {id}")));
                }
                self.nodes[c].parent = Some(id);
            }
        }
        if let Some(t) = leaf_of.iter().position(Option::is_none) {
            return Err(bad(format!("taxon '{}' has no leaf", taxa[t])));
        }
        let tree = Tree { nodes: self.nodes, root, taxa };
        if tree.postorder().len() != n {
            return Err(bad("some nodes are not reachable from the root (a cycle?)".into()));
        }
        Ok(tree)
    }
}

impl Tree {
    /// The nodes (index = [`NodeId`]).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// One node.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The root.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The leaf names; leaf `taxon` indices point into this.
    pub fn taxa(&self) -> &[String] {
        &self.taxa
    }

    /// The number of leaves.
    pub fn num_leaves(&self) -> usize {
        self.taxa.len()
    }

    /// All nodes, children before parents (children in order), ending with the root.
    pub fn postorder(&self) -> Vec<NodeId> {
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut stack = vec![(self.root, false)];
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                order.push(id);
            } else {
                stack.push((id, true));
                stack.extend(self.nodes[id].children.iter().rev().map(|&c| (c, false)));
            }
        }
        order
    }

    /// The same tree with leaves renumbered to index `taxa` (for example an alignment's taxon
    /// order). Errors name a leaf that is not in `taxa`, a taxon of `taxa` without a leaf, or a
    /// duplicate in `taxa`.
    pub fn with_taxa(&self, taxa: &[String]) -> Result<Tree> {
        let mut index = HashMap::with_capacity(taxa.len());
        for (i, t) in taxa.iter().enumerate() {
            if index.insert(t.as_str(), i).is_some() {
                return Err(Error::config("taxa", format!("'{t}'"), "duplicate taxon name"));
            }
        }
        let mut remap = Vec::with_capacity(self.taxa.len());
        for name in &self.taxa {
            let &i = index
                .get(name.as_str())
                .ok_or_else(|| Error::config("tree leaf", format!("'{name}'"), "is not a taxon of the alignment"))?;
            remap.push(i);
        }
        if self.taxa.len() != taxa.len() {
            let mut present = vec![false; taxa.len()];
            remap.iter().for_each(|&i| present[i] = true);
            let missing: Vec<&str> = taxa.iter().zip(&present).filter(|(_, p)| !**p).map(|(t, _)| t.as_str()).collect();
            return Err(Error::config(
                "tree",
                format!("{} leaves", self.taxa.len()),
                format!("alignment taxa missing from the tree: {}", missing.join(", ")),
            ));
        }
        let mut tree = self.clone();
        for node in &mut tree.nodes {
            node.taxon = node.taxon.map(|t| remap[t]);
        }
        tree.taxa = taxa.to_vec();
        Ok(tree)
    }

    /// Checks that the tree is a binary unrooted tree in rooted storage: at least 3 leaves, a
    /// root with 2 or 3 children and every other internal node with exactly 2.
    pub fn check_binary(&self) -> Result<()> {
        let n = self.num_leaves();
        if n < 3 {
            return Err(Error::config("tree", format!("{n} leaves"), "an unrooted tree needs at least 3 leaves"));
        }
        for (id, node) in self.nodes.iter().enumerate() {
            let k = node.children.len();
            let ok = if id == self.root { k == 2 || k == 3 } else { k == 0 || k == 2 };
            if !ok {
                let what = if id == self.root {
                    "the root must have 2 or 3 children"
                } else {
                    "internal nodes must have 2 children"
                };
                return Err(Error::config(
                    "tree",
                    format!("node with {k} children (above leaves {})", self.leaf_names_below(id)),
                    format!("{what}; multifurcations are not supported for scoring"),
                ));
            }
        }
        Ok(())
    }

    /// Names of up to four leaves below `id`, for error messages.
    pub(crate) fn leaf_names_below(&self, id: NodeId) -> String {
        let mut names = Vec::new();
        let mut stack = vec![id];
        while let Some(v) = stack.pop() {
            if let Some(t) = self.nodes[v].taxon {
                names.push(self.taxa[t].as_str());
            }
            stack.extend(self.nodes[v].children.iter().rev());
        }
        let more = if names.len() > 4 { ", …" } else { "" };
        format!("{}{more}", names[..names.len().min(4)].join(", "))
    }

    /// The edges of the unrooted tree as (child node, length): every non-root node's edge, except
    /// that when the root has two children their two edges count as one (attributed to the first
    /// child, length `l0 + l1`). A missing length is an error naming the edge.
    pub fn unrooted_edge_lengths(&self) -> Result<Vec<(NodeId, f64)>> {
        let length = |id: NodeId| {
            self.nodes[id].length.ok_or_else(|| {
                Error::config("tree", format!("edge above {}", self.leaf_names_below(id)), "branch length missing")
            })
        };
        let root_children = &self.nodes[self.root].children;
        let fused = (root_children.len() == 2).then(|| (root_children[0], root_children[1]));
        let mut edges = Vec::with_capacity(self.nodes.len());
        for id in self.postorder() {
            match fused {
                _ if id == self.root => {}
                Some((a, _)) if id == a => {}
                Some((a, b)) if id == b => edges.push((a, length(a)? + length(b)?)),
                _ => edges.push((id, length(id)?)),
            }
        }
        Ok(edges)
    }

    /// Renames the leaves through `map` (names not in it are kept), for example a NEXUS
    /// `TRANSLATE` table. The renamed leaves must stay distinct.
    pub fn rename_leaves(&self, map: &HashMap<String, String>) -> Result<Tree> {
        let taxa: Vec<String> = self.taxa.iter().map(|t| map.get(t).cloned().unwrap_or_else(|| t.clone())).collect();
        let mut seen = HashMap::new();
        for (i, t) in taxa.iter().enumerate() {
            if let Some(j) = seen.insert(t.as_str(), i) {
                return Err(Error::config(
                    "tree leaf",
                    format!("'{t}'"),
                    format!("leaves '{}' and '{}' get the same name", self.taxa[j], self.taxa[i]),
                ));
            }
        }
        Ok(Tree { nodes: self.nodes.clone(), root: self.root, taxa })
    }
}
