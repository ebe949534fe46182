//! Canonical rooted binary trees, forests of them, and the unrooted trees they end in.
//!
//! A [`RootedTree`] is stored as its nodes in post-order with the children of every internal node
//! ordered by their minimum leaf, so equal trees have equal representations. Every node carries the
//! branch-length label of the edge above it ([`Edge`]): a bin ([`NO_BIN`] at a root; environments
//! without branch lengths use bin 0) and, with continuous branch lengths, the real length (bin 0).
//!
//! An **unrooted** tree over taxa `0..n` is stored in the same form, rooted at a virtual node on the
//! edge of taxon 0: the root's children are the leaf `0` (with [`NO_BIN`]) and the rooted tree `R`
//! over the other taxa, whose root carries the bin of the edge to taxon 0. The `2n − 3` edges are
//! thus the `2n − 3` nodes of `R`, and edge `e` is the `e`-th node of `R` in post-order (node `e + 1`
//! of the whole tree): this is the canonical edge numbering used by the final-merge actions.

/// The bin of a root node (no edge above it).
pub const NO_BIN: u16 = u16::MAX;

/// The label of an edge: its branch-length bin and, with continuous branch lengths, its real
/// length (stored as `f64` bits so that trees hash; 0 without one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Edge {
    /// The bin, or [`NO_BIN`] above a root.
    pub bin: u16,
    /// The bits of the real branch length (`0` — the length 0.0 — in bin mode).
    pub length_bits: u64,
}

impl Edge {
    /// The label above a root.
    pub const ROOT: Edge = Edge { bin: NO_BIN, length_bits: 0 };

    /// An edge of bin `bin` (no real length).
    pub fn bin(bin: u16) -> Edge {
        Edge { bin, length_bits: 0 }
    }

    /// An edge of real length `length` (bin 0).
    pub fn length(length: f64) -> Edge {
        Edge { bin: 0, length_bits: length.to_bits() }
    }

    /// The real branch length (0.0 in bin mode).
    pub fn real_length(&self) -> f64 {
        f64::from_bits(self.length_bits)
    }
}

/// One node of a [`RootedTree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// The post-order indices of the (left, right) children of an internal node; `None` at a leaf.
    pub children: Option<(u16, u16)>,
    /// The smallest taxon below this node (the taxon itself at a leaf).
    pub min_leaf: u16,
    /// The branch-length bin of the edge above this node, or [`NO_BIN`].
    pub bin: u16,
    /// The bits of the real length of the edge above this node (continuous branch lengths; 0
    /// otherwise).
    pub length_bits: u64,
}

impl Node {
    /// The label of the edge above this node.
    pub fn edge(&self) -> Edge {
        Edge { bin: self.bin, length_bits: self.length_bits }
    }

    /// Sets the label of the edge above this node.
    fn set_edge(&mut self, edge: Edge) {
        (self.bin, self.length_bits) = (edge.bin, edge.length_bits);
    }
}

/// A canonical rooted binary tree; see the [module documentation](self).
///
/// Its `Debug` form is Newick-like over taxon indices, with `:bin` after every node that has an
/// edge bin, `((0:0,2:1):0,1:3)`, or `:length` where the edge has a real length.
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
            match node.edge() {
                Edge::ROOT => Ok(()),
                Edge { bin, length_bits: 0 } => write!(f, ":{bin}"),
                edge => write!(f, ":{}", edge.real_length()),
            }
        }
        write(self, self.nodes.len() - 1, f)
    }
}

impl RootedTree {
    /// The single-leaf tree of `taxon`.
    pub fn leaf(taxon: u16) -> RootedTree {
        RootedTree { nodes: vec![Node { children: None, min_leaf: taxon, bin: NO_BIN, length_bits: 0 }] }
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
        Self::join_edges(a, Edge::bin(a_bin), b, Edge::bin(b_bin))
    }

    /// Joins two trees under a new root, with edge labels `a_edge` and `b_edge` above their roots
    /// (either order; the result is canonical).
    pub fn join_edges(a: &RootedTree, a_edge: Edge, b: &RootedTree, b_edge: Edge) -> RootedTree {
        let ((left, left_edge), (right, right_edge)) =
            if a.min_leaf() < b.min_leaf() { ((a, a_edge), (b, b_edge)) } else { ((b, b_edge), (a, a_edge)) };
        let mut nodes = Vec::with_capacity(left.nodes.len() + right.nodes.len() + 1);
        nodes.extend_from_slice(&left.nodes);
        let offset = index(left.nodes.len());
        nodes.extend(
            right.nodes.iter().map(|n| Node { children: n.children.map(|(l, r)| (l + offset, r + offset)), ..*n }),
        );
        let (left_root, right_root) = (index(left.nodes.len() - 1), index(nodes.len() - 1));
        nodes[usize::from(left_root)].set_edge(left_edge);
        nodes[usize::from(right_root)].set_edge(right_edge);
        nodes.push(Node {
            children: Some((left_root, right_root)),
            min_leaf: left.min_leaf(),
            bin: NO_BIN,
            length_bits: 0,
        });
        RootedTree { nodes }
    }

