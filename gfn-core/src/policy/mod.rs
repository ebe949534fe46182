//! Policies: the forward policy `P_F`, the backward policy `P_B`, `log Z` and state flows.
//!
//! A [`Policy`] owns a trunk network whose output rows are laid out as
//! `[forward logits (A) | backward logits (A, shared P_B only) | log F(s) (1, flow head only)]`,
//! an optional separate backward network, and the learned scalar `log Z`. `P_F` is the masked
//! softmax of the forward logits; `P_B` is uniform over the parents given by the backward mask, or
//! the masked softmax of learned backward logits.
//!
//! For a hybrid environment ([`crate::env::continuous`]) the trunk has, after these rows, the raw
//! mixture-of-Gaussians parameters of the continuous values ([`mixture`]).
//!
//! The networks are MLPs on the flat features ([`Architecture::Mlp`], the default) or, for
//! environments with a [`SlotLayout`] (forests of trees, graphs), permutation-equivariant
//! [`PairEncoder`](crate::nn::PairEncoder)s ([`Architecture::Pairs`]).

pub mod categorical;
mod logit_scale;
pub mod mixture;
mod net;
mod output;
mod rounds;
mod scores;

pub use categorical::Exploration;
pub use mixture::MixtureHead;
pub use output::{HeadLayout, PolicyOutput};
pub use rounds::RoundCaches;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, Cpu};
use crate::env::{Environment, SlotLayout};
use crate::nn::{Activation, Init, Mlp, MlpCache, Param};
use crate::{Error, Result};
use logit_scale::{scale_logits, scale_logits_backward};
use net::{Net, NetCache, NetShape};
use rounds::{Folding, select_columns};

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

/// The kind of network behind a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// A multi-layer perceptron on the flat features.
    #[default]
    Mlp,
    /// The permutation-equivariant slot / pair encoder ([`crate::nn::PairEncoder`]); needs an
    /// environment with a [`SlotLayout`].
    Pairs,
}

impl std::str::FromStr for Architecture {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mlp" => Ok(Architecture::Mlp),
            "pairs" => Ok(Architecture::Pairs),
            other => Err(Error::config("architecture", other, "expected mlp or pairs")),
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
    /// The kind of network (trunk and separate backward network alike).
    pub architecture: Architecture,
    /// Hybrid environments only: Gaussians per continuous coordinate (in `1..=64`).
    pub mixture_components: usize,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            hidden: vec![256, 256],
            activation: Activation::LeakyRelu,
            init: Init::KaimingUniform,
            backward: BackwardPolicy::Uniform,
            log_z_init: 0.0,
            architecture: Architecture::Mlp,
            mixture_components: 5,
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
        if !(1..=64).contains(&self.mixture_components) {
            return Err(Error::config("policy.mixture_components", self.mixture_components, "must be in 1..=64"));
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
    trunk: NetCache<B>,
    backward: NetCache<B>,
    /// The forward logits before [`Policy::logit_scale`] (`A × N`), when it is set.
    raw_logits: Option<DMatrix<f32>>,
    /// Set when the networks ran on the distinct states of the batch only.
    folding: Option<Folding>,
}

impl<B: Backend> PolicyCache<B> {
    /// Drops the networks' copies of their input features, keeping the activations that
    /// [`Policy::forward_gathered`] reads (which gets the inputs again from the batch).
    pub(crate) fn release_inputs(&mut self) {
        self.trunk.mlp.release_input();
        self.backward.mlp.release_input();
    }
}

impl<B: Backend> Default for PolicyCache<B> {
    fn default() -> Self {
        PolicyCache { trunk: NetCache::default(), backward: NetCache::default(), raw_logits: None, folding: None }
    }
}

/// A GFlowNet policy: `P_F`, `P_B`, `log Z` and optionally `log F(s)`.
#[derive(Debug)]
pub struct Policy<B: Backend = Cpu> {
    backend: B,
    config: PolicyConfig,
    layout: HeadLayout,
    mixture: Option<MixtureHead>,
    trunk: Net<B>,
    backward_net: Option<Net<B>>,
    /// The learned log-partition function.
    pub log_z: f64,
    /// A positive factor on the forward logits (`None`, the default: none). Temperature-conditioned
    /// training learns one per temperature (Logit-GFN's logit scaling) and sets it here; its
    /// gradient is [`Policy::logit_scale_grad`].
    pub logit_scale: Option<f64>,
    /// `dL/d logit_scale` accumulated by [`Policy::backward`] since [`Policy::zero_grad`].
    logit_scale_grad: f64,
}

impl<B: Backend> Policy<B> {
    /// A freshly initialised policy for states of `feature_dim` features and `action_count`
    /// actions, with a state-flow head if `flow_head`. The [`Architecture::Pairs`] architecture
    /// needs the environment's slot layout: build it with [`Policy::for_env`] or
    /// [`Policy::with_slots`].
    pub fn new(
        backend: B,
        config: &PolicyConfig,
        feature_dim: usize,
        action_count: usize,
        flow_head: bool,
        rng: &mut crate::rng::Rng,
    ) -> Result<Self> {
        Self::with_slots(backend, config, feature_dim, action_count, None, flow_head, rng)
    }

