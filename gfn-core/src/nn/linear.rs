//! [`Linear`]: an affine layer `y = W·x + b`.

use super::{Init, Param};
use crate::backend::{Backend, Cpu};
use crate::{Error, Result};
use rand::Rng;

/// An affine layer with weight `output × input` and bias `output × 1`.
#[derive(Clone, Debug)]
pub struct Linear<B: Backend = Cpu> {
    /// Weight, `output × input`.
    pub weight: Param<B>,
    /// Bias, `output × 1`.
    pub bias: Param<B>,
    input: usize,
    output: usize,
}

impl<B: Backend> Linear<B> {
    /// A freshly initialised layer (weights drawn before biases). Zero widths are
    /// [`Error::InvalidConfig`].
    pub fn new(backend: &B, input: usize, output: usize, init: Init, rng: &mut impl Rng) -> Result<Self> {
        if input == 0 {
            return Err(Error::config("input", 0, "a linear layer needs at least one input"));
        }
        if output == 0 {
            return Err(Error::config("output", 0, "a linear layer needs at least one output"));
        }
        let weight = backend.upload(&init.weight(output, input, rng))?;
        let bias = backend.upload(&init.bias(output, input, rng))?;
        Ok(Linear { weight: Param::new(backend, weight)?, bias: Param::new(backend, bias)?, input, output })
    }

    /// Input width.
    pub fn input(&self) -> usize {
        self.input
    }

    /// Output width.
    pub fn output(&self) -> usize {
        self.output
    }

    /// `out = W·x + b` (`out` resized as needed, its buffer reused).
    pub fn forward(&self, backend: &B, x: &B::Mat, out: &mut B::Mat) -> Result<()> {
        backend.linear_forward(&self.weight.value, &self.bias.value, x, out)
    }

    /// Accumulates `dW += dy·xᵀ`, `db += Σ_columns dy`, and writes `dx = Wᵀ·dy` if asked.
    pub fn backward(&mut self, backend: &B, x: &B::Mat, dy: &B::Mat, dx: Option<&mut B::Mat>) -> Result<()> {
        backend.linear_backward(&self.weight.value, x, dy, &mut self.weight.grad, &mut self.bias.grad, dx)
    }
}
