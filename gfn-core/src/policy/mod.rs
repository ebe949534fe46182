//! Policies: the forward policy `P_F`, the backward policy `P_B`, `log Z` and state flows.
//!
//! A [`Policy`] owns a trunk MLP whose output rows are laid out as
//! `[forward logits (A) | backward logits (A, shared P_B only) | log F(s) (1, flow head only)]`,
//! an optional separate backward network, and the learned scalar `log Z`. `P_F` is the masked
//! softmax of the forward logits; `P_B` is uniform over the parents given by the backward mask, or
//! the masked softmax of learned backward logits.

pub mod categorical;
mod output;
mod scores;

pub use categorical::Exploration;
pub use output::{HeadLayout, PolicyOutput};

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, Cpu};
use crate::nn::{Activation, Init, Mlp, MlpCache, MlpConfig, Param};
use crate::{Error, Result};

/// How the backward policy is parameterised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackwardPolicy {
    /// Uniform over the parents of a state (from its backward mask).
    #[default]
    Uniform,
    /// Learned, with its own network.
    Learned,
    /// Learned, as extra output rows of the forward policy's trunk.
    LearnedShared,
}

impl std::str::FromStr for BackwardPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "uniform" => Ok(BackwardPolicy::Uniform),
            "learned" => Ok(BackwardPolicy::Learned),
            "learned_shared" | "shared" => Ok(BackwardPolicy::LearnedShared),
            other => Err(Error::config("pb", other, "expected uniform, learned or learned_shared")),
        }
    }
}

/// Architecture of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Hidden layer widths of the trunk (and of a separate backward network).
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
    /// Backward policy parameterisation.
    pub backward: BackwardPolicy,
    /// Initial value of the learned `log Z`.
    pub log_z_init: f64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            hidden: vec![256, 256],
            activation: Activation::LeakyRelu,
            init: Init::KaimingUniform,
            backward: BackwardPolicy::Uniform,
            log_z_init: 0.0,
        }
    }
}

impl PolicyConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<()> {
        if self.hidden.is_empty() {
            return Err(Error::config("policy.hidden", "[]", "at least one hidden layer is required"));
        }
        if let Some(w) = self.hidden.iter().find(|w| **w == 0) {
            return Err(Error::config("policy.hidden", w, "hidden widths must be positive"));
        }
        if !self.log_z_init.is_finite() {
            return Err(Error::config("policy.log_z_init", self.log_z_init, "must be finite"));
        }
        Ok(())
    }
}

/// Activations kept by [`Policy::forward`] for the backward pass.
#[derive(Debug)]
pub struct PolicyCache<B: Backend = Cpu> {
    trunk: MlpCache<B>,
    backward: MlpCache<B>,
}

impl<B: Backend> Default for PolicyCache<B> {
    fn default() -> Self {
        PolicyCache { trunk: MlpCache::new(), backward: MlpCache::new() }
    }
}

/// A GFlowNet policy: `P_F`, `P_B`, `log Z` and optionally `log F(s)`.
#[derive(Debug)]
pub struct Policy<B: Backend = Cpu> {
    backend: B,
    config: PolicyConfig,
    layout: HeadLayout,
    trunk: Mlp<B>,
    backward_net: Option<Mlp<B>>,
    /// The learned log-partition function.
    pub log_z: f64,
}

impl<B: Backend> Policy<B> {
    /// A freshly initialised policy for states of `feature_dim` features and `action_count`
    /// actions, with a state-flow head if `flow_head`.
    pub fn new(
        backend: B,
        config: &PolicyConfig,
        feature_dim: usize,
        action_count: usize,
        flow_head: bool,
        rng: &mut crate::rng::Rng,
    ) -> Result<Self> {
        config.validate()?;
        let layout = HeadLayout::new(action_count, config.backward == BackwardPolicy::LearnedShared, flow_head);
        let mlp = |output| MlpConfig {
            input: feature_dim,
            hidden: config.hidden.clone(),
            output,
            activation: config.activation,
            init: config.init,
        };
        let trunk = Mlp::new(&backend, &mlp(layout.rows()), rng)?;
        let backward_net = match config.backward {
            BackwardPolicy::Learned => Some(Mlp::new(&backend, &mlp(action_count), rng)?),
            _ => None,
        };
        Ok(Policy { backend, config: config.clone(), layout, trunk, backward_net, log_z: config.log_z_init })
    }