    /// A freshly initialised policy for the environment `env` (its feature length, actions, slot
    /// layout and, for a hybrid environment, the [`MixtureHead`] of its continuous values), with a
    /// state-flow head if `flow_head`.
    pub fn for_env<E: Environment + ?Sized>(
        backend: B,
        config: &PolicyConfig,
        env: &E,
        flow_head: bool,
        rng: &mut crate::rng::Rng,
    ) -> Result<Self> {
        let shape = NetShape {
            feature_dim: env.feature_dim(),
            action_count: env.action_count(),
            slots: env.slot_layout(),
            heads: 1,
            scalars: usize::from(flow_head),
        };
        let mixture = env.continuous().map(|steps| MixtureHead::new(steps, config.mixture_components)).transpose()?;
        Self::build(backend, config, shape, mixture, rng)
    }

    /// Like [`Policy::new`], with the environment's slot layout (required by
    /// [`Architecture::Pairs`], which returns [`Error::InvalidConfig`] without one or when it does
    /// not match `feature_dim` and `action_count`; ignored by [`Architecture::Mlp`]).
    pub fn with_slots(
        backend: B,
        config: &PolicyConfig,
        feature_dim: usize,
        action_count: usize,
        slots: Option<SlotLayout>,
        flow_head: bool,
        rng: &mut crate::rng::Rng,
    ) -> Result<Self> {
        let shape = NetShape { feature_dim, action_count, slots, heads: 1, scalars: usize::from(flow_head) };
        Self::build(backend, config, shape, None, rng)
    }

    /// Builds a policy for `shape` (one head of forward logits; `scalars` = 1 with a flow head),
    /// adding the shared backward logits and the `mixture` rows to the trunk.
    fn build(
        backend: B,
        config: &PolicyConfig,
        shape: NetShape,
        mixture: Option<MixtureHead>,
        rng: &mut crate::rng::Rng,
    ) -> Result<Self> {
        config.validate()?;
        let shared_backward = config.backward == BackwardPolicy::LearnedShared;
        let layout = HeadLayout::new(shape.action_count, shared_backward, shape.scalars > 0)
            .with_mixture(mixture.map_or(0, |m| m.rows()));
        let shape = NetShape {
            heads: 1 + usize::from(shared_backward),
            scalars: shape.scalars + mixture.map_or(0, |m| m.rows()),
            ..shape
        };
        let trunk = Net::new(&backend, config, shape, rng)?;
        let backward_net = match config.backward {
            BackwardPolicy::Learned => {
                Some(Net::new(&backend, config, NetShape { heads: 1, scalars: 0, ..shape }, rng)?)
            }
            _ => None,
        };
        Ok(Policy {
            backend,
            config: config.clone(),
            layout,
            mixture,
            trunk,
            backward_net,
            log_z: config.log_z_init,
            logit_scale: None,
            logit_scale_grad: 0.0,
        })
    }

    /// The configuration the policy was built with.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The output layout of the trunk.
    pub fn layout(&self) -> HeadLayout {
        self.layout
    }