    /// The subtree below node `node`, as a tree of its own (its root's edge becomes [`Edge::ROOT`]).
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
        nodes.last_mut().expect("non-empty").set_edge(Edge::ROOT);
        RootedTree { nodes }
    }

    /// Splits an internal root into its two subtrees and the bins of their edges:
    /// `(left, left_bin, right, right_bin)`, or `None` for a leaf.
    pub fn split(&self) -> Option<(RootedTree, u16, RootedTree, u16)> {
        self.split_edges().map(|(l, le, r, re)| (l, le.bin, r, re.bin))
    }

    /// Splits an internal root into its two subtrees and the labels of their edges:
    /// `(left, left_edge, right, right_edge)`, or `None` for a leaf.
    pub fn split_edges(&self) -> Option<(RootedTree, Edge, RootedTree, Edge)> {
        let (l, r) = self.root().children?;
        let (l, r) = (usize::from(l), usize::from(r));
        Some((self.subtree(l), self.nodes[l].edge(), self.subtree(r), self.nodes[r].edge()))
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

/// An undirected tree: for every vertex, its `(neighbour, edge label)` list. Taxa are vertices
/// `0..n`; internal vertices come after.
struct Adjacency {
    neighbours: Vec<Vec<(usize, Edge)>>,
}

impl Adjacency {
    fn new(taxa: usize) -> Adjacency {
        Adjacency { neighbours: vec![Vec::new(); taxa] }
    }

    fn connect(&mut self, a: usize, b: usize, edge: Edge) {
        self.neighbours[a].push((b, edge));
        self.neighbours[b].push((a, edge));
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
                        self.connect(vertex[c], v, tree.nodes[c].edge());
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
            (Some(&(a, a_edge)), Some(&(b, b_edge))) => {
                let (ta, va) = self.rooted(a, root);
                let (tb, vb) = self.rooted(b, root);
                let tree = RootedTree::join_edges(&ta, a_edge, &tb, b_edge);
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
        let tree = RootedTree::join_edges(&RootedTree::leaf(0), Edge::ROOT, &rest, bin);
        vertices.insert(0, 0);
        vertices.push(usize::MAX);
        (tree, vertices)
    }
}

/// The unrooted tree made by joining the two trees of a forest with one edge of bin `bin`, and the
/// canonical number of that edge. `first` must hold taxon 0.
pub fn unroot(first: &RootedTree, second: &RootedTree, bin: u16, taxa: usize) -> (RootedTree, usize) {
    unroot_edge(first, second, Edge::bin(bin), taxa)
}

/// [`unroot`] with an edge label (a bin or a real length) for the joining edge.
pub fn unroot_edge(first: &RootedTree, second: &RootedTree, edge: Edge, taxa: usize) -> (RootedTree, usize) {
    let mut graph = Adjacency::new(taxa);
    let a = *graph.add(first, first.nodes.len() - 1).last().expect("non-empty");
    let b = *graph.add(second, second.nodes.len() - 1).last().expect("non-empty");
    graph.connect(a, b, edge);
    let (tree, vertices) = graph.unrooted();
    let position = vertices.iter().position(|&v| v == b).expect("the second root is in the tree");
    (tree, position - 1)
}

/// Cuts edge `edge` of an unrooted tree in canonical form: the two rooted trees (the one holding
/// taxon 0 first) and the edge's bin; `None` if `edge` is not in `0..2n − 3`.
pub fn cut(unrooted: &RootedTree, edge: usize, taxa: usize) -> Option<(RootedTree, RootedTree, u16)> {
    cut_edge(unrooted, edge, taxa).map(|(a, b, label)| (a, b, label.bin))
}

/// [`cut`] returning the cut edge's label (bin and real length).
pub fn cut_edge(unrooted: &RootedTree, edge: usize, taxa: usize) -> Option<(RootedTree, RootedTree, Edge)> {
    let node = edge + 1;
    if node + 1 >= unrooted.nodes.len() {
        return None;
    }
    let mut graph = Adjacency::new(taxa);
    let (_, rest) = unrooted.root().children.expect("an unrooted tree has a root pair");
    let vertex = graph.add(unrooted, usize::from(rest));
    graph.connect(0, vertex[usize::from(rest)], unrooted.nodes[usize::from(rest)].edge());
    let parent = unrooted.parents()[node];
    let (below, above) = (vertex[node], if parent == unrooted.nodes.len() - 1 { 0 } else { vertex[parent] });
    let (first, _) = graph.rooted(above, below);
    let (second, _) = graph.rooted(below, above);
    Some((first, second, unrooted.nodes[node].edge()))
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
