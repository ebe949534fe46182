//! [`PairEncoder`]: a permutation-equivariant policy network for environments whose states are
//! made of `S` interchangeable slots and whose actions act on pairs of slots (described by a
//! [`SlotLayout`]): merging two trees of a forest, adding an edge `i → j` to a graph.
//!
//! With `x_i` the features of slot `i`, `g` the global features and `h` the last hidden width:
//!
//! - slot network `φ` (an [`Mlp`] `slot_dim → hidden[..n-1] → h`, shared by all slots):
//!   `e_i = φ(x_i)`;
//! - context network `ψ` (`h + global_dim → hidden[..n-1] → h + heads·extra + scalars`) on the mean
//!   embedding: `ψ([mean_i e_i ; g]) = [c ; extra-action logits per head ; scalars]`, where the
//!   scalars are e.g. the state log-flow;
//! - pair input (a [`Linear`] `h → h`, or `h → 2h` split into `U`, `V` for ordered pairs):
//!   `a_ij = U e_i + U e_j + c` (unordered) or `U e_i + V e_j + c` (ordered), which is one affine
//!   layer applied to `[e_i ; e_j ; c]` computed per slot rather than per pair;
//! - pair network `ρ` (`h → hidden[1..] → heads·per_pair`): the logits of pair `(i, j)` are
//!   `ρ(act(a_ij))`.
//!
//! Permuting the slots therefore permutes the pair logits the same way and leaves the extra logits
//! and scalars unchanged, and unordered pair logits are symmetric in `(i, j)`. The output rows are
//! laid out like an MLP trunk's: for each head, its `A = pair_count·per_pair + extra` action
//! logits in the environment's action order, then the scalars.
//!
//! Gathers and scatters between state, slot and pair columns run on the host (through
//! [`Backend::download`] / [`Backend::upload`], free on [`Cpu`]); the networks run on the backend.

mod host;
#[cfg(test)]
mod tests;

use nalgebra::DMatrix;
use rand::Rng;

use super::{Activation, Init, Linear, Mlp, MlpCache, MlpConfig, Param};
use crate::backend::{Backend, Cpu};
use crate::env::{PairKind, SlotLayout};
use crate::{Error, Result};
use host::Source;

/// Shape of a [`PairEncoder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairEncoderConfig {
    /// The slot layout of the environment.
    pub layout: SlotLayout,
    /// Hidden widths (non-empty); the last one is the embedding width `h`.
    pub hidden: Vec<usize>,
    /// Nonlinearity after every hidden layer.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
    /// Blocks of action logits (1: forward; 2: forward and shared backward).
    pub heads: usize,
    /// Per-state scalar outputs after the logits (1 for a state-flow head).
    pub scalars: usize,
}

impl PairEncoderConfig {
    /// Checks the configuration ([`Error::InvalidConfig`] naming the bad field otherwise).
    pub fn validate(&self) -> Result<()> {
        let l = &self.layout;
        l.validate(l.feature_dim(), l.action_count())?;
        if self.hidden.is_empty() {
            return Err(Error::config("hidden", "[]", "the pair encoder needs at least one hidden width"));
        }
        if self.heads == 0 {
            return Err(Error::config("heads", 0, "at least one block of action logits is required"));
        }
        MlpConfig {
            input: l.slot_dim,
            hidden: self.hidden.clone(),
            output: 1,
            activation: self.activation,
            init: self.init,
        }
        .validate()
    }

    /// The number of output rows, `heads·action_count + scalars`.
    pub fn outputs(&self) -> usize {
        self.heads * self.layout.action_count() + self.scalars
    }
}

/// Sizes shared by the encoder and its host gathers.
#[derive(Clone, Debug)]
struct Shape {
    layout: SlotLayout,
    /// The embedding width `h`.
    width: usize,
    heads: usize,
    scalars: usize,
    /// Every pair in index order.
    pairs: Vec<(usize, usize)>,
}

impl Shape {
    fn ordered(&self) -> bool {
        self.layout.pairs == PairKind::Ordered
    }

    /// First row of the second slot's projection.
    fn second_offset(&self) -> usize {
        if self.ordered() { self.width } else { 0 }
    }

    fn projection_rows(&self) -> usize {
        self.width * if self.ordered() { 2 } else { 1 }
    }

    fn outputs(&self) -> usize {
        self.heads * self.layout.action_count() + self.scalars
    }

    fn pair_outputs(&self) -> usize {
        self.heads * self.layout.per_pair
    }

    fn context_outputs(&self) -> usize {
        self.width + self.heads * self.layout.extra_actions + self.scalars
    }

    /// Calls `f(output_row, source)` for every output row.
    fn for_each_row(&self, mut f: impl FnMut(usize, Source)) {
        let (a, per_pair, extra) = (self.layout.action_count(), self.layout.per_pair, self.layout.extra_actions);
        for t in 0..self.heads {
            for pair in 0..self.pairs.len() {
                for k in 0..per_pair {
                    f(t * a + pair * per_pair + k, Source::Pair { pair, row: t * per_pair + k });
                }
            }
            for e in 0..extra {
                f(t * a + self.layout.pair_actions() + e, Source::Context(self.width + t * extra + e));
            }
        }
        for s in 0..self.scalars {
            f(self.heads * a + s, Source::Context(self.width + self.heads * extra + s));
        }
    }
}

