//! Optimisers: [`Adam`] for backend tensors, [`ScalarAdam`] for learned scalars such as `log Z`
//! (a parameter group with its own learning rate), and global-norm gradient clipping.

mod adam;
mod clip;
mod config;
mod scalar;

pub use adam::{Adam, AdamState};
pub use clip::clip_grad_norm;
pub use config::{AdamConfig, AdamStep};
pub use scalar::ScalarAdam;
