//! [`Adam`]: Adam over a list of backend [`Param`]s, with exact state export for checkpoints.

use super::config::check_lr;
use super::{AdamConfig, AdamStep};
use crate::backend::{Backend, Cpu, expect_shape};
use crate::nn::Param;
use crate::{Error, Result};
use nalgebra::DMatrix;

/// Adam over the parameters handed to [`Adam::step`], matched by position. Moments are allocated
/// on the first step; later steps must pass the same number of parameters with the same shapes.
///
/// ```
/// use gfn_core::backend::Cpu;
/// use gfn_core::nn::{Mlp, MlpConfig, Activation, Init};
/// use gfn_core::optim::{Adam, AdamConfig};
/// use rand::SeedableRng;
/// let config = MlpConfig { input: 2, hidden: vec![8], output: 1, activation: Activation::Tanh, init: Init::KaimingUniform };
/// let mut mlp = Mlp::new(&Cpu, &config, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
/// let mut adam = Adam::<Cpu>::new(AdamConfig::default())?;
/// let mut params: Vec<_> = mlp.params_mut().into_iter().map(|(_, p)| p).collect();
/// adam.step(&Cpu, &mut params)?;
/// assert_eq!(adam.steps(), 1);
/// # Ok::<(), gfn_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Adam<B: Backend = Cpu> {
    config: AdamConfig,
    t: u64,
    m: Vec<B::Mat>,
    v: Vec<B::Mat>,
}

/// The complete state of an [`Adam`] optimiser, on the host: restoring it with
/// [`Adam::load_state`] continues a run bit-identically.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamState {
    /// Steps taken.
    pub t: u64,
    /// First moments, one per parameter in step order.
    pub m: Vec<DMatrix<f32>>,
    /// Second moments, one per parameter in step order.
    pub v: Vec<DMatrix<f32>>,
}

