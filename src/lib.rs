#![doc = include_str!("../README.md")]

pub use gfn_core::*;
pub use gfn_envs as envs;

/// The items most programs need: `use gfn::prelude::*;`.
pub mod prelude {
    pub use gfn_core::check::{CheckOptions, check_environment};
    pub use gfn_core::env::{Enumerable, Environment, EnvironmentExt};
    pub use gfn_core::eval::{Evaluate, ExactEvaluator, MonteCarloEvaluator};
    pub use gfn_core::policy::{BackwardPolicy, Policy, PolicyConfig};
    pub use gfn_core::train::{ObjectiveKind, RunOptions, TrainConfig, Trainer};
    pub use gfn_core::{Action, State, environment};
    pub use gfn_core::{Error, Result};
}
