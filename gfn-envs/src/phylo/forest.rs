//! Canonical rooted binary trees, forests of them, and the unrooted trees they end in.
//!
//! A [`RootedTree`] is stored as its nodes in post-order with the children of every internal node
//! ordered by their minimum leaf, so equal trees have equal representations. Every node carries the
//! branch-length bin of the edge above it ([`NO_BIN`] at a root; environments without branch
//! lengths use bin 0).
//!
//! An **unrooted** tree over taxa `0..n` is stored in the same form, rooted at a virtual node on the
//! edge of taxon 0: the root's children are the leaf `0` (with [`NO_BIN`]) and the rooted tree `R`
//! over the other taxa, whose root carries the bin of the edge to taxon 0. The `2n − 3` edges are
//! thus the `2n − 3` nodes of `R`, and edge `e` is the `e`-th node of `R` in post-order (node `e + 1`
//! of the whole tree): this is the canonical edge numbering used by the final-merge actions.

/// The bin of a root node (no edge above it).
pub const NO_BIN: u16 = u16::MAX;

/// One node of a [`RootedTree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// The post-order indices of the (left, right) children of an internal node; `None` at a leaf.
    pub children: Option<(u16, u16)>,
    /// The smallest taxon below this node (the taxon itself at a leaf).
    pub min_leaf: u16,
    /// The branch-length bin of the edge above this node, or [`NO_BIN`].
    pub bin: u16,
}

/// A canonical rooted binary tree; see the [module documentation](self).
///
/// Its `Debug` form is Newick-like over taxon indices, with `:bin` after every node that has an
/// edge bin: `((0:0,2:1):0,1:3)`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RootedTree {
    nodes: Vec<Node>,
}

impl std::fmt::Debug for RootedTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn write(tree: &RootedTree, i: usize, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let node = &tree.nodes[i];
            match node.children {
                None => write!(f, "{}", node.min_leaf)?,
                Some((l, r)) => {
                    f.write_str("(")?;
                    write(tree, usize::from(l), f)?;
                    f.write_str(",")?;
                    write(tree, usize::from(r), f)?;
                    f.write_str(")")?;
                }
            }
            if node.bin != NO_BIN { write!(f, ":{}", node.bin) } else { Ok(()) }
        }
        write(self, self.nodes.len() - 1, f)
    }
}

impl RootedTree {
    /// The single-leaf tree of `taxon`.
    pub fn leaf(taxon: u16) -> RootedTree {
        RootedTree { nodes: vec![Node { children: None, min_leaf: taxon, bin: NO_BIN }] }
    }

    /// The nodes in post-order; the root is last.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The root node.
    pub fn root(&self) -> &Node {
        self.nodes.last().expect("a tree has a root")
    }

    /// The smallest taxon of the tree.
    pub fn min_leaf(&self) -> u16 {
        self.root().min_leaf
    }

    /// Whether the tree is a single leaf.
    pub fn is_leaf(&self) -> bool {
        self.nodes.len() == 1
    }

    /// The number of taxa.
    pub fn leaf_count(&self) -> usize {
        self.nodes.len().div_ceil(2)
    }

