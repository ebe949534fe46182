//! Environments: the state space, its actions and the reward.
//!
//! An environment is a DAG of states rooted at a *source* state. Actions are indexed in a fixed
//! maximal action space `0..action_count()`; one index is the *exit* action that ends a trajectory
//! at the current state (the terminal object). States where the trajectory must end (a full
//! sequence) allow only the exit action, which then has probability one. Masks say which actions
//! are allowed: the forward mask of a state lists its out-edges, the backward mask lists the
//! actions that lead *into* it (one per parent edge; the exit action is never a backward action).
//!
//! Built-in and user environments are usually generated with the derive macros of `gfn-macros`;
//! this trait is what the engine consumes.

pub mod continuous;
mod graph;
mod slots;
mod typed;

pub use continuous::ContinuousSteps;
pub use graph::{DEFAULT_STATE_LIMIT, Enumerable, StateGraph};
pub use slots::{PairKind, SlotLayout};
pub use typed::{Action, State};

use std::fmt::Debug;
use std::hash::Hash;

use crate::{Error, Result};

/// A GFlowNet environment: a pointed DAG of states with masked, indexed actions and a log-reward.
///
/// Contract (checked by [`crate::check::check_environment`]):
/// - `step(s, a)` is defined exactly when `forward_mask(s)[a]` holds and `a != exit_action()`;
/// - `backward_step(step(s, a), a) == s`, and `backward_mask(step(s, a))[a]` holds;
/// - the graph is acyclic and the source has no parents;
/// - `log_reward(x)` is called only on states whose forward mask allows the exit action, and is
///   finite there, or `-inf` for objects of zero reward.
pub trait Environment: Send + Sync {
    /// The state type.
    type State: Clone + Eq + Hash + Debug + Send + Sync;

    /// A short name, used in metrics and checkpoints (`"hypergrid"`).
    fn name(&self) -> String;
    /// The number of forward actions, including the exit action.
    fn action_count(&self) -> usize;
    /// The index of the exit action.
    fn exit_action(&self) -> usize;
    /// The length of the feature vector written by [`Environment::encode`].
    fn feature_dim(&self) -> usize;
    /// The source state `s_0`.
    fn source(&self) -> Self::State;
    /// Writes the forward mask of `state` (`mask.len() == action_count()`).
    fn forward_mask(&self, state: &Self::State, mask: &mut [bool]);
    /// Writes the backward mask of `state`: `mask[a]` holds when some parent reaches `state` by `a`.
    fn backward_mask(&self, state: &Self::State, mask: &mut [bool]);
    /// Applies the forward action `action` (never the exit action) to `state` in place.
    /// On error the state is left unchanged.
    fn step(&self, state: &mut Self::State, action: usize) -> Result<()>;
    /// Undoes the action `action` that led into `state`, turning it into its parent, in place.
    /// On error the state is left unchanged.
    fn backward_step(&self, state: &mut Self::State, action: usize) -> Result<()>;
    /// The log-reward of a terminal object.
    fn log_reward(&self, state: &Self::State) -> f64;
    /// Writes the features of `state` into `out` (`out.len() == feature_dim()`, zeroed by the caller).
    fn encode(&self, state: &Self::State, out: &mut [f32]);
    /// A short, stable rendering of the parameters that define the environment (for checkpoints:
    /// a policy trained on one environment is rejected on another).
    fn signature(&self) -> String {
        format!("{}:{}:{}", self.name(), self.action_count(), self.feature_dim())
    }
    /// How the features and forward actions decompose into interchangeable slots and pair actions,
    /// for the permutation-equivariant pair policy (`architecture = "pairs"`, see
    /// [`crate::nn::PairEncoder`]); `None` (the default) when they do not.
    fn slot_layout(&self) -> Option<SlotLayout> {
        None
    }
    /// The temperature `T > 0` that divides this environment's log-reward (`log R / T`, possibly
    /// after an offset; a hybrid environment's Jacobian term may stay outside), if a schedule may
    /// change it with [`Environment::with_reward_temperature`]; `None` (the default) when there
    /// is none.
    fn reward_temperature(&self) -> Option<f64> {
        None
    }
    /// The same environment at reward temperature `temperature` (for annealing schedules such as
    /// [`crate::train::AnnealConfig`]). The default is an error: the environment has no reward
    /// temperature.
    fn with_reward_temperature(&self, temperature: f64) -> Result<Self>
    where
        Self: Sized,
    {
        Err(Error::config(
            "reward_temperature",
            temperature,
            format!("environment {} has no reward temperature to change", self.name()),
        ))
    }

    /// The continuous part of the steps of a hybrid environment (see [`continuous`]); `None` (the
    /// default) for a purely discrete one.
    fn continuous(&self) -> Option<&dyn ContinuousSteps<Self::State>> {
        None
    }
}

/// Environment conveniences built on the required methods.
pub trait EnvironmentExt: Environment {
    /// The child of `state` by `action`, or an error naming the state and action if the action is
    /// not allowed there.
    fn child(&self, state: &Self::State, action: usize) -> Result<Self::State> {
        let mut mask = vec![false; self.action_count()];
        self.forward_mask(state, &mut mask);
        if action >= mask.len() || !mask[action] || action == self.exit_action() {
            return Err(Error::InvalidAction {
                action,
                state: format!("{state:?}"),
                reason: if action >= mask.len() {
                    format!("outside the action space 0..{}", mask.len())
                } else if action == self.exit_action() {
                    "the exit action has no child state".into()
                } else {
                    "masked out by the forward mask".into()
                },
            });
        }
        let mut child = state.clone();
        self.step(&mut child, action)?;
        Ok(child)
    }

    /// Every `(action, parent)` pair that leads into `state`.
    fn parents(&self, state: &Self::State) -> Result<Vec<(usize, Self::State)>> {
        let mut mask = vec![false; self.action_count()];
        self.backward_mask(state, &mut mask);
        let mut out = Vec::new();
        for (a, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
            let mut parent = state.clone();
            self.backward_step(&mut parent, a)?;
            out.push((a, parent));
        }
        Ok(out)
    }

    /// Every `(action, child)` pair of `state`, the exit action excluded.
    fn children(&self, state: &Self::State) -> Result<Vec<(usize, Self::State)>> {
        let mut mask = vec![false; self.action_count()];
        self.forward_mask(state, &mut mask);
        let exit = self.exit_action();
        let mut out = Vec::new();
        for (a, _) in mask.iter().enumerate().filter(|(a, m)| **m && *a != exit) {
            let mut child = state.clone();
            self.step(&mut child, a)?;
            out.push((a, child));
        }
        Ok(out)
    }

    /// Whether `state` may end a trajectory (its forward mask allows the exit action).
    fn can_exit(&self, state: &Self::State) -> bool {
        let mut mask = vec![false; self.action_count()];
        self.forward_mask(state, &mut mask);
        mask[self.exit_action()]
    }

    /// The log-reward of `state`, rejecting NaN and `+inf` with an error naming the state.
    fn checked_log_reward(&self, state: &Self::State) -> Result<f64> {
        let value = self.log_reward(state);
        if value.is_nan() || value == f64::INFINITY {
            return Err(Error::InvalidReward {
                value,
                state: format!("{state:?}"),
                reason: "log-rewards must be finite or -inf".into(),
            });
        }
        Ok(value)
    }
}

impl<E: Environment + ?Sized> EnvironmentExt for E {}
