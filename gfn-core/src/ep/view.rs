//! What a client and the server may see of a factored environment.
//!
//! Both views own the environment privately: a [`ClientView`] answers `log_reward` with its one
//! factor, a [`ServerView`] with the constant 0 (the server trains on client policies, never on a
//! reward), and neither gives the environment back. Code that is handed a view therefore cannot
//! evaluate any other factor: the restriction is a matter of types, not of convention.

use std::sync::Arc;

use super::FactoredReward;
use crate::env::{Enumerable, Environment};
use crate::{Error, Result};

/// Implements the dynamics methods of [`Environment`] by delegating to the field `$field` (the
/// implementing type's generic parameter must be named `D`).
macro_rules! delegate_dynamics {
    ($field:ident) => {
        type State = <D as $crate::env::Environment>::State;

        fn action_count(&self) -> usize {
            self.$field.action_count()
        }

        fn exit_action(&self) -> usize {
            self.$field.exit_action()
        }

        fn feature_dim(&self) -> usize {
            self.$field.feature_dim()
        }

        fn source(&self) -> Self::State {
            self.$field.source()
        }

        fn forward_mask(&self, state: &Self::State, mask: &mut [bool]) {
            self.$field.forward_mask(state, mask)
        }

        fn backward_mask(&self, state: &Self::State, mask: &mut [bool]) {
            self.$field.backward_mask(state, mask)
        }

        fn step(&self, state: &mut Self::State, action: usize) -> $crate::Result<()> {
            self.$field.step(state, action)
        }

        fn backward_step(&self, state: &mut Self::State, action: usize) -> $crate::Result<()> {
            self.$field.backward_step(state, action)
        }

        fn encode(&self, state: &Self::State, out: &mut [f32]) {
            self.$field.encode(state, out)
        }
    };
}
pub(crate) use delegate_dynamics;

/// Client `factor` of a factored environment: the full dynamics, and `log_reward` = `log R_factor`.
#[derive(Debug)]
pub struct ClientView<D> {
    env: Arc<D>,
    factor: usize,
}

impl<D: FactoredReward> ClientView<D> {
    /// The view of client `factor`; fails when the environment has no such factor.
    pub fn new(env: Arc<D>, factor: usize) -> Result<Self> {
        let n = env.factor_count();
        if factor >= n {
            return Err(Error::config("factor", factor, format!("the environment has factors 0..{n}")));
        }
        Ok(ClientView { env, factor })
    }

    /// The factor this client sees.
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// The number of factors of the environment.
    pub fn factor_count(&self) -> usize {
        self.env.factor_count()
    }

    /// The name of this client's factor.
    pub fn factor_name(&self) -> String {
        self.env.factor_name(self.factor)
    }

    /// The signature of the whole factored environment (shared by every client and the server).
    pub fn env_signature(&self) -> String {
        self.env.signature()
    }
}

impl<D: FactoredReward> Environment for ClientView<D> {
    delegate_dynamics!(env);

    fn name(&self) -> String {
        format!("{}[{}]", self.env.name(), self.factor)
    }

    fn log_reward(&self, state: &Self::State) -> f64 {
        self.env.log_reward_factor(state, self.factor)
    }

    fn signature(&self) -> String {
        format!("{}|client {}/{}", self.env.signature(), self.factor, self.env.factor_count())
    }
}

impl<D: FactoredReward + Enumerable> Enumerable for ClientView<D> {
    fn state_limit(&self) -> usize {
        self.env.state_limit()
    }
}

/// The server's view of a factored environment: the dynamics only. `log_reward` is the constant 0,
/// so that forward sampling runs; the server's objective replaces it by the client log-ratios.
#[derive(Debug)]
pub struct ServerView<D> {
    env: Arc<D>,
}

impl<D: FactoredReward> ServerView<D> {
    /// The server's view.
    pub fn new(env: Arc<D>) -> Self {
        ServerView { env }
    }

    /// The number of factors (clients) of the environment.
    pub fn factor_count(&self) -> usize {
        self.env.factor_count()
    }

    /// The signature of the whole factored environment (shared by every client and the server).
    pub fn env_signature(&self) -> String {
        self.env.signature()
    }
}

impl<D: FactoredReward> Environment for ServerView<D> {
    delegate_dynamics!(env);

    fn name(&self) -> String {
        format!("{}[server]", self.env.name())
    }

    fn log_reward(&self, _state: &Self::State) -> f64 {
        0.0
    }

    fn signature(&self) -> String {
        format!("{}|server", self.env.signature())
    }
}

impl<D: FactoredReward + Enumerable> Enumerable for ServerView<D> {
    fn state_limit(&self) -> usize {
        self.env.state_limit()
    }
}

impl<D> Clone for ClientView<D> {
    fn clone(&self) -> Self {
        ClientView { env: self.env.clone(), factor: self.factor }
    }
}

impl<D> Clone for ServerView<D> {
    fn clone(&self) -> Self {
        ServerView { env: self.env.clone() }
    }
}
