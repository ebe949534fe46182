//! Per-trajectory score vectors `∇_θ lF(τ_i)` of the trunk, for the optimal control variates of
//! the divergence objectives (ALGORITHMS §2.5). Only the [`Cpu`] backend computes them
//! ([`crate::nn::per_sample`]); other backends get [`Error::InvalidConfig`].

use std::any::Any;

use nalgebra::DMatrix;

use super::{Policy, PolicyCache};
use crate::backend::{Backend, Cpu};
use crate::nn::per_sample;
use crate::{Error, Result};

impl<B: Backend> Policy<B> {
    /// The trunk and its cache of the last [`Policy::forward`] on the CPU backend, or an error
    /// naming the backend.
    fn cpu_trunk<'a>(
        &'a self,
        cache: &'a PolicyCache<B>,
    ) -> Result<(&'a crate::nn::Mlp<Cpu>, &'a crate::nn::MlpCache<Cpu>)> {
        let policy = (self as &dyn Any).downcast_ref::<Policy<Cpu>>();
        let cache = (cache as &dyn Any).downcast_ref::<PolicyCache<Cpu>>();
        match (policy, cache) {
            (Some(p), Some(c)) => p.mlp_trunk(c),
            _ => Err(Error::config(
                "backend",
                self.backend.name(),
                "per-sample gradients (control variates opt-scalar / opt-vector) need the cpu backend",
            )),
        }
    }

    /// Squared norms of the per-group trunk parameter gradients of the trunk output gradient
    /// `d_trunk` (trunk layout, one column per state of the last [`Policy::forward`]), with
    /// `groups` CSR offsets over the columns (e.g. a batch's trajectory offsets).
    pub fn trunk_sq_norms(&self, cache: &PolicyCache<B>, d_trunk: &DMatrix<f32>, groups: &[usize]) -> Result<Vec<f64>> {
        let (trunk, cache) = self.cpu_trunk(cache)?;
        per_sample::sq_norms(trunk, cache, d_trunk, groups)
    }

    /// The per-group trunk parameter gradients, a block of parameters at a time (see
    /// [`per_sample::grad_blocks`]; offsets in the order of the trunk's parameters in
    /// [`Policy::params`]); see [`Policy::trunk_sq_norms`].
    pub fn trunk_grad_blocks(
        &self,
        cache: &PolicyCache<B>,
        d_trunk: &DMatrix<f32>,
        groups: &[usize],
        visit: impl FnMut(usize, &[f32]) -> Result<()>,
    ) -> Result<()> {
        let (trunk, cache) = self.cpu_trunk(cache)?;
        per_sample::grad_blocks(trunk, cache, d_trunk, groups, visit)
    }

    /// The number of trunk parameters (the length of [`Policy::add_trunk_grad`]'s input).
    pub fn trunk_parameter_count(&self) -> usize {
        self.trunk.parameter_count()
    }

    /// Adds `grad` (one entry per trunk parameter, in the order of [`Policy::trunk_grad_blocks`]) to
    /// the accumulated trunk gradients.
    pub fn add_trunk_grad(&mut self, grad: &[f64]) -> Result<()> {
        let count = self.trunk_parameter_count();
        if grad.len() != count {
            return Err(Error::ShapeMismatch { op: "add_trunk_grad", expected: (count, 1), got: (grad.len(), 1) });
        }
        let backend = self.backend.clone();
        let mut at = 0;
        for (_, param) in self.trunk.params_mut("") {
            let mut host = backend.download(&param.grad)?;
            for (g, add) in host.iter_mut().zip(&grad[at..]) {
                *g += *add as f32;
            }
            at += host.len();
            param.grad = backend.upload(&host)?;
        }
        Ok(())
    }
}
