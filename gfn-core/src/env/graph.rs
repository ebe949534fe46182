//! Enumeration of a finite state DAG, for exact evaluation.

use std::collections::HashMap;

use super::{Environment, EnvironmentExt};
use crate::{Error, Result};

/// The default of [`Enumerable::state_limit`]: the most states exact enumeration visits.
pub const DEFAULT_STATE_LIMIT: usize = 1 << 21;

/// Marker for environments whose reachable state space is small enough to enumerate.
///
/// Enumerable environments get exact evaluation: the terminal distribution of a policy by dynamic
/// programming over the state DAG, and the exact normalised reward.
pub trait Enumerable: Environment {
    /// The largest number of states [`Enumerable::state_graph`] will visit before giving up.
    fn state_limit(&self) -> usize {
        DEFAULT_STATE_LIMIT
    }

    /// Enumerates every state reachable from the source, in topological order.
    fn state_graph(&self) -> Result<StateGraph<Self::State>>
    where
        Self: Sized,
    {
        StateGraph::build(self, self.state_limit())
    }
}

/// Every reachable state of an environment, in topological order (parents before children), with
/// the forward edges between them.
#[derive(Debug, Clone)]
pub struct StateGraph<S> {
    /// States in topological order; `states[0]` is the source.
    pub states: Vec<S>,
    /// CSR offsets into `edges`: the out-edges of state `i` are `edges[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<usize>,
    /// Out-edges `(action, child index)`, the exit action excluded.
    pub edges: Vec<(usize, usize)>,
    /// Whether state `i` may exit (is a terminal object).
    pub can_exit: Vec<bool>,
    index: HashMap<S, usize>,
}

impl<S: Clone + Eq + std::hash::Hash + std::fmt::Debug> StateGraph<S> {
    /// Enumerates the states reachable from `env.source()` by depth-first search, failing with
    /// [`Error::TooManyStates`] beyond `limit` states and with
    /// [`Error::InconsistentEnvironment`] on a cycle.
    pub fn build<E: Environment<State = S> + ?Sized>(env: &E, limit: usize) -> Result<Self> {
        if env.continuous().is_some() {
            return Err(Error::config(
                "enumeration",
                env.name(),
                "the environment has continuous steps, so its states are not enumerable: use Monte-Carlo evaluation",
            ));
        }
        // Iterative DFS computing a reverse post-order (a topological order of a DAG).
        let mut discovered: HashMap<S, usize> = HashMap::new();
        let mut found: Vec<S> = Vec::new();
        let mut children: Vec<Vec<(usize, usize)>> = Vec::new();
        let mut exits: Vec<bool> = Vec::new();
        let mut on_stack: Vec<bool> = Vec::new();
        let mut post_order: Vec<usize> = Vec::new();

        let source = env.source();
        discovered.insert(source.clone(), 0);
        found.push(source.clone());
        children.push(Vec::new());
        exits.push(env.can_exit(&source));
        on_stack.push(true);
        let mut stack: Vec<(usize, std::vec::IntoIter<(usize, S)>)> = vec![(0, env.children(&source)?.into_iter())];
        while let Some((node, iter)) = stack.last_mut() {
            let node = *node;
            match iter.next() {
                Some((action, child)) => {
                    if let Some(&j) = discovered.get(&child) {
                        if on_stack[j] {
                            return Err(Error::InconsistentEnvironment(format!(
                                "cycle: action {action} from state {:?} leads back to its ancestor {child:?}",
                                found[node]
                            )));
                        }
                        children[node].push((action, j));
                        continue;
                    }
                    let j = found.len();
                    if j >= limit {
                        return Err(Error::TooManyStates { limit });
                    }
                    discovered.insert(child.clone(), j);
                    children[node].push((action, j));
                    exits.push(env.can_exit(&child));
                    children.push(Vec::new());
                    on_stack.push(true);
                    let grand = env.children(&child)?;
                    found.push(child);
                    stack.push((j, grand.into_iter()));
                }
                None => {
                    on_stack[node] = false;
                    post_order.push(node);
                    stack.pop();
                }
            }
        }
        // Renumber in reverse post-order.
        post_order.reverse();
        let mut rank = vec![0usize; found.len()];
        for (r, &old) in post_order.iter().enumerate() {
            rank[old] = r;
        }
        let mut slots: Vec<Option<S>> = found.into_iter().map(Some).collect();
        let mut states = Vec::with_capacity(slots.len());
        let mut offsets = Vec::with_capacity(slots.len() + 1);
        let mut edges = Vec::new();
        let mut can_exit = Vec::with_capacity(slots.len());
        offsets.push(0);
        for &old in &post_order {
            states.push(slots[old].take().expect("each state is taken once"));
            edges.extend(children[old].iter().map(|&(a, c)| (a, rank[c])));
            offsets.push(edges.len());
            can_exit.push(exits[old]);
        }
        let index = states.iter().cloned().enumerate().map(|(i, s)| (s, i)).collect();
        Ok(StateGraph { states, offsets, edges, can_exit, index })
    }

    /// The number of states.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether the graph has no states (never true for a built graph).
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The position of `state` in the topological order.
    pub fn index_of(&self, state: &S) -> Option<usize> {
        self.index.get(state).copied()
    }

    /// The out-edges `(action, child)` of state `i`.
    pub fn out_edges(&self, i: usize) -> &[(usize, usize)] {
        &self.edges[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Indices of the terminal objects (states that may exit).
    pub fn terminals(&self) -> impl Iterator<Item = usize> + '_ {
        self.can_exit.iter().enumerate().filter(|(_, e)| **e).map(|(i, _)| i)
    }
}