    /// The taxa, in post-order.
    pub fn leaves(&self) -> impl Iterator<Item = u16> + '_ {
        self.nodes.iter().filter(|n| n.children.is_none()).map(|n| n.min_leaf)
    }

    /// Joins two trees under a new root, with edge bins `a_bin` and `b_bin` above their roots.
    /// The arguments may come in either order; the result is canonical.
    pub fn join(a: &RootedTree, a_bin: u16, b: &RootedTree, b_bin: u16) -> RootedTree {
        let ((left, left_bin), (right, right_bin)) =
            if a.min_leaf() < b.min_leaf() { ((a, a_bin), (b, b_bin)) } else { ((b, b_bin), (a, a_bin)) };
        let mut nodes = Vec::with_capacity(left.nodes.len() + right.nodes.len() + 1);
        nodes.extend_from_slice(&left.nodes);
        let offset = index(left.nodes.len());
        nodes.extend(
            right.nodes.iter().map(|n| Node { children: n.children.map(|(l, r)| (l + offset, r + offset)), ..*n }),
        );
        let (left_root, right_root) = (index(left.nodes.len() - 1), index(nodes.len() - 1));
        nodes[usize::from(left_root)].bin = left_bin;
        nodes[usize::from(right_root)].bin = right_bin;
        nodes.push(Node { children: Some((left_root, right_root)), min_leaf: left.min_leaf(), bin: NO_BIN });
        RootedTree { nodes }
    }

    /// The subtree below node `node`, as a tree of its own (its root's bin becomes [`NO_BIN`]).
    pub fn subtree(&self, node: usize) -> RootedTree {
        let mut start = node;
        while let Some((left, _)) = self.nodes[start].children {
            start = usize::from(left);
        }
        let offset = index(start);
        let mut nodes: Vec<Node> = self.nodes[start..=node]
            .iter()
            .map(|n| Node { children: n.children.map(|(l, r)| (l - offset, r - offset)), ..*n })
            .collect();
        nodes.last_mut().expect("non-empty").bin = NO_BIN;
        RootedTree { nodes }
    }

    /// Splits an internal root into its two subtrees and the bins of their edges:
    /// `(left, left_bin, right, right_bin)`, or `None` for a leaf.
    pub fn split(&self) -> Option<(RootedTree, u16, RootedTree, u16)> {
        let (l, r) = self.root().children?;
        let (l, r) = (usize::from(l), usize::from(r));
        Some((self.subtree(l), self.nodes[l].bin, self.subtree(r), self.nodes[r].bin))
    }

    /// The parent index of every node (`usize::MAX` at the root).
    fn parents(&self) -> Vec<usize> {
        let mut parents = vec![usize::MAX; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            if let Some((l, r)) = n.children {
                parents[usize::from(l)] = i;
                parents[usize::from(r)] = i;
            }
        }
        parents
    }
}

/// A `u16` node index (trees have at most `2 · 64 − 1` nodes).
fn index(i: usize) -> u16 {
    u16::try_from(i).expect("trees have fewer than 65536 nodes")
}

/// An undirected tree: for every vertex, its `(neighbour, edge bin)` list. Taxa are vertices
/// `0..n`; internal vertices come after.
struct Adjacency {
    neighbours: Vec<Vec<(usize, u16)>>,
}

impl Adjacency {
    fn new(taxa: usize) -> Adjacency {
        Adjacency { neighbours: vec![Vec::new(); taxa] }
    }

    fn connect(&mut self, a: usize, b: usize, bin: u16) {
        self.neighbours[a].push((b, bin));
        self.neighbours[b].push((a, bin));
    }

    /// Adds the nodes `tree.nodes()[..=top]` below `top` with their edges; returns the vertex of
    /// every node index.
    fn add(&mut self, tree: &RootedTree, top: usize) -> Vec<usize> {
        let mut vertex = vec![usize::MAX; top + 1];
        for (i, n) in tree.nodes[..=top].iter().enumerate() {
            vertex[i] = match n.children {
                None => usize::from(n.min_leaf),
                Some((l, r)) => {
                    let v = self.neighbours.len();
                    self.neighbours.push(Vec::new());
                    for c in [usize::from(l), usize::from(r)] {
                        self.connect(vertex[c], v, tree.nodes[c].bin);
                    }
                    v
                }
            };
        }
        vertex
    }

    /// The canonical tree rooted at vertex `root`, away from `exclude`, and the vertex of each node.
    fn rooted(&self, root: usize, exclude: usize) -> (RootedTree, Vec<usize>) {
        let mut others = self.neighbours[root].iter().filter(|(v, _)| *v != exclude);
        match (others.next(), others.next()) {
            (Some(&(a, a_bin)), Some(&(b, b_bin))) => {
                let (ta, va) = self.rooted(a, root);
                let (tb, vb) = self.rooted(b, root);
                let tree = RootedTree::join(&ta, a_bin, &tb, b_bin);
                let mut vertices = if ta.min_leaf() < tb.min_leaf() { [va, vb].concat() } else { [vb, va].concat() };
                vertices.push(root);
                (tree, vertices)
            }
            _ => (RootedTree::leaf(index(root)), vec![root]),
        }
    }

    /// The canonical unrooted form (rooted on the edge of taxon 0), and the vertex of each node.
    fn unrooted(&self) -> (RootedTree, Vec<usize>) {
        let (next, bin) = self.neighbours[0][0];
        let (rest, mut vertices) = self.rooted(next, 0);
        let tree = RootedTree::join(&RootedTree::leaf(0), NO_BIN, &rest, bin);
        vertices.insert(0, 0);
        vertices.push(usize::MAX);
        (tree, vertices)
    }
}

