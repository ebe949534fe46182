//! Sampling trajectories: forward from the source with the policy, or backward from given
//! terminal objects with `P_B`.
//!
//! All trajectories of a batch advance in lock-step: each round evaluates the policy once on the
//! states of every unfinished trajectory (one batched forward pass), then each trajectory draws
//! its action from its own random stream, derived from `(seed, iteration, trajectory index)`.
//! Trajectories in the same state share one column of that pass (all of them start at the source).
//! Results do not depend on the number of threads.

mod backward;
mod distinct;
mod forward;
mod hybrid;

pub use backward::{sample_backward, sample_backward_from};
pub use forward::{Draw, sample_forward, sample_forward_range, sample_forward_recorded};

use nalgebra::DMatrix;

use crate::Error;
use crate::env::Environment;

/// The longest trajectory the samplers follow before declaring the environment inconsistent.
pub const MAX_TRAJECTORY_LENGTH: usize = 1 << 16;

/// A trajectory being built: its current state and the per-step records so far.
#[derive(Debug)]
struct Running<S> {
    state: S,
    features: Vec<f32>,
    forward_mask: Vec<bool>,
    backward_mask: Vec<bool>,
    record: Record<S>,
}

/// The steps of one trajectory, in the order they were taken.
#[derive(Debug)]
struct Record<S> {
    states: Vec<S>,
    actions: Vec<usize>,
    features: Vec<f32>,
    forward_masks: Vec<bool>,
    backward_masks: Vec<bool>,
    /// Hybrid environments: the continuous values of each step, `continuous_dim` per step.
    continuous: Vec<f64>,
    /// When the sampler keeps its passes ([`RoundCaches`](crate::policy::RoundCaches)): the
    /// round and column that evaluated each step.
    columns: Vec<(usize, usize)>,
}

impl<S: Clone> Running<S> {
    fn new<E: Environment<State = S>>(env: &E, state: S) -> Self {
        let mut r = Running {
            state,
            features: vec![0.0; env.feature_dim()],
            forward_mask: vec![false; env.action_count()],
            backward_mask: vec![false; env.action_count()],
            record: Record {
                states: Vec::new(),
                actions: Vec::new(),
                features: Vec::new(),
                forward_masks: Vec::new(),
                backward_masks: Vec::new(),
                continuous: Vec::new(),
                columns: Vec::new(),
            },
        };
        r.refresh(env);
        r
    }

    /// Recomputes features and masks of the current state.
    fn refresh<E: Environment<State = S>>(&mut self, env: &E) {
        self.features.fill(0.0);
        env.encode(&self.state, &mut self.features);
        self.forward_mask.fill(false);
        env.forward_mask(&self.state, &mut self.forward_mask);
        self.backward_mask.fill(false);
        env.backward_mask(&self.state, &mut self.backward_mask);
    }

    /// Appends the current state with the action taken from it (or into it, when sampling
    /// backward) to the record.
    fn push(&mut self, action: usize) {
        self.record.states.push(self.state.clone());
        self.record.actions.push(action);
        self.record.features.extend_from_slice(&self.features);
        self.record.forward_masks.extend_from_slice(&self.forward_mask);
        self.record.backward_masks.extend_from_slice(&self.backward_mask);
    }
}

/// A running trajectory with its random stream, scratch buffers and batch index.
#[derive(Debug)]
struct Slot<S> {
    running: Running<S>,
    rng: crate::rng::Rng,
    log_probs: Vec<f64>,
    scratch: Vec<f64>,
    index: usize,
}

impl<S> Slot<S> {
    fn new(running: Running<S>, rng: crate::rng::Rng, index: usize) -> Self {
        let actions = running.forward_mask.len();
        Slot { running, rng, log_probs: vec![0.0; actions], scratch: vec![0.0; actions], index }
    }
}

/// The features of the running trajectories of one round, one column per distinct state, and
/// the column of each trajectory ([`distinct::distinct_feature_matrix`]).
fn round_features<'a, S: 'a>(
    feature_dim: usize,
    running: impl ExactSizeIterator<Item = &'a Running<S>>,
) -> (DMatrix<f32>, Vec<usize>) {
    distinct::distinct_feature_matrix(feature_dim, running.map(|r| r.features.as_slice()))
}

/// The error for a state that has no allowed action at all.
fn dead_end<S: std::fmt::Debug>(state: &S, direction: &str) -> Error {
    Error::InconsistentEnvironment(format!("state {state:?} has no allowed {direction} action"))
}

/// The error for a trajectory that never ends.
fn too_long<S: std::fmt::Debug>(state: &S) -> Error {
    Error::InconsistentEnvironment(format!(
        "trajectory exceeded {MAX_TRAJECTORY_LENGTH} steps at state {state:?}: the state graph has a cycle or is unbounded"
    ))
}
