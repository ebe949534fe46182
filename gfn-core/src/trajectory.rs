//! Batches of complete trajectories, flattened (CSR).

/// A batch of complete trajectories `s_0 -> … -> s_n -> s_f`, flattened step by step.
///
/// Trajectory `i` owns steps `offsets[i]..offsets[i + 1]`. Step `t` leaves state `states[t]` by
/// action `actions[t]`; the last step of each trajectory is the exit step, so the states of the
/// steps are exactly `s_0, …, s_n`. Everything the training step needs is stored, so the policy
/// can be re-evaluated on all transitions in one batched pass: the state features, the forward
/// masks and the backward masks of every state.
#[derive(Debug, Clone)]
pub struct Trajectories<S> {
    /// CSR offsets, length `B + 1`.
    pub offsets: Vec<usize>,
    /// `s_t` per step.
    pub states: Vec<S>,
    /// The action taken at each step (the exit action on the last step of a trajectory).
    pub actions: Vec<usize>,
    /// Features of `s_t`, `feature_dim` floats per step (column-major feature matrix).
    pub features: Vec<f32>,
    /// Forward masks of `s_t`, `action_count` entries per step.
    pub forward_masks: Vec<bool>,
    /// Backward masks of `s_t`, `action_count` entries per step.
    pub backward_masks: Vec<bool>,
    /// `log R(x)` per trajectory.
    pub log_reward: Vec<f64>,
    /// Feature length per state.
    pub feature_dim: usize,
    /// Number of actions (mask width).
    pub action_count: usize,
    /// Hybrid environments: the most continuous values a step draws (0 for discrete ones).
    pub continuous_dim: usize,
    /// Hybrid environments: the continuous values drawn at each step, `continuous_dim` per step
    /// (the first `count(s_t, a_t)` are the drawn ones, the rest 0).
    pub continuous: Vec<f64>,
}

impl<S> Trajectories<S> {
    /// An empty batch for an environment with these dimensions.
    pub fn new(feature_dim: usize, action_count: usize) -> Self {
        Trajectories {
            offsets: vec![0],
            states: Vec::new(),
            actions: Vec::new(),
            features: Vec::new(),
            forward_masks: Vec::new(),
            backward_masks: Vec::new(),
            log_reward: Vec::new(),
            feature_dim,
            action_count,
            continuous_dim: 0,
            continuous: Vec::new(),
        }
    }

    /// An empty batch for a hybrid environment whose steps draw at most `continuous_dim` values.
    pub fn with_continuous(feature_dim: usize, action_count: usize, continuous_dim: usize) -> Self {
        Trajectories { continuous_dim, ..Self::new(feature_dim, action_count) }
    }

    /// The continuous values slot of step `t` (`continuous_dim` entries; empty for discrete
    /// environments).
    pub fn continuous_values(&self, t: usize) -> &[f64] {
        &self.continuous[t * self.continuous_dim..(t + 1) * self.continuous_dim]
    }

    /// The continuous values of the steps of [`Trajectories::action_path`]`(i)` (one slot of
    /// `continuous_dim` values per step, exit excluded; empty for discrete environments).
    pub fn values_path(&self, i: usize) -> &[f64] {
        let r = self.steps(i);
        &self.continuous[r.start * self.continuous_dim..(r.end - 1) * self.continuous_dim]
    }

    /// The number of trajectories.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the batch holds no trajectory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of steps over all trajectories.
    pub fn step_count(&self) -> usize {
        self.actions.len()
    }

    /// The step range of trajectory `i`.
    pub fn steps(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }

    /// The terminal object of trajectory `i`.
    pub fn terminal(&self, i: usize) -> &S {
        &self.states[self.offsets[i + 1] - 1]
    }

    /// The forward mask of step `t`.
    pub fn forward_mask(&self, t: usize) -> &[bool] {
        &self.forward_masks[t * self.action_count..(t + 1) * self.action_count]
    }

    /// The backward mask of the state of step `t`.
    pub fn backward_mask(&self, t: usize) -> &[bool] {
        &self.backward_masks[t * self.action_count..(t + 1) * self.action_count]
    }

    /// The actions of trajectory `i`, the final exit action excluded.
    pub fn action_path(&self, i: usize) -> &[usize] {
        let r = self.steps(i);
        &self.actions[r.start..r.end - 1]
    }

    /// Appends every trajectory of `other` (same dimensions).
    pub fn append(&mut self, other: Trajectories<S>) {
        debug_assert_eq!(self.feature_dim, other.feature_dim);
        debug_assert_eq!(self.action_count, other.action_count);
        debug_assert_eq!(self.continuous_dim, other.continuous_dim);
        let base = self.step_count();
        self.offsets.extend(other.offsets[1..].iter().map(|o| o + base));
        self.states.extend(other.states);
        self.actions.extend(other.actions);
        self.features.extend(other.features);
        self.forward_masks.extend(other.forward_masks);
        self.backward_masks.extend(other.backward_masks);
        self.log_reward.extend(other.log_reward);
        self.continuous.extend(other.continuous);
    }
}
