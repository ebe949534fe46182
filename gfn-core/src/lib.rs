//! # gfn-core
//!
//! The engine of the `gfn` GFlowNet framework: environment traits, neural estimators on a small
//! [`backend::Backend`] abstraction (nalgebra on the CPU), policies, samplers, every balance
//! objective, optimisers, exact and Monte-Carlo evaluation, and a trainer with bit-exact
//! checkpoints.
//!
//! The data flow of one training step (see `DESIGN.md` §3): the environment encodes states into
//! features; the estimators produce logits, state flows and `log Z`; the sampler rolls out
//! trajectories in lock-step; an [`objective::Objective`] turns the per-step log-terms into a loss
//! and coefficients; the estimators backpropagate the coefficients; the optimiser updates.

pub mod backend;
pub mod check;
pub mod env;
pub mod ep;
mod error;
pub mod eval;
pub mod nn;
pub mod objective;
pub mod optim;
pub mod policy;
mod private;
pub mod replay;
pub mod rng;
pub mod sampler;
pub mod terms;
pub mod train;
pub mod trajectory;

pub use error::{Error, Result};
#[doc(hidden)]
pub use private::__private;

pub use gfn_macros::{Action, State, environment};