/// The unrooted tree made by joining the two trees of a forest with one edge of bin `bin`, and the
/// canonical number of that edge. `first` must hold taxon 0.
pub fn unroot(first: &RootedTree, second: &RootedTree, bin: u16, taxa: usize) -> (RootedTree, usize) {
    let mut graph = Adjacency::new(taxa);
    let a = *graph.add(first, first.nodes.len() - 1).last().expect("non-empty");
    let b = *graph.add(second, second.nodes.len() - 1).last().expect("non-empty");
    graph.connect(a, b, bin);
    let (tree, vertices) = graph.unrooted();
    let position = vertices.iter().position(|&v| v == b).expect("the second root is in the tree");
    (tree, position - 1)
}

/// Cuts edge `edge` of an unrooted tree in canonical form: the two rooted trees (the one holding
/// taxon 0 first) and the edge's bin; `None` if `edge` is not in `0..2n − 3`.
pub fn cut(unrooted: &RootedTree, edge: usize, taxa: usize) -> Option<(RootedTree, RootedTree, u16)> {
    let node = edge + 1;
    if node + 1 >= unrooted.nodes.len() {
        return None;
    }
    let mut graph = Adjacency::new(taxa);
    let (_, rest) = unrooted.root().children.expect("an unrooted tree has a root pair");
    let vertex = graph.add(unrooted, usize::from(rest));
    graph.connect(0, vertex[usize::from(rest)], unrooted.nodes[usize::from(rest)].bin);
    let parent = unrooted.parents()[node];
    let (below, above) = (vertex[node], if parent == unrooted.nodes.len() - 1 { 0 } else { vertex[parent] });
    let (first, _) = graph.rooted(above, below);
    let (second, _) = graph.rooted(below, above);
    Some((first, second, unrooted.nodes[node].bin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(t: u16) -> RootedTree {
        RootedTree::leaf(t)
    }

    #[test]
    fn debug_form_is_newick_like() {
        let tree = RootedTree::join(&RootedTree::join(&leaf(2), 1, &leaf(0), 0), 0, &leaf(1), 3);
        assert_eq!(format!("{tree:?}"), "((0:0,2:1):0,1:3)");
    }

    #[test]
    fn join_is_canonical_and_split_inverts_it() {
        let ab = RootedTree::join(&leaf(3), 1, &leaf(1), 2);
        assert_eq!(ab.min_leaf(), 1);
        assert_eq!(ab.leaves().collect::<Vec<_>>(), [1, 3]);
        assert_eq!((ab.nodes()[0].bin, ab.nodes()[1].bin), (2, 1));
        let abc = RootedTree::join(&leaf(0), 5, &ab, 6);
        assert_eq!(abc.leaf_count(), 3);
        let (l, lb, r, rb) = abc.split().unwrap();
        assert_eq!((l.clone(), lb, r.clone(), rb), (leaf(0), 5, ab.clone(), 6));
        assert_eq!(RootedTree::join(&r, rb, &l, lb), abc);
        assert!(leaf(2).split().is_none());
    }

    #[test]
    fn every_edge_of_an_unrooted_tree_cuts_into_a_forest_that_rebuilds_it() {
        // ((0,1),(2,3),4) built from the forest {(0,1)}, {((2,3),4)}.
        let t01 = RootedTree::join(&leaf(0), 1, &leaf(1), 2);
        let t23 = RootedTree::join(&leaf(2), 3, &leaf(3), 4);
        let t234 = RootedTree::join(&t23, 5, &leaf(4), 6);
        let (tree, edge) = unroot(&t01, &t234, 7, 5);
        assert_eq!(tree.nodes().len(), 2 * 5 - 1);
        let mut bins: Vec<u16> = (0..7).map(|e| cut(&tree, e, 5).unwrap().2).collect();
        assert_eq!(cut(&tree, edge, 5).unwrap(), (t01, t234, 7));
        bins.sort_unstable();
        assert_eq!(bins, [1, 2, 3, 4, 5, 6, 7]);
        for e in 0..7 {
            let (a, b, bin) = cut(&tree, e, 5).unwrap();
            assert_eq!(a.min_leaf(), 0);
            assert_eq!(a.leaf_count() + b.leaf_count(), 5);
            assert_eq!(unroot(&a, &b, bin, 5), (tree.clone(), e), "edge {e}");
        }
        assert!(cut(&tree, 7, 5).is_none());
    }
}
