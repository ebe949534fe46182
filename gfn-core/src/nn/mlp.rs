//! [`Mlp`]: a multi-layer perceptron with a reusable activation cache.

use super::{Activation, Linear, MlpConfig, Param};
use crate::backend::{Backend, Cpu};
use crate::{Error, Result};
use rand::Rng;

/// A multi-layer perceptron: linear layers with [`MlpConfig::activation`] between them and no
/// activation after the last layer. Inputs are `input × batch`, outputs `output × batch`.
///
/// ```
/// use gfn_core::backend::{Backend, Cpu};
/// use gfn_core::nn::{Activation, Init, Mlp, MlpCache, MlpConfig};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
///
/// let config = MlpConfig { input: 4, hidden: vec![16], output: 3, activation: Activation::Relu, init: Init::KaimingUniform };
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let mut mlp = Mlp::new(&Cpu, &config, &mut rng)?;
/// let x = DMatrix::from_element(4, 10, 0.5f32);
/// let mut cache = MlpCache::new();
/// mlp.forward(&Cpu, &x, &mut cache)?;
/// assert_eq!(cache.output().shape(), (3, 10));
/// mlp.backward(&Cpu, &cache, &DMatrix::from_element(3, 10, 1.0))?;
/// assert_eq!(mlp.parameter_count(), 4 * 16 + 16 + 16 * 3 + 3);
/// # Ok::<(), gfn_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Mlp<B: Backend = Cpu> {
    config: MlpConfig,
    layers: Vec<Linear<B>>,
    /// Backward scratch: gradient with respect to a hidden layer's activated output.
    grad_post: B::Mat,
    /// Backward scratch: gradient with respect to a hidden layer's pre-activation.
    grad_pre: B::Mat,
}

/// The activations of one [`Mlp::forward`] pass, kept for [`Mlp::backward`]. Its buffers are
/// reused by the next forward pass: nothing is allocated while the batch size repeats.
#[derive(Clone, Debug)]
pub struct MlpCache<B: Backend = Cpu> {
    /// Copy of the input batch.
    input: Option<B::Mat>,
    /// Per layer: its affine output (the last one is the network's output).
    pre: Vec<B::Mat>,
    /// Per hidden layer: its activated output.
    post: Vec<B::Mat>,
}

/// Borrowed `(input, pre, post)` buffers of an [`MlpCache`].
pub(crate) type CacheParts<'a, B> = (&'a <B as Backend>::Mat, &'a [<B as Backend>::Mat], &'a [<B as Backend>::Mat]);

impl<B: Backend> MlpCache<B> {
    /// An empty cache; [`Mlp::forward`] allocates its buffers on first use.
    pub fn new() -> Self {
        MlpCache { input: None, pre: Vec::new(), post: Vec::new() }
    }

    /// The output of the last forward pass (`output × batch`).
    ///
    /// # Panics
    /// If no forward pass has filled this cache yet.
    pub fn output(&self) -> &B::Mat {
        self.pre.last().expect("MlpCache::output called before any Mlp::forward")
    }

    /// What [`Backend::activation_backward`] reads as the input of hidden layer `l`'s activation
    /// `act`: its pre-activation, or its output where that determines the derivative
    /// ([`Activation::derivative_needs_input`]; [`MlpCache::gather`] then skips the
    /// pre-activation).
    pub(crate) fn activation_input(&self, act: Activation, l: usize) -> &B::Mat {
        if act.derivative_needs_input() { &self.pre[l] } else { &self.post[l] }
    }

    /// The input copy, per-layer affine outputs and hidden activations, if a forward pass filled
    /// them (read by [`super::per_sample`]).
    pub(crate) fn parts(&self) -> Option<CacheParts<'_, B>> {
        self.input.as_ref().map(|input| (input, &self.pre[..], &self.post[..]))
    }

    /// Drops the input kept for the backward pass (the activations stay, for
    /// [`MlpCache::gather`]).
    pub(crate) fn release_input(&mut self) {
        self.input = None;
    }

    /// Sizes the activation buffer lists for `layers` layers, allocating only what is missing.
    fn prepare(&mut self, backend: &B, layers: usize) -> Result<()> {
        self.pre.truncate(layers);
        while self.pre.len() < layers {
            self.pre.push(backend.zeros(0, 0)?);
        }
        self.post.truncate(layers - 1);
        while self.post.len() < layers - 1 {
            self.post.push(backend.zeros(0, 0)?);
        }
        Ok(())
    }
}

