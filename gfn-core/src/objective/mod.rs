//! Training objectives as pure functions over per-step log-terms.
//!
//! Every GFlowNet objective's gradient is a linear combination of gradients of per-step
//! log-probabilities, log-flows and `log Z` (see `DESIGN.md` §3). An [`Objective`] therefore sees
//! only small `f64` arrays ([`TrajectoryTerms`]) and returns the loss together with the
//! coefficients `dL/d(term)` ([`TermGrads`]); the estimators turn coefficients into parameter
//! gradients. Objectives never touch a backend, and each is tested against finite differences.
//!
//! Layout: a batch of `B` trajectories is flattened. Trajectory `i` owns steps
//! `offsets[i]..offsets[i + 1]`; step `t` of a trajectory leaves state `s_t`, and the last step of
//! every trajectory is the exit step `s_n -> s_f`. So a trajectory with `n` proper actions has
//! `n + 1` steps, and per-step arrays are also per-state arrays (`log_flow[t] = log F(s_t)`).
//!
//! Objectives (all generic over a [`Residual`] penalty `ρ`, squared by default):
//! [`TrajectoryBalance`], [`VarGrad`], [`ContrastiveBalance`], [`DetailedBalance`],
//! [`ModifiedDetailedBalance`], [`SubTrajectoryBalance`], and [`FlowMatching`], which works on
//! edge log-flows ([`FlowTerms`]) rather than on trajectories.
//!
//! Input hygiene: every term an objective reads must be finite (else [`Error::NonFinite`] naming
//! the term and its index); terms it does not read (documented per objective, e.g. `log_pb` of
//! exit steps, or `-inf` exit terms at states no step uses) are ignored and get coefficient 0.
//! Malformed shapes give [`Error::InvalidConfig`] or [`Error::ShapeMismatch`].
//!
//! [`Error::NonFinite`]: crate::Error::NonFinite
//! [`Error::InvalidConfig`]: crate::Error::InvalidConfig
//! [`Error::ShapeMismatch`]: crate::Error::ShapeMismatch

mod cb;
mod db;
mod delta;
pub mod divergence;
mod fm;
mod moddb;
mod residual;
mod subtb;
mod tb;
mod validate;
mod vargrad;

#[cfg(test)]
mod tests;

pub use cb::{ContrastiveBalance, Pairing};
pub use db::DetailedBalance;
pub use divergence::{
    AlphaKl, AlphaTb, ControlVariate, DEFAULT_ALPHA, Divergence, ForwardKl, OptVectorBaseline, Renyi, ReverseKl,
    Sampling, ScoreSignal, Signal, Tsallis, opt_vector_gradient,
};
pub use fm::{FlowGrads, FlowMatching, FlowTerms};
pub use moddb::ModifiedDetailedBalance;
pub use residual::Residual;
pub use subtb::SubTrajectoryBalance;
pub use tb::TrajectoryBalance;
pub use vargrad::VarGrad;

/// The per-step log-terms of a batch of complete trajectories.
#[derive(Debug, Clone, Copy)]
pub struct TrajectoryTerms<'a> {
    /// CSR offsets, length `B + 1`.
    pub offsets: &'a [usize],
    /// `log P_F(a_t | s_t)` per step; the last step of a trajectory is `log P_F(s_f | s_n)`.
    pub log_pf: &'a [f64],
    /// `log P_B(s_t | s_{t+1})` per step; `0` on exit steps (`P_B(s_n | s_f) = 1`).
    pub log_pb: &'a [f64],
    /// `log F(s_t)` per step, for objectives with a state-flow head.
    pub log_flow: Option<&'a [f64]>,
    /// `log P_F(s_f | s_t)` per step (`-inf` where exit is not allowed), for modified DB.
    pub log_pf_exit: Option<&'a [f64]>,
    /// `log R(s_t)` per step (`-inf` where exit is not allowed), for modified DB.
    pub log_reward_state: Option<&'a [f64]>,
    /// `log R(x)` per trajectory.
    pub log_reward: &'a [f64],
    /// The learned `log Z`, for objectives that use it.
    pub log_z: Option<f64>,
}

impl TrajectoryTerms<'_> {
    /// The number of trajectories.
    pub fn batch_size(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The number of steps over all trajectories.
    pub fn step_count(&self) -> usize {
        self.log_pf.len()
    }

    /// The step range of trajectory `i`.
    pub fn steps(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }

    /// The steps of trajectory `i` that take a proper action (all but its exit step).
    pub fn proper_steps(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.exit_step(i)
    }

    /// The exit step `s_n -> s_f` of trajectory `i` (its last step).
    pub fn exit_step(&self, i: usize) -> usize {
        self.offsets[i + 1] - 1
    }
}

/// Coefficients `dL/d(term)` for every term of a [`TrajectoryTerms`]; same layout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermGrads {
    /// `dL/d log P_F(a_t | s_t)` per step.
    pub log_pf: Vec<f64>,
    /// `dL/d log P_B(s_t | s_{t+1})` per step.
    pub log_pb: Vec<f64>,
    /// `dL/d log F(s_t)` per step (empty unless the objective uses flows).
    pub log_flow: Vec<f64>,
    /// `dL/d log P_F(s_f | s_t)` per step (empty unless the objective uses exit log-probabilities).
    pub log_pf_exit: Vec<f64>,
    /// `dL/d log Z`.
    pub log_z: f64,
}

impl TermGrads {
    /// Resizes every per-step vector to `steps` (flows and exit terms only when requested) and
    /// zeroes everything.
    pub fn reset(&mut self, steps: usize, requirements: &Requirements) {
        fn fill(v: &mut Vec<f64>, n: usize) {
            v.clear();
            v.resize(n, 0.0);
        }
        fill(&mut self.log_pf, steps);
        fill(&mut self.log_pb, steps);
        fill(&mut self.log_flow, if requirements.log_flow { steps } else { 0 });
        fill(&mut self.log_pf_exit, if requirements.log_pf_exit { steps } else { 0 });
        self.log_z = 0.0;
    }
}

/// What an objective needs from the policy and the environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requirements {
    /// A learned `log Z` scalar.
    pub log_z: bool,
    /// A state-flow head `log F(s)`.
    pub log_flow: bool,
    /// `log P_F(s_f | s_t)` at every visited state.
    pub log_pf_exit: bool,
    /// `log R(s_t)` at every visited state (every state must be able to exit).
    pub log_reward_state: bool,
    /// An even batch size (pairing objectives).
    pub even_batch: bool,
}

/// A training objective over a batch of trajectories.
pub trait Objective: Send + Sync + std::fmt::Debug {
    /// The objective's short name (`"tb"`).
    fn name(&self) -> &'static str;
    /// What the objective needs.
    fn requirements(&self) -> Requirements;
    /// Computes the loss and writes `dL/d(term)` into `grads` (which it resets first).
    fn evaluate(&self, terms: &TrajectoryTerms<'_>, grads: &mut TermGrads) -> crate::Result<f64>;
}