    /// The configuration the policy was built with.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The output layout of the trunk.
    pub fn layout(&self) -> HeadLayout {
        self.layout
    }

    /// The compute backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Whether `P_B` is learned.
    pub fn learned_backward(&self) -> bool {
        self.config.backward != BackwardPolicy::Uniform
    }

    /// Evaluates the policy on `features` (`feature_dim × n`, one column per state) without
    /// keeping activations.
    pub fn infer(&self, features: &DMatrix<f32>) -> Result<PolicyOutput> {
        let x = self.backend.upload(features)?;
        let trunk = self.backend.download(&self.trunk.infer(&self.backend, &x)?)?;
        let backward = match &self.backward_net {
            Some(net) => Some(self.backend.download(&net.infer(&self.backend, &x)?)?),
            None => None,
        };
        Ok(PolicyOutput::new(self.layout, trunk, backward))
    }

    /// Evaluates the policy on `features`, keeping activations in `cache` for [`Policy::backward`].
    pub fn forward(&self, features: &DMatrix<f32>, cache: &mut PolicyCache<B>) -> Result<PolicyOutput> {
        let x = self.backend.upload(features)?;
        self.trunk.forward(&self.backend, &x, &mut cache.trunk)?;
        let trunk = self.backend.download(cache.trunk.output())?;
        let backward = match &self.backward_net {
            Some(net) => {
                net.forward(&self.backend, &x, &mut cache.backward)?;
                Some(self.backend.download(cache.backward.output())?)
            }
            None => None,
        };
        Ok(PolicyOutput::new(self.layout, trunk, backward))
    }

    /// Accumulates parameter gradients from output gradients: `d_trunk` has the trunk's layout;
    /// `d_backward` is the gradient of a separate backward network's logits (if any).
    pub fn backward(
        &mut self,
        cache: &PolicyCache<B>,
        d_trunk: &DMatrix<f32>,
        d_backward: Option<&DMatrix<f32>>,
    ) -> Result<()> {
        let d = self.backend.upload(d_trunk)?;
        self.trunk.backward(&self.backend, &cache.trunk, &d)?;
        if let (Some(net), Some(d_b)) = (&mut self.backward_net, d_backward) {
            let d = self.backend.upload(d_b)?;
            net.backward(&self.backend, &cache.backward, &d)?;
        }
        Ok(())
    }

    /// Zeroes every parameter gradient.
    pub fn zero_grad(&mut self) -> Result<()> {
        self.trunk.zero_grad(&self.backend)?;
        if let Some(net) = &mut self.backward_net {
            net.zero_grad(&self.backend)?;
        }
        Ok(())
    }

    /// Every tensor parameter, named (`"trunk.layers.0.weight"`, `"backward.layers.0.bias"`, …),
    /// in a stable order.
    pub fn params(&self) -> Vec<(String, &Param<B>)> {
        let mut out: Vec<(String, &Param<B>)> =
            self.trunk.params().into_iter().map(|(n, p)| (format!("trunk.{n}"), p)).collect();
        if let Some(net) = &self.backward_net {
            out.extend(net.params().into_iter().map(|(n, p)| (format!("backward.{n}"), p)));
        }
        out
    }

    /// Every tensor parameter, mutable, in the order of [`Policy::params`].
    pub fn params_mut(&mut self) -> Vec<(String, &mut Param<B>)> {
        let mut out: Vec<(String, &mut Param<B>)> =
            self.trunk.params_mut().into_iter().map(|(n, p)| (format!("trunk.{n}"), p)).collect();
        if let Some(net) = &mut self.backward_net {
            out.extend(net.params_mut().into_iter().map(|(n, p)| (format!("backward.{n}"), p)));
        }
        out
    }

    /// The number of scalar parameters (`log Z` included).
    pub fn parameter_count(&self) -> usize {
        self.trunk.parameter_count() + self.backward_net.as_ref().map_or(0, |n| n.parameter_count()) + 1
    }
}
