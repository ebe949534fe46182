//! [`Net`]: one network of a policy (its trunk, or a separate backward network), either an MLP on
//! the flat features or a [`PairEncoder`] over the environment's slots.

use nalgebra::DMatrix;

use super::{Architecture, PolicyConfig};
use crate::backend::Backend;
use crate::env::SlotLayout;
use crate::nn::{Mlp, MlpCache, MlpConfig, PairCache, PairEncoder, PairEncoderConfig, Param};
use crate::{Error, Result};

/// What a policy network reads and writes.
#[derive(Debug, Clone, Copy)]
pub(super) struct NetShape {
    /// Flat feature length.
    pub(super) feature_dim: usize,
    /// Forward actions `A`.
    pub(super) action_count: usize,
    /// The environment's slot layout, if it has one.
    pub(super) slots: Option<SlotLayout>,
    /// Blocks of `A` action logits in the output.
    pub(super) heads: usize,
    /// Per-state scalars after the logits.
    pub(super) scalars: usize,
}

/// A policy network of either architecture; outputs are `heads·A + scalars` rows per state.
#[derive(Debug)]
pub(super) enum Net<B: Backend> {
    Mlp(Mlp<B>),
    Pairs(Box<PairEncoder<B>>),
}

/// The activations of a [`Net`]'s forward pass (only the buffers of its architecture are used).
#[derive(Debug)]
pub(super) struct NetCache<B: Backend> {
    pub(super) mlp: MlpCache<B>,
    pairs: PairCache<B>,
}

impl<B: Backend> Default for NetCache<B> {
    fn default() -> Self {
        NetCache { mlp: MlpCache::new(), pairs: PairCache::new() }
    }
}

impl<B: Backend> Net<B> {
    /// A freshly initialised network of `config.architecture`.
    pub(super) fn new(backend: &B, config: &PolicyConfig, shape: NetShape, rng: &mut crate::rng::Rng) -> Result<Self> {
        match config.architecture {
            Architecture::Mlp => {
                let mlp = MlpConfig {
                    input: shape.feature_dim,
                    hidden: config.hidden.clone(),
                    output: shape.heads * shape.action_count + shape.scalars,
                    activation: config.activation,
                    init: config.init,
                };
                Ok(Net::Mlp(Mlp::new(backend, &mlp, rng)?))
            }
            Architecture::Pairs => {
                let Some(layout) = shape.slots else {
                    return Err(Error::config(
                        "policy.architecture",
                        "pairs",
                        "the environment has no slot layout (Environment::slot_layout returns None); use the mlp \
                         architecture",
                    ));
                };
                layout.validate(shape.feature_dim, shape.action_count)?;
                let pairs = PairEncoderConfig {
                    layout,
                    hidden: config.hidden.clone(),
                    activation: config.activation,
                    init: config.init,
                    heads: shape.heads,
                    scalars: shape.scalars,
                };
                Ok(Net::Pairs(Box::new(PairEncoder::new(backend, &pairs, rng)?)))
            }
        }
    }

    /// Outputs for `features` (host), without keeping activations.
    pub(super) fn infer(&self, backend: &B, features: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        match self {
            Net::Mlp(mlp) => backend.download(&mlp.infer(backend, &backend.upload(features)?)?),
            Net::Pairs(pairs) => pairs.infer(backend, features),
        }
    }

    /// Outputs for `features` (host), keeping activations (and, for an MLP, `features` itself)
    /// in `cache`.
    pub(super) fn forward(&self, backend: &B, features: DMatrix<f32>, cache: &mut NetCache<B>) -> Result<DMatrix<f32>> {
        match self {
            Net::Mlp(mlp) => {
                mlp.forward_owned(backend, backend.upload_owned(features)?, &mut cache.mlp)?;
                backend.download(cache.mlp.output())
            }
            Net::Pairs(pairs) => pairs.forward(backend, &features, &mut cache.pairs),
        }
    }

    /// Whether [`Net::gather`] works for this network.
    pub(super) fn can_gather(&self) -> bool {
        matches!(self, Net::Mlp(_))
    }

    /// Fills `cache` from the `(pass, column)` pairs `columns` of earlier forward passes, whose
    /// inputs were `features` (see [`MlpCache::gather`]), and returns the network's output on
    /// them. MLPs only.
    pub(super) fn gather(
        &self,
        backend: &B,
        passes: &[&NetCache<B>],
        columns: &[(usize, usize)],
        features: DMatrix<f32>,
        cache: &mut NetCache<B>,
    ) -> Result<DMatrix<f32>> {
        match self {
            Net::Mlp(mlp) => {
                let passes: Vec<&MlpCache<B>> = passes.iter().map(|c| &c.mlp).collect();
                let activation = mlp.config().activation;
                cache.mlp.gather(backend, &passes, columns, backend.upload_owned(features)?, activation)?;
                backend.download(cache.mlp.output())
            }
            Net::Pairs(_) => Err(Error::config(
                "policy.architecture",
                "pairs",
                "reusing sampling passes is implemented for the mlp architecture only",
            )),
        }
    }

    /// Accumulates parameter gradients from the output gradient `d_output` (host).
    pub(super) fn backward(&mut self, backend: &B, cache: &NetCache<B>, d_output: &DMatrix<f32>) -> Result<()> {
        match self {
            Net::Mlp(mlp) => mlp.backward(backend, &cache.mlp, &backend.upload(d_output)?),
            Net::Pairs(pairs) => pairs.backward(backend, &cache.pairs, d_output),
        }
    }

    pub(super) fn zero_grad(&mut self, backend: &B) -> Result<()> {
        match self {
            Net::Mlp(mlp) => mlp.zero_grad(backend),
            Net::Pairs(pairs) => pairs.zero_grad(backend),
        }
    }

    /// Named parameters, `prefix.`-qualified, in a stable order.
    pub(super) fn params(&self, prefix: &str) -> Vec<(String, &Param<B>)> {
        let params = match self {
            Net::Mlp(mlp) => mlp.params(),
            Net::Pairs(pairs) => pairs.params(),
        };
        params.into_iter().map(|(n, p)| (format!("{prefix}.{n}"), p)).collect()
    }

    /// Named parameters, mutably, in the order of [`Net::params`].
    pub(super) fn params_mut(&mut self, prefix: &str) -> Vec<(String, &mut Param<B>)> {
        let params = match self {
            Net::Mlp(mlp) => mlp.params_mut(),
            Net::Pairs(pairs) => pairs.params_mut(),
        };
        params.into_iter().map(|(n, p)| (format!("{prefix}.{n}"), p)).collect()
    }

    pub(super) fn parameter_count(&self) -> usize {
        match self {
            Net::Mlp(mlp) => mlp.parameter_count(),
            Net::Pairs(pairs) => pairs.parameter_count(),
        }
    }
}