impl<B: Backend> Adam<B> {
    /// A fresh optimiser; an invalid `config` is [`Error::InvalidConfig`].
    pub fn new(config: AdamConfig) -> Result<Self> {
        config.validate()?;
        Ok(Adam { config, t: 0, m: Vec::new(), v: Vec::new() })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Changes the learning rate (positive and finite, else [`Error::InvalidConfig`]).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_lr(lr)?;
        self.config.lr = lr;
        Ok(())
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// One Adam step on every parameter from its accumulated gradient (gradients are left as they
    /// are: zero them before the next accumulation).
    pub fn step(&mut self, backend: &B, params: &mut [&mut Param<B>]) -> Result<()> {
        if self.m.is_empty() {
            for p in params.iter() {
                let (rows, cols) = backend.shape(&p.value);
                self.m.push(backend.zeros(rows, cols)?);
                self.v.push(backend.zeros(rows, cols)?);
            }
        } else {
            expect_shape("Adam::step: number of parameters", (self.m.len(), 1), (params.len(), 1))?;
            for (p, m) in params.iter().zip(&self.m) {
                expect_shape("Adam::step: parameter", backend.shape(m), backend.shape(&p.value))?;
            }
        }
        self.t += 1;
        let step = AdamStep::new(&self.config, self.t);
        let moments = self.m.iter_mut().zip(self.v.iter_mut());
        for (p, (m, v)) in params.iter_mut().zip(moments) {
            let Param { value, grad } = &mut **p;
            backend.adam_update(value, grad, m, v, &step)?;
        }
        Ok(())
    }

    /// The state for a checkpoint (moments downloaded to the host).
    pub fn state(&self, backend: &B) -> Result<AdamState> {
        Ok(AdamState {
            t: self.t,
            m: self.m.iter().map(|m| backend.download(m)).collect::<Result<_>>()?,
            v: self.v.iter().map(|v| backend.download(v)).collect::<Result<_>>()?,
        })
    }

    /// Restores a state from [`Adam::state`]. First and second moments must pair up in shape,
    /// and, if this optimiser has already stepped, match its current moments.
    pub fn load_state(&mut self, backend: &B, state: AdamState) -> Result<()> {
        expect_shape("Adam::load_state: moment count", (state.m.len(), 1), (state.v.len(), 1))?;
        for (m, v) in state.m.iter().zip(&state.v) {
            expect_shape("Adam::load_state: second moment", m.shape(), v.shape())?;
        }
        if !self.m.is_empty() {
            let count = (self.m.len(), 1);
            expect_shape("Adam::load_state: number of parameters", count, (state.m.len(), 1))?;
            for (current, m) in self.m.iter().zip(&state.m) {
                expect_shape("Adam::load_state: first moment", backend.shape(current), m.shape())?;
            }
        }
        if state.t == 0 && !state.m.is_empty() {
            return Err(Error::Checkpoint {
                path: "<adam state>".into(),
                reason: "moments present but step count is 0".into(),
            });
        }
        self.m = state.m.iter().map(|m| backend.upload(m)).collect::<Result<_>>()?;
        self.v = state.v.iter().map(|v| backend.upload(v)).collect::<Result<_>>()?;
        self.t = state.t;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(value: &[f32], grad: &[f32]) -> Param<Cpu> {
        Param {
            value: DMatrix::from_column_slice(value.len(), 1, value),
            grad: DMatrix::from_column_slice(grad.len(), 1, grad),
        }
    }

    #[test]
    fn matches_hand_computed_steps() {
        let config = AdamConfig { lr: 0.5, beta1: 0.5, beta2: 0.75, eps: 0.0625, weight_decay: 0.0 };
        let mut adam = Adam::<Cpu>::new(config).unwrap();
        let mut p = param(&[1.0, -1.0], &[2.0, 0.0]);
        adam.step(&Cpu, &mut [&mut p]).unwrap();
        // element 0: m=1, v=1, m̂=2, v̂=4 → 1 − 0.5·2/(2 + 0.0625); element 1: zero gradient.
        let want = 1.0 - 1.0 / 2.0625;
        assert!((p.value[0] - want).abs() < 1e-6, "{}", p.value[0]);
        assert_eq!(p.value[1], -1.0);
        p.grad = DMatrix::from_column_slice(2, 1, &[-1.0, 4.0]);
        adam.step(&Cpu, &mut [&mut p]).unwrap();
        // element 0: m=0 → unchanged; element 1: m=2, v=4, m̂=2/0.75, v̂=4/0.4375.
        assert!((p.value[0] - want).abs() < 1e-6);
        let (m_hat, v_hat) = (2.0 / 0.75, 4.0f64 / 0.4375);
        let want1 = -1.0 - 0.5 * m_hat / (v_hat.sqrt() + 0.0625);
        assert!((f64::from(p.value[1]) - want1).abs() < 1e-5, "{} vs {want1}", p.value[1]);
    }

    #[test]
    fn weight_decay_is_added_to_the_gradient() {
        let config = AdamConfig { weight_decay: 0.5, lr: 0.1, ..AdamConfig::default() };
        let mut adam = Adam::<Cpu>::new(config).unwrap();
        let mut p = param(&[2.0], &[-1.0]); // effective gradient −1 + 0.5·2 = 0
        adam.step(&Cpu, &mut [&mut p]).unwrap();
        assert_eq!(p.value[0], 2.0);
    }

    #[test]
    fn changed_parameter_lists_are_errors() {
        let mut adam = Adam::<Cpu>::new(AdamConfig::default()).unwrap();
        let mut a = param(&[1.0, 2.0], &[0.1, 0.1]);
        let mut b = param(&[1.0], &[0.1]);
        adam.step(&Cpu, &mut [&mut a, &mut b]).unwrap();
        let err = adam.step(&Cpu, &mut [&mut a]).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
        let err = adam.step(&Cpu, &mut [&mut b, &mut a]).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
        assert_eq!(adam.steps(), 1);
    }

    #[test]
    fn state_round_trip_continues_bit_identically() {
        let mut a = Adam::<Cpu>::new(AdamConfig { lr: 0.01, ..AdamConfig::default() }).unwrap();
        let mut pa = param(&[0.3, -0.7, 1.1], &[0.0; 3]);
        let grads = |k: usize| {
            let k = k as f32;
            DMatrix::from_column_slice(3, 1, &[0.1 * k, -0.3 + k, (k * 0.7).sin()])
        };
        for k in 0..3 {
            pa.grad = grads(k);
            a.step(&Cpu, &mut [&mut pa]).unwrap();
        }
        let state = a.state(&Cpu).unwrap();
        let mut b = Adam::<Cpu>::new(AdamConfig { lr: 0.01, ..AdamConfig::default() }).unwrap();
        b.load_state(&Cpu, state.clone()).unwrap();
        assert_eq!(b.state(&Cpu).unwrap(), state);
        let mut pb = pa.clone();
        for k in 3..6 {
            pa.grad = grads(k);
            pb.grad = grads(k);
            a.step(&Cpu, &mut [&mut pa]).unwrap();
            b.step(&Cpu, &mut [&mut pb]).unwrap();
        }
        let bits = |m: &DMatrix<f32>| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&pa.value), bits(&pb.value));
        assert_eq!(a.state(&Cpu).unwrap(), b.state(&Cpu).unwrap());
    }

    #[test]
    fn load_state_checks_shapes() {
        let mut adam = Adam::<Cpu>::new(AdamConfig::default()).unwrap();
        let bad = AdamState { t: 1, m: vec![DMatrix::zeros(2, 1)], v: vec![DMatrix::zeros(3, 1)] };
        assert!(adam.load_state(&Cpu, bad).is_err());
        let mut p = param(&[1.0], &[1.0]);
        adam.step(&Cpu, &mut [&mut p]).unwrap();
        let other = AdamState { t: 1, m: vec![DMatrix::zeros(2, 1)], v: vec![DMatrix::zeros(2, 1)] };
        assert!(adam.load_state(&Cpu, other).is_err());
        assert!(adam.set_lr(f64::NAN).is_err());
    }
}