/// A permutation-equivariant slot / pair network: a shared slot MLP, a pooled context MLP and a pair MLP.
///
/// ```
/// use gfn_core::backend::Cpu;
/// use gfn_core::env::{PairKind, SlotLayout};
/// use gfn_core::nn::{Activation, Init, PairCache, PairEncoder, PairEncoderConfig};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
///
/// // 4 trees of 3 features, merge any unordered pair, plus one stop action.
/// let layout = SlotLayout { slots: 4, slot_dim: 3, global_dim: 0, pairs: PairKind::Unordered, per_pair: 1, extra_actions: 1 };
/// let config = PairEncoderConfig { layout, hidden: vec![16, 16], activation: Activation::Relu, init: Init::KaimingUniform, heads: 1, scalars: 0 };
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let mut net = PairEncoder::new(&Cpu, &config, &mut rng)?;
/// let features = DMatrix::from_element(12, 5, 0.5f32);
/// let mut cache = PairCache::new();
/// let logits = net.forward(&Cpu, &features, &mut cache)?;
/// assert_eq!(logits.shape(), (6 + 1, 5));
/// net.backward(&Cpu, &cache, &DMatrix::from_element(7, 5, 1.0))?;
/// # Ok::<(), gfn_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct PairEncoder<B: Backend = Cpu> {
    config: PairEncoderConfig,
    shape: Shape,
    slot: Mlp<B>,
    context: Mlp<B>,
    pair_in: Linear<B>,
    pair: Mlp<B>,
}

/// Device buffers of one forward pass.
#[derive(Clone, Debug)]
struct Buffers<B: Backend> {
    /// Slot projections, `k·h × S·B`.
    projections: B::Mat,
    /// Pair pre-activations, `h × P·B`.
    pre: B::Mat,
    /// Pair activations, `h × P·B`.
    post: B::Mat,
}

/// The activations of one [`PairEncoder::forward`] pass, kept for [`PairEncoder::backward`].
#[derive(Clone, Debug)]
pub struct PairCache<B: Backend = Cpu> {
    slot: MlpCache<B>,
    context: MlpCache<B>,
    pair: MlpCache<B>,
    buffers: Option<Buffers<B>>,
    batch: usize,
}

impl<B: Backend> PairCache<B> {
    /// An empty cache; [`PairEncoder::forward`] fills it.
    pub fn new() -> Self {
        PairCache { slot: MlpCache::new(), context: MlpCache::new(), pair: MlpCache::new(), buffers: None, batch: 0 }
    }
}

impl<B: Backend> Default for PairCache<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> PairEncoder<B> {
    /// A freshly initialised encoder (slot, context, pair-input and pair networks, in this order,
    /// from `rng`). An invalid `config` is [`Error::InvalidConfig`].
    pub fn new(backend: &B, config: &PairEncoderConfig, rng: &mut impl Rng) -> Result<Self> {
        config.validate()?;
        let l = &config.layout;
        let width = *config.hidden.last().expect("validated: hidden is not empty");
        let shape =
            Shape { layout: *l, width, heads: config.heads, scalars: config.scalars, pairs: l.pairs().collect() };
        let (inner, n) = (&config.hidden[..config.hidden.len() - 1], config.hidden.len());
        let mlp = |input, hidden: &[usize], output| MlpConfig {
            input,
            hidden: hidden.to_vec(),
            output,
            activation: config.activation,
            init: config.init,
        };
        let slot = Mlp::new(backend, &mlp(l.slot_dim, inner, width), rng)?;
        let context = Mlp::new(backend, &mlp(width + l.global_dim, inner, shape.context_outputs()), rng)?;
        let pair_in = Linear::new(backend, width, shape.projection_rows(), config.init, rng)?;
        let pair = Mlp::new(backend, &mlp(width, &config.hidden[1..n], shape.pair_outputs()), rng)?;
        Ok(PairEncoder { config: config.clone(), shape, slot, context, pair_in, pair })
    }

    /// The configuration this encoder was built from.
    pub fn config(&self) -> &PairEncoderConfig {
        &self.config
    }