    /// The mixture head of the continuous values (hybrid environments only).
    pub fn mixture(&self) -> Option<MixtureHead> {
        self.mixture
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
        let mut trunk = self.trunk.infer(&self.backend, features)?;
        if let Some(scale) = self.logit_scale {
            scale_logits(&mut trunk, self.layout.actions, scale);
        }
        let backward = self.backward_net.as_ref().map(|net| net.infer(&self.backend, features)).transpose()?;
        Ok(PolicyOutput::new(self.layout, self.mixture, trunk, backward))
    }

    /// Evaluates the policy on `features`, keeping activations in `cache` for [`Policy::backward`].
    /// The features are taken by value: an MLP keeps them for its backward pass without a copy.
    pub fn forward(&self, features: DMatrix<f32>, cache: &mut PolicyCache<B>) -> Result<PolicyOutput> {
        let backward = self
            .backward_net
            .as_ref()
            .map(|net| net.forward(&self.backend, features.clone(), &mut cache.backward))
            .transpose()?;
        let trunk = self.trunk.forward(&self.backend, features, &mut cache.trunk)?;
        cache.folding = None;
        Ok(self.finish_forward(trunk, backward, cache))
    }

    /// Whether [`Policy::forward_gathered`] works for this policy (MLP networks).
    pub fn can_gather(&self) -> bool {
        self.trunk.can_gather() && self.backward_net.as_ref().is_none_or(|net| net.can_gather())
    }

    /// The same as [`Policy::forward`] on the features of every step recorded in `rounds`, in
    /// their order, but copying the activations of the sampling passes instead of recomputing
    /// them. The policy must not have changed since those passes (the caller's responsibility:
    /// the trainer uses it between sampling a batch and its update). `features` are those steps'
    /// features in the same order ([`crate::terms::feature_matrix`] of the trajectories): the
    /// sampling passes do not keep theirs. MLP networks only ([`Policy::can_gather`]).
    ///
    /// With `distinct`, steps that the sampler evaluated in one column (trajectories in the same
    /// state in the same round, e.g. every trajectory's first step) keep one column in `cache`:
    /// the outputs still have one column per step, and [`Policy::backward`] sums their output
    /// gradients before the networks' backward pass, which then costs a pass over the distinct
    /// states only. Per-sample gradients ([`Policy::trunk_sq_norms`], [`Policy::mlp_trunk`]) need
    /// one network column per step: gather without `distinct` for them.
    pub fn forward_gathered(
        &self,
        rounds: &RoundCaches<B>,
        features: DMatrix<f32>,
        cache: &mut PolicyCache<B>,
        distinct: bool,
    ) -> Result<PolicyOutput> {
        if features.ncols() != rounds.len() {
            return Err(Error::ShapeMismatch {
                op: "Policy::forward_gathered features",
                expected: (features.nrows(), rounds.len()),
                got: features.shape(),
            });
        }
        let folding = distinct && rounds.distinct_columns().len() < rounds.len();
        let (columns, features) = if folding {
            (rounds.distinct_columns(), select_columns(&features, rounds.first_steps()))
        } else {
            (rounds.columns(), features)
        };
        let backward = match &self.backward_net {
            Some(net) => {
                let passes: Vec<&NetCache<B>> = rounds.passes().iter().map(|c| &c.backward).collect();
                Some(net.gather(&self.backend, &passes, columns, features.clone(), &mut cache.backward)?)
            }
            None => None,
        };
        let passes: Vec<&NetCache<B>> = rounds.passes().iter().map(|c| &c.trunk).collect();
        let trunk = self.trunk.gather(&self.backend, &passes, columns, features, &mut cache.trunk)?;
        if !folding {
            cache.folding = None;
            return Ok(self.finish_forward(trunk, backward, cache));
        }
        let steps = rounds.step_distinct();
        cache.folding = Some(Folding { step_columns: steps.to_vec(), columns: columns.len() });
        let backward = backward.map(|b| select_columns(&b, steps));
        Ok(self.finish_forward(select_columns(&trunk, steps), backward, cache))
    }

