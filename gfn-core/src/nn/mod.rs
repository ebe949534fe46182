//! Neural estimators: activations, initialisation, linear layers, multi-layer perceptrons and the
//! permutation-equivariant [`PairEncoder`] (for environments with a
//! [`SlotLayout`](crate::env::SlotLayout)) on a [`Backend`].
//!
//! There is no autodiff tape: each module's `forward` fills a cache of activations and its
//! `backward` takes the gradient of the loss with respect to the module's output, accumulating into
//! each [`Param::grad`] (see `DESIGN.md` §3: objectives hand back per-output coefficients).

mod activation;
mod config;
mod init;
mod linear;
mod mlp;
mod pair_encoder;
pub mod per_sample;

#[cfg(test)]
mod gradcheck;

pub use activation::{Activation, LEAKY_RELU_SLOPE, ParseActivationError};
pub use config::MlpConfig;
pub use init::Init;
pub use linear::Linear;
pub use mlp::{Mlp, MlpCache};
pub use pair_encoder::{PairCache, PairEncoder, PairEncoderConfig};

use crate::Result;
use crate::backend::Backend;

/// A trainable tensor and its accumulated gradient (same shape).
#[derive(Clone, Debug)]
pub struct Param<B: Backend> {
    /// The current value.
    pub value: B::Mat,
    /// The gradient accumulated by `backward` calls since the last zeroing.
    pub grad: B::Mat,
}

impl<B: Backend> Param<B> {
    /// A parameter with the given value and a zero gradient.
    pub fn new(backend: &B, value: B::Mat) -> Result<Self> {
        let (rows, cols) = backend.shape(&value);
        let grad = backend.zeros(rows, cols)?;
        Ok(Param { value, grad })
    }
}