    /// Evaluates `features` (`feature_dim × B`, host) keeping activations in `cache`; returns the
    /// outputs (`outputs × B`, host).
    pub fn forward(&self, backend: &B, features: &DMatrix<f32>, cache: &mut PairCache<B>) -> Result<DMatrix<f32>> {
        let l = &self.shape.layout;
        if features.nrows() != l.feature_dim() {
            return Err(Error::ShapeMismatch {
                op: "PairEncoder::forward: features",
                expected: (l.feature_dim(), features.ncols()),
                got: features.shape(),
            });
        }
        let slots = backend.upload(&host::slot_inputs(&self.shape, features))?;
        self.slot.forward(backend, &slots, &mut cache.slot)?;
        let embeddings = backend.download(cache.slot.output())?;
        let context_in = backend.upload(&host::context_inputs(&self.shape, &embeddings, features))?;
        self.context.forward(backend, &context_in, &mut cache.context)?;
        let context_out = backend.download(cache.context.output())?;

        let buffers = match &mut cache.buffers {
            Some(b) => b,
            none => none.insert(Buffers {
                projections: backend.zeros(0, 0)?,
                pre: backend.zeros(0, 0)?,
                post: backend.zeros(0, 0)?,
            }),
        };
        self.pair_in.forward(backend, cache.slot.output(), &mut buffers.projections)?;
        let projections = backend.download(&buffers.projections)?;
        buffers.pre = backend.upload(&host::pair_pre(&self.shape, &projections, &context_out))?;
        backend.activation_forward(self.config.activation, &buffers.pre, &mut buffers.post)?;
        self.pair.forward(backend, &buffers.post, &mut cache.pair)?;
        let pair_out = backend.download(cache.pair.output())?;
        cache.batch = features.ncols();
        Ok(host::assemble(&self.shape, &pair_out, &context_out))
    }

    /// Evaluates `features` without keeping a cache.
    pub fn infer(&self, backend: &B, features: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        self.forward(backend, features, &mut PairCache::new())
    }

    /// Backpropagates `d_output` (`outputs × B`, host) through the cached forward pass,
    /// ACCUMULATING into each [`Param::grad`].
    pub fn backward(&mut self, backend: &B, cache: &PairCache<B>, d_output: &DMatrix<f32>) -> Result<()> {
        let expected = (self.shape.outputs(), cache.batch);
        let Some(buffers) = cache.buffers.as_ref().filter(|_| d_output.shape() == expected) else {
            return Err(Error::ShapeMismatch {
                op: "PairEncoder::backward: output gradient (no forward pass of this batch?)",
                expected,
                got: d_output.shape(),
            });
        };
        let (d_pair_out, mut d_context_out) = host::split_grads(&self.shape, d_output);

        let mut d_post = backend.zeros(0, 0)?;
        let mut d_pre = backend.zeros(0, 0)?;
        self.pair.backward_with_input_grad(backend, &cache.pair, &backend.upload(&d_pair_out)?, &mut d_post)?;
        backend.activation_backward(self.config.activation, &buffers.pre, &buffers.post, &d_post, &mut d_pre)?;
        let mut d_projections = DMatrix::zeros(0, 0);
        host::scatter_pair_grads(&self.shape, &backend.download(&d_pre)?, &mut d_projections, &mut d_context_out);

        let mut d_embeddings = backend.zeros(0, 0)?;
        let embeddings = cache.slot.output();
        self.pair_in.backward(backend, embeddings, &backend.upload(&d_projections)?, Some(&mut d_embeddings))?;
        let mut d_context_in = backend.zeros(0, 0)?;
        self.context.backward_with_input_grad(
            backend,
            &cache.context,
            &backend.upload(&d_context_out)?,
            &mut d_context_in,
        )?;
        let mut d_embeddings = backend.download(&d_embeddings)?;
        host::add_mean_grads(&self.shape, &backend.download(&d_context_in)?, &mut d_embeddings);
        self.slot.backward(backend, &cache.slot, &backend.upload(&d_embeddings)?)
    }

    /// Sets every parameter gradient to zero.
    pub fn zero_grad(&mut self, backend: &B) -> Result<()> {
        self.params_mut().into_iter().try_for_each(|(_, p)| backend.fill_zero(&mut p.grad))
    }

    /// Named parameters in a stable order: `"slot.layers.0.weight"`, …, `"context.layers.…"`,
    /// `"pair_in.weight"`, `"pair_in.bias"`, `"pair.layers.…"`.
    pub fn params(&self) -> Vec<(String, &Param<B>)> {
        let mut out = Vec::new();
        for (prefix, net) in [("slot", &self.slot), ("context", &self.context)] {
            out.extend(net.params().into_iter().map(|(n, p)| (format!("{prefix}.{n}"), p)));
        }
        out.push(("pair_in.weight".into(), &self.pair_in.weight));
        out.push(("pair_in.bias".into(), &self.pair_in.bias));
        out.extend(self.pair.params().into_iter().map(|(n, p)| (format!("pair.{n}"), p)));
        out
    }

    /// Named parameters, mutably, in the order of [`PairEncoder::params`].
    pub fn params_mut(&mut self) -> Vec<(String, &mut Param<B>)> {
        let mut out = Vec::new();
        for (prefix, net) in [("slot", &mut self.slot), ("context", &mut self.context)] {
            out.extend(net.params_mut().into_iter().map(|(n, p)| (format!("{prefix}.{n}"), p)));
        }
        out.push(("pair_in.weight".into(), &mut self.pair_in.weight));
        out.push(("pair_in.bias".into(), &mut self.pair_in.bias));
        out.extend(self.pair.params_mut().into_iter().map(|(n, p)| (format!("pair.{n}"), p)));
        out
    }

    /// The number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        let pair_in = self.pair_in.output() * (self.pair_in.input() + 1);
        self.slot.parameter_count() + self.context.parameter_count() + pair_in + self.pair.parameter_count()
    }
}
