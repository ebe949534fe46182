//! Conformance checking of environments.
//!
//! [`check_environment`] walks the states reachable from the source and verifies the contract of
//! [`Environment`]: forward and backward masks agree with the steps, every step can be undone, the
//! graph is acyclic, terminal states have valid log-rewards and encodings are finite. Run it in
//! the tests of every environment; [`assert_environment_conforms`] is the one-line version.

use std::collections::HashMap;
use std::fmt::Debug;

use crate::env::Environment;
use crate::{Error, Result};

/// Options of [`check_environment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    /// The largest number of states visited; beyond it the walk stops (not an error) and the
    /// report says the check was not exhaustive.
    pub state_limit: usize,
    /// Whether to check that every backward step leads to a state reachable from the source
    /// (only meaningful, and only done, when the walk is exhaustive).
    pub check_parents_reachable: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { state_limit: 100_000, check_parents_reachable: true }
    }
}

/// What [`check_environment`] visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckReport {
    /// The number of distinct states visited.
    pub states: usize,
    /// How many of them may exit (terminal objects).
    pub terminals: usize,
    /// Whether every reachable state was visited (the state limit was not hit).
    pub exhaustive: bool,
}

/// Walks the states reachable from `env.source()` (depth first, at most
/// `options.state_limit` of them) and checks, for each state `s`:
///
/// - the action space is well formed: `exit_action() < action_count()`, and the
///   [`slot_layout`](Environment::slot_layout), if any, matches `feature_dim()` and `action_count()`;
/// - masks overwrite every entry (the result does not depend on the buffer's previous content);
/// - at least one forward action is allowed (a state that may not continue must allow exit);
/// - the exit action never appears in a backward mask, and the source has no parents;
/// - every allowed forward action `a` steps to a child `c != s` whose backward mask contains
///   `a`, and `backward_step(c, a)` gives back `s`;
/// - every backward action `a` of `s` steps back to a parent `p` whose forward mask allows `a`
///   and where `step(p, a)` gives back `s`; when the walk is exhaustive, `p` is reachable;
/// - no cycle: no step leads back to a state on the current path;
/// - where exit is allowed, the log-reward is finite or `-inf`;
/// - the encoding has `feature_dim()` finite entries.
///
/// Returns the first violation as [`Error::InconsistentEnvironment`], naming the state (Debug)
/// and the action index.
pub fn check_environment<E>(env: &E, options: &CheckOptions) -> Result<CheckReport>
where
    E: Environment + ?Sized,
{
    let mut checker = Checker::new(env)?;
    if let Some(layout) = env.slot_layout() {
        layout
            .validate(env.feature_dim(), env.action_count())
            .or_else(|e| fail(format!("slot layout {layout:?} does not fit the environment: {e}")))?;
    }
    let source = env.source();
    checker.load_mask(&source, true)?;
    if let Some(a) = checker.allowed().next() {
        return fail(format!("the source {source:?} has a parent: its backward mask allows action {a}"));
    }
    checker.check_state(&source)?;
    // Iterative DFS; `on_path` holds the states of the current path (cycle detection).
    let mut on_path: HashMap<E::State, bool> = HashMap::new();
    on_path.insert(source.clone(), true);
    let mut stack = vec![(source.clone(), checker.children(&source)?.into_iter())];
    let mut exhaustive = true;
    while let Some((state, children)) = stack.last_mut() {
        let Some((action, child)) = children.next() else {
            let (done, _) = stack.pop().expect("stack is not empty");
            on_path.insert(done, false);
            continue;
        };
        match on_path.get(&child) {
            Some(true) => {
                return fail(format!(
                    "cycle: action {action} from state {state:?} leads back to its ancestor {child:?}"
                ));
            }
            Some(false) => continue,
            None => {}
        }
        if on_path.len() >= options.state_limit {
            exhaustive = false;
            continue;
        }
        checker.check_state(&child)?;
        let grandchildren = checker.children(&child)?;
        on_path.insert(child.clone(), true);
        stack.push((child, grandchildren.into_iter()));
    }
    if exhaustive && options.check_parents_reachable {
        for state in on_path.keys() {
            for (action, parent) in checker.parents(state)? {
                if !on_path.contains_key(&parent) {
                    return fail(format!(
                        "state {state:?}: backward action {action} leads to {parent:?}, which is \
                         not reachable from the source"
                    ));
                }
            }
        }
    }
    Ok(CheckReport { states: on_path.len(), terminals: checker.terminals, exhaustive })
}

/// Runs [`check_environment`] with default options and panics with the violation, for tests.
///
/// ```
/// # fn demo<E: gfn_core::env::Environment>(env: &E) {
/// gfn_core::check::assert_environment_conforms(env);
/// # }
/// ```
#[track_caller]
pub fn assert_environment_conforms<E: Environment + ?Sized>(env: &E) {
    if let Err(error) = check_environment(env, &CheckOptions::default()) {
        panic!("environment `{}` does not conform: {error}", env.name());
    }
}

fn fail<T>(message: String) -> Result<T> {
    Err(Error::InconsistentEnvironment(message))
}

/// Scratch buffers and counters of one check.
struct Checker<'a, E: Environment + ?Sized> {
    env: &'a E,
    count: usize,
    exit: usize,
    mask: Vec<bool>,
    other: Vec<bool>,
    features: Vec<f32>,
    terminals: usize,
}