impl<B: Backend> MlpCache<B> {
    /// Fills this cache as if one forward pass had run on `input`, the inputs of the
    /// `(pass, column)` pairs `columns` of earlier forward passes `passes` of the same network,
    /// copying their activations instead of recomputing them (the passes need not keep their
    /// inputs). The hidden pre-activations are copied only if the network's `activation` needs
    /// them for its derivative ([`Activation::derivative_needs_input`]). Fails if there is no
    /// pass, if a pass is empty or of another depth, if `input` does not have one column per entry
    /// of `columns`, or if a column is out of range.
    pub fn gather(
        &mut self,
        backend: &B,
        passes: &[&MlpCache<B>],
        columns: &[(usize, usize)],
        input: B::Mat,
        activation: Activation,
    ) -> Result<()> {
        let layers = passes.first().map_or(0, |c| c.pre.len());
        if layers == 0 || passes.iter().any(|c| c.pre.len() != layers) {
            return Err(crate::Error::Backend(format!(
                "MlpCache::gather needs filled forward passes of one network, got {} passes of depths {:?}",
                passes.len(),
                passes.iter().map(|c| c.pre.len()).collect::<Vec<_>>()
            )));
        }
        let (_, input_columns) = backend.shape(&input);
        if input_columns != columns.len() {
            return Err(crate::Error::ShapeMismatch {
                op: "MlpCache::gather input columns",
                expected: (columns.len(), 1),
                got: (input_columns, 1),
            });
        }
        self.prepare(backend, layers)?;
        self.input = Some(input);
        let hidden_pre = activation.derivative_needs_input();
        for (l, pre) in self.pre.iter_mut().enumerate().filter(|(l, _)| hidden_pre || *l + 1 == layers) {
            let sources: Vec<&B::Mat> = passes.iter().map(|c| &c.pre[l]).collect();
            backend.gather_columns(&sources, columns, pre)?;
        }
        for (l, post) in self.post.iter_mut().enumerate() {
            let sources: Vec<&B::Mat> = passes.iter().map(|c| &c.post[l]).collect();
            backend.gather_columns(&sources, columns, post)?;
        }
        Ok(())
    }
}

impl<B: Backend> Default for MlpCache<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Mlp<B> {
    /// A freshly initialised network (layer by layer, weights before biases, from `rng`).
    /// An invalid `config` is [`Error::InvalidConfig`].
    pub fn new(backend: &B, config: &MlpConfig, rng: &mut impl Rng) -> Result<Self> {
        config.validate()?;
        let sizes = config.layer_sizes();
        let layers =
            sizes.windows(2).map(|w| Linear::new(backend, w[0], w[1], config.init, rng)).collect::<Result<Vec<_>>>()?;
        Ok(Mlp { config: config.clone(), layers, grad_post: backend.zeros(0, 0)?, grad_pre: backend.zeros(0, 0)? })
    }

    /// The configuration this network was built from.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The linear layers, input side first.
    pub fn layers(&self) -> &[Linear<B>] {
        &self.layers
    }

    fn activation(&self) -> Activation {
        self.config.activation
    }

    /// Forward pass keeping activations in `cache` (buffers reused across calls: no allocation
    /// when the batch size repeats). Read the result with [`MlpCache::output`].
    pub fn forward(&self, backend: &B, x: &B::Mat, cache: &mut MlpCache<B>) -> Result<()> {
        self.forward_layers(backend, x, cache)?;
        let input = match cache.input.as_mut() {
            Some(input) => input,
            None => cache.input.insert(backend.zeros(0, 0)?),
        };
        backend.copy(x, input)
    }

    /// [`Mlp::forward`] that keeps `x` itself in `cache` for the backward pass instead of a copy.
    pub fn forward_owned(&self, backend: &B, x: B::Mat, cache: &mut MlpCache<B>) -> Result<()> {
        self.forward_layers(backend, &x, cache)?;
        cache.input = Some(x);
        Ok(())
    }