    /// Applies the logit scale (keeping the raw logits in `cache` for the backward pass) and
    /// splits the network outputs into heads.
    fn finish_forward(
        &self,
        mut trunk: DMatrix<f32>,
        backward: Option<DMatrix<f32>>,
        cache: &mut PolicyCache<B>,
    ) -> PolicyOutput {
        cache.raw_logits = self.logit_scale.map(|scale| {
            let raw = trunk.rows(0, self.layout.actions).into_owned();
            scale_logits(&mut trunk, self.layout.actions, scale);
            raw
        });
        PolicyOutput::new(self.layout, self.mixture, trunk, backward)
    }

    /// Accumulates parameter gradients from output gradients: `d_trunk` has the trunk's layout;
    /// `d_backward` is the gradient of a separate backward network's logits (if any). Both have
    /// one column per output column of the forward pass that filled `cache`.
    pub fn backward(
        &mut self,
        cache: &PolicyCache<B>,
        d_trunk: &DMatrix<f32>,
        d_backward: Option<&DMatrix<f32>>,
    ) -> Result<()> {
        let folding = cache.folding.as_ref();
        if let (Some(scale), Some(raw)) = (self.logit_scale, &cache.raw_logits) {
            let (d_raw, d_scale) = scale_logits_backward(d_trunk, raw, scale);
            self.logit_scale_grad += d_scale;
            self.trunk.backward(&self.backend, &cache.trunk, &Folding::fold(folding, &d_raw))?;
        } else {
            self.trunk.backward(&self.backend, &cache.trunk, &Folding::fold(folding, d_trunk))?;
        }
        if let (Some(net), Some(d_b)) = (&mut self.backward_net, d_backward) {
            net.backward(&self.backend, &cache.backward, &Folding::fold(folding, d_b))?;
        }
        Ok(())
    }

    /// Zeroes every parameter gradient.
    pub fn zero_grad(&mut self) -> Result<()> {
        self.logit_scale_grad = 0.0;
        self.trunk.zero_grad(&self.backend)?;
        if let Some(net) = &mut self.backward_net {
            net.zero_grad(&self.backend)?;
        }
        Ok(())
    }

    /// Every tensor parameter, named (`"trunk.layers.0.weight"`, `"backward.layers.0.bias"`, …;
    /// with the pair architecture `"trunk.slot.layers.0.weight"`, `"trunk.pair_in.bias"`, … as in
    /// [`PairEncoder::params`](crate::nn::PairEncoder::params)), in a stable order.
    pub fn params(&self) -> Vec<(String, &Param<B>)> {
        let mut out = self.trunk.params("trunk");
        if let Some(net) = &self.backward_net {
            out.extend(net.params("backward"));
        }
        out
    }

    /// Every tensor parameter, mutable, in the order of [`Policy::params`].
    pub fn params_mut(&mut self) -> Vec<(String, &mut Param<B>)> {
        let mut out = self.trunk.params_mut("trunk");
        if let Some(net) = &mut self.backward_net {
            out.extend(net.params_mut("backward"));
        }
        out
    }

    /// `dL/d logit_scale` accumulated by [`Policy::backward`] since [`Policy::zero_grad`] (zero
    /// while [`Policy::logit_scale`] is `None`).
    pub fn logit_scale_grad(&self) -> f64 {
        self.logit_scale_grad
    }

    /// The trunk MLP and its activations from `cache`, for the per-sample gradients of
    /// [`crate::nn::per_sample`] (which support MLPs only): [`Error::InvalidConfig`] for the pair
    /// architecture.
    pub fn mlp_trunk<'a>(&'a self, cache: &'a PolicyCache<B>) -> Result<(&'a Mlp<B>, &'a MlpCache<B>)> {
        if cache.folding.is_some() {
            return Err(Error::Backend(
                "per-sample gradients need one network column per step: the cache comes from \
                 Policy::forward_gathered with `distinct`"
                    .into(),
            ));
        }
        match &self.trunk {
            Net::Mlp(mlp) => Ok((mlp, &cache.trunk.mlp)),
            Net::Pairs(_) => Err(Error::config(
                "policy.architecture",
                "pairs",
                "per-sample gradients (nn::per_sample, used by optimal control variates) support only the mlp \
                 architecture",
            )),
        }
    }

    /// The number of scalar parameters (`log Z` included).
    pub fn parameter_count(&self) -> usize {
        self.trunk.parameter_count() + self.backward_net.as_ref().map_or(0, |n| n.parameter_count()) + 1
    }
}