impl<'a, E: Environment + ?Sized> Checker<'a, E> {
    fn new(env: &'a E) -> Result<Self> {
        let (count, exit) = (env.action_count(), env.exit_action());
        if exit >= count {
            return fail(format!("exit action {exit} outside the action space 0..{count}"));
        }
        let features = vec![0.0; env.feature_dim()];
        Ok(Checker { env, count, exit, mask: vec![false; count], other: vec![true; count], features, terminals: 0 })
    }

    /// Writes the forward (or backward) mask of `state` into `self.mask`, checking that the
    /// result does not depend on the buffer's previous content.
    fn load_mask(&mut self, state: &E::State, backward: bool) -> Result<()> {
        let kind = if backward { "backward_mask" } else { "forward_mask" };
        self.mask.fill(false);
        self.other.fill(true);
        if backward {
            self.env.backward_mask(state, &mut self.mask);
            self.env.backward_mask(state, &mut self.other);
        } else {
            self.env.forward_mask(state, &mut self.mask);
            self.env.forward_mask(state, &mut self.other);
        }
        if let Some(a) = (0..self.count).find(|&a| self.mask[a] != self.other[a]) {
            return fail(format!("state {state:?}: {kind} does not write entry {a} (it keeps the buffer's old value)"));
        }
        Ok(())
    }

    fn allowed(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.count).filter(|&a| self.mask[a])
    }

    /// Checks everything local to `state`: masks, reward, encoding, and the round trips of its
    /// forward and backward edges.
    fn check_state(&mut self, state: &E::State) -> Result<()> {
        self.load_mask(state, false)?;
        if !self.mask.iter().any(|&m| m) {
            return fail(format!(
                "state {state:?} allows no forward action; a state that cannot continue must allow exit (action {})",
                self.exit
            ));
        }
        if self.mask[self.exit] {
            self.terminals += 1;
            let value = self.env.log_reward(state);
            if value.is_nan() || value == f64::INFINITY {
                return fail(format!("state {state:?}: log-reward {value} (expected finite or -inf)"));
            }
        }
        self.features.fill(0.0);
        self.env.encode(state, &mut self.features);
        if let Some(i) = self.features.iter().position(|f| !f.is_finite()) {
            return fail(format!("state {state:?}: feature {i} is {}", self.features[i]));
        }
        let forward: Vec<usize> = self.allowed().filter(|&a| a != self.exit).collect();
        for action in forward {
            self.check_forward_edge(state, action)?;
        }
        self.load_mask(state, true)?;
        if self.mask[self.exit] {
            return fail(format!("state {state:?}: the backward mask allows the exit action {}", self.exit));
        }
        let backward: Vec<usize> = self.allowed().collect();
        for action in backward {
            self.check_backward_edge(state, action)?;
        }
        Ok(())
    }

    fn check_forward_edge(&mut self, state: &E::State, action: usize) -> Result<()> {
        let mut child = state.clone();
        self.env.step(&mut child, action).map_err(|e| {
            Error::InconsistentEnvironment(format!("state {state:?}: allowed action {action} fails to step: {e}"))
        })?;
        if &child == state {
            return fail(format!("cycle: action {action} leaves state {state:?} unchanged"));
        }
        self.env.backward_mask(&child, &mut self.mask);
        if !self.mask[action] {
            return fail(format!(
                "state {state:?}: action {action} leads to {child:?}, whose backward mask lacks action {action}"
            ));
        }
        let mut back = child.clone();
        self.env.backward_step(&mut back, action).map_err(|e| {
            Error::InconsistentEnvironment(format!("state {child:?}: backward action {action} fails: {e}"))
        })?;
        if &back != state {
            return fail(format!(
                "state {state:?}: action {action} leads to {child:?}, whose backward step gives {back:?} instead"
            ));
        }
        Ok(())
    }

    fn check_backward_edge(&mut self, state: &E::State, action: usize) -> Result<()> {
        let mut parent = state.clone();
        self.env.backward_step(&mut parent, action).map_err(|e| {
            Error::InconsistentEnvironment(format!("state {state:?}: backward action {action} fails: {e}"))
        })?;
        self.env.forward_mask(&parent, &mut self.mask);
        if !self.mask[action] {
            return fail(format!(
                "state {state:?}: backward action {action} leads to {parent:?}, whose forward mask forbids action {action}"
            ));
        }
        let mut again = parent.clone();
        self.env.step(&mut again, action)?;
        if &again != state {
            return fail(format!(
                "state {state:?}: backward action {action} leads to {parent:?}, which steps forward to {again:?} instead"
            ));
        }
        Ok(())
    }

    fn children(&mut self, state: &E::State) -> Result<Vec<(usize, E::State)>> {
        self.env.forward_mask(state, &mut self.mask);
        let mut out = Vec::new();
        for action in (0..self.count).filter(|&a| self.mask[a] && a != self.exit) {
            let mut child = state.clone();
            self.env.step(&mut child, action)?;
            out.push((action, child));
        }
        Ok(out)
    }

    fn parents(&mut self, state: &E::State) -> Result<Vec<(usize, E::State)>> {
        self.env.backward_mask(state, &mut self.mask);
        let mut out = Vec::new();
        for action in (0..self.count).filter(|&a| self.mask[a]) {
            let mut parent = state.clone();
            self.env.backward_step(&mut parent, action)?;
            out.push((action, parent));
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