    /// The layers of a forward pass, keeping their activations in `cache`.
    fn forward_layers(&self, backend: &B, x: &B::Mat, cache: &mut MlpCache<B>) -> Result<()> {
        let n = self.layers.len();
        cache.prepare(backend, n)?;
        let MlpCache { pre, post, .. } = cache;
        for (i, layer) in self.layers.iter().enumerate() {
            let src = if i == 0 { x } else { &post[i - 1] };
            layer.forward(backend, src, &mut pre[i])?;
            if i + 1 < n {
                backend.activation_forward(self.activation(), &pre[i], &mut post[i])?;
            }
        }
        Ok(())
    }

    /// Forward pass without keeping a cache.
    pub fn infer(&self, backend: &B, x: &B::Mat) -> Result<B::Mat> {
        let mut out = backend.zeros(0, 0)?;
        let mut hidden = backend.zeros(0, 0)?;
        for (i, layer) in self.layers.iter().enumerate() {
            if i == 0 {
                layer.forward(backend, x, &mut out)?;
            } else {
                backend.activation_forward(self.activation(), &out, &mut hidden)?;
                layer.forward(backend, &hidden, &mut out)?;
            }
        }
        Ok(out)
    }

    /// Backpropagates `d_output` (`output × batch`) through the cached forward pass, ACCUMULATING
    /// into each [`Param::grad`].
    pub fn backward(&mut self, backend: &B, cache: &MlpCache<B>, d_output: &B::Mat) -> Result<()> {
        self.backward_impl(backend, cache, d_output, None)
    }

    /// Like [`Mlp::backward`], and also writes the gradient with respect to the input batch into
    /// `d_input` (`input × batch`, resized as needed) — for networks stacked on other modules.
    pub fn backward_with_input_grad(
        &mut self,
        backend: &B,
        cache: &MlpCache<B>,
        d_output: &B::Mat,
        d_input: &mut B::Mat,
    ) -> Result<()> {
        self.backward_impl(backend, cache, d_output, Some(d_input))
    }

    fn backward_impl(
        &mut self,
        backend: &B,
        cache: &MlpCache<B>,
        d_output: &B::Mat,
        mut d_input: Option<&mut B::Mat>,
    ) -> Result<()> {
        let n = self.layers.len();
        let input = match &cache.input {
            Some(input) if cache.pre.len() == n && cache.post.len() == n - 1 => input,
            _ => {
                return Err(Error::ShapeMismatch {
                    op: "Mlp::backward: cache layers (no forward pass of this network?)",
                    expected: (n, 1),
                    got: (cache.pre.len(), 1),
                });
            }
        };
        let act = self.activation();
        let Mlp { layers, grad_post, grad_pre, .. } = self;
        for i in (0..n).rev() {
            let x = if i == 0 { input } else { &cache.post[i - 1] };
            let dy: &B::Mat = if i + 1 == n { d_output } else { grad_pre };
            let dx = if i == 0 { d_input.take() } else { Some(&mut *grad_post) };
            layers[i].backward(backend, x, dy, dx)?;
            if i > 0 {
                let x = cache.activation_input(act, i - 1);
                backend.activation_backward(act, x, &cache.post[i - 1], grad_post, grad_pre)?;
            }
        }
        Ok(())
    }

    /// Sets every parameter gradient to zero.
    pub fn zero_grad(&mut self, backend: &B) -> Result<()> {
        for layer in &mut self.layers {
            backend.fill_zero(&mut layer.weight.grad)?;
            backend.fill_zero(&mut layer.bias.grad)?;
        }
        Ok(())
    }

    /// Named parameters in a stable order: `"layers.0.weight"`, `"layers.0.bias"`, …
    pub fn params(&self) -> Vec<(String, &Param<B>)> {
        let mut out = Vec::with_capacity(2 * self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            out.push((format!("layers.{i}.weight"), &layer.weight));
            out.push((format!("layers.{i}.bias"), &layer.bias));
        }
        out
    }

    /// Named parameters, mutably, in the order of [`Mlp::params`].
    pub fn params_mut(&mut self) -> Vec<(String, &mut Param<B>)> {
        let mut out = Vec::with_capacity(2 * self.layers.len());
        for (i, layer) in self.layers.iter_mut().enumerate() {
            out.push((format!("layers.{i}.weight"), &mut layer.weight));
            out.push((format!("layers.{i}.bias"), &mut layer.bias));
        }
        out
    }

    /// The number of scalar parameters (weights and biases).
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|l| l.output() * (l.input() + 1)).sum()
    }
}
