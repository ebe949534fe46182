//! Rewards made of named factors, `R(x) = Π_n R_n(x)`.

use std::sync::Arc;

use crate::Result;
use crate::env::{Enumerable, Environment};

/// An environment whose reward is a product of `factor_count()` named factors:
/// `log_reward(x) = Σ_n log_reward_factor(x, n)`.
///
/// Only code that holds the whole environment sees every factor; a client gets a
/// [`ClientView`](super::ClientView) (one factor) and the server a
/// [`ServerView`](super::ServerView) (no reward).
pub trait FactoredReward: Environment + std::fmt::Debug {
    /// The number of factors `N` (at least 1).
    fn factor_count(&self) -> usize;
    /// A short name of factor `i` (for reports).
    fn factor_name(&self, i: usize) -> String;
    /// `log R_i(x)` of a terminal object (`i < factor_count()`).
    fn log_reward_factor(&self, state: &Self::State, i: usize) -> f64;
}

/// A family of reward factors over states of type `S`.
pub trait RewardFactors<S>: Send + Sync + std::fmt::Debug {
    /// The number of factors.
    fn count(&self) -> usize;
    /// A short name of factor `i`.
    fn name(&self, i: usize) -> String;
    /// `log R_i(x)`.
    fn log_factor(&self, state: &S, i: usize) -> f64;
    /// A stable rendering of the parameters that define the factors (part of the environment's
    /// signature).
    fn signature(&self) -> String;
}

/// The dynamics of environment `D` (its own reward ignored) with the factored reward `F`.
#[derive(Debug, Clone)]
pub struct Factored<D, F> {
    dynamics: D,
    factors: Arc<F>,
}

impl<D: Environment, F: RewardFactors<D::State>> Factored<D, F> {
    /// Combines dynamics and factors; fails on an empty family of factors.
    pub fn new(dynamics: D, factors: F) -> Result<Self> {
        if factors.count() == 0 {
            return Err(crate::Error::config("factors", 0, "a factored reward needs at least one factor"));
        }
        Ok(Factored { dynamics, factors: Arc::new(factors) })
    }

    /// The environment providing the dynamics.
    pub fn dynamics(&self) -> &D {
        &self.dynamics
    }

    /// The factors.
    pub fn factors(&self) -> &F {
        &self.factors
    }
}

impl<D: Environment, F: RewardFactors<D::State>> Environment for Factored<D, F> {
    super::view::delegate_dynamics!(dynamics);

    fn name(&self) -> String {
        format!("{}_factored", self.dynamics.name())
    }

    fn log_reward(&self, state: &Self::State) -> f64 {
        (0..self.factors.count()).map(|i| self.factors.log_factor(state, i)).sum()
    }

    fn signature(&self) -> String {
        format!("{}|{}", self.dynamics.signature(), self.factors.signature())
    }
}

impl<D: Enumerable, F: RewardFactors<D::State>> Enumerable for Factored<D, F> {
    fn state_limit(&self) -> usize {
        self.dynamics.state_limit()
    }
}

impl<D: Environment + std::fmt::Debug, F: RewardFactors<D::State>> FactoredReward for Factored<D, F> {
    fn factor_count(&self) -> usize {
        self.factors.count()
    }

    fn factor_name(&self, i: usize) -> String {
        self.factors.name(i)
    }

    fn log_reward_factor(&self, state: &Self::State, i: usize) -> f64 {
        self.factors.log_factor(state, i)
    }
}
