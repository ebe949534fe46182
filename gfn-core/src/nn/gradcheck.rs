//! Tests of [`Mlp`]: finite-difference gradients against an independent f64 forward pass,
//! determinism, cache reuse and error paths.

use super::{Activation, Init, Mlp, MlpCache, MlpConfig};
use crate::Error;
use crate::backend::Cpu;
use crate::backend::conformance::{activation_reference, random_matrix};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn config(activation: Activation) -> MlpConfig {
    MlpConfig { input: 3, hidden: vec![4, 5], output: 2, activation, init: Init::KaimingUniform }
}

fn mlp(config: &MlpConfig, seed: u64) -> Mlp {
    Mlp::new(&Cpu, config, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap()
}

/// Host f64 copies of `(weight, bias)` per layer.
fn weights_f64(mlp: &Mlp) -> Vec<(DMatrix<f64>, DMatrix<f64>)> {
    mlp.layers().iter().map(|l| (l.weight.value.map(f64::from), l.bias.value.map(f64::from))).collect()
}

/// `Σ c ⊙ mlp(x)` computed in f64, independently of the backend.
fn loss_f64(weights: &[(DMatrix<f64>, DMatrix<f64>)], act: Activation, x: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {
    let mut h = x.clone();
    for (i, (w, b)) in weights.iter().enumerate() {
        if i > 0 {
            h = h.map(|v| activation_reference(act, v).0);
        }
        h = w * h;
        for mut column in h.column_iter_mut() {
            column += b;
        }
    }
    h.component_mul(c).sum()
}

fn assert_close(what: &str, analytic: f32, numeric: f64) {
    let err = (f64::from(analytic) - numeric).abs();
    assert!(err <= 2e-4 * (1.0 + numeric.abs()), "{what}: analytic {analytic}, numeric {numeric}");
}

#[test]
fn gradients_match_finite_differences_for_every_activation() {
    for act in Activation::ALL {
        let mut net = mlp(&config(act), 7);
        let x = random_matrix(1, 3, 6, 2.0);
        let c = random_matrix(2, 2, 6, 1.0);
        let mut cache = MlpCache::new();
        net.forward(&Cpu, &x, &mut cache).unwrap();
        let mut d_input = DMatrix::zeros(0, 0);
        net.backward_with_input_grad(&Cpu, &cache, &c, &mut d_input).unwrap();

        let (x64, c64) = (x.map(f64::from), c.map(f64::from));
        let base = weights_f64(&net);
        let h = 1e-6;
        for (layer, (w, b)) in base.iter().enumerate() {
            for (is_bias, m) in [(false, w), (true, b)] {
                for k in 0..m.len() {
                    let mut plus = base.clone();
                    let mut minus = base.clone();
                    if is_bias {
                        plus[layer].1[k] += h;
                        minus[layer].1[k] -= h;
                    } else {
                        plus[layer].0[k] += h;
                        minus[layer].0[k] -= h;
                    }
                    let numeric = (loss_f64(&plus, act, &x64, &c64) - loss_f64(&minus, act, &x64, &c64)) / (2.0 * h);
                    let l = &net.layers()[layer];
                    let analytic = if is_bias { l.bias.grad[k] } else { l.weight.grad[k] };
                    assert_close(&format!("{act} layer {layer} bias={is_bias} entry {k}"), analytic, numeric);
                }
            }
        }
        for k in 0..x64.len() {
            let (mut plus, mut minus) = (x64.clone(), x64.clone());
            plus[k] += h;
            minus[k] -= h;
            let numeric = (loss_f64(&base, act, &plus, &c64) - loss_f64(&base, act, &minus, &c64)) / (2.0 * h);
            assert_close(&format!("{act} input entry {k}"), d_input[k], numeric);
        }
    }
}

#[test]
fn seeded_initialisation_is_deterministic() {
    let c = config(Activation::Relu);
    let (a, b, other) = (mlp(&c, 3), mlp(&c, 3), mlp(&c, 4));
    for ((na, pa), ((_, pb), (_, po))) in a.params().into_iter().zip(b.params().into_iter().zip(other.params())) {
        assert_eq!(pa.value, pb.value, "{na}");
        assert_ne!(pa.value, po.value, "{na}");
    }
}

#[test]
fn params_are_named_in_order_and_counted() {
    let net = mlp(&config(Activation::Tanh), 0);
    let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    let want =
        ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"];
    assert_eq!(names, want);
    let shapes: Vec<_> = net.params().into_iter().map(|(_, p)| p.value.shape()).collect();
    assert_eq!(shapes, [(4, 3), (4, 1), (5, 4), (5, 1), (2, 5), (2, 1)]);
    assert_eq!(net.parameter_count(), 3 * 4 + 4 + 4 * 5 + 5 + 5 * 2 + 2);
    assert_eq!(net.config(), &config(Activation::Tanh));
}

#[test]
fn forward_matches_infer_and_reuses_its_buffers() {
    let net = mlp(&config(Activation::Silu), 1);
    let mut cache = MlpCache::new();
    let x = random_matrix(5, 3, 8, 1.0);
    net.forward(&Cpu, &x, &mut cache).unwrap();
    assert_eq!(cache.output(), &net.infer(&Cpu, &x).unwrap());
    let ptr = cache.output().as_ptr();
    let x2 = random_matrix(6, 3, 8, 1.0);
    net.forward(&Cpu, &x2, &mut cache).unwrap();
    assert_eq!(cache.output().as_ptr(), ptr);
    assert_eq!(cache.output(), &net.infer(&Cpu, &x2).unwrap());
}

#[test]
fn backward_accumulates_and_zero_grad_resets() {
    let mut net = mlp(&config(Activation::Elu), 2);
    let mut cache = MlpCache::default();
    let x = random_matrix(7, 3, 4, 1.0);
    let d = random_matrix(8, 2, 4, 1.0);
    net.forward(&Cpu, &x, &mut cache).unwrap();
    net.backward(&Cpu, &cache, &d).unwrap();
    let once: Vec<DMatrix<f32>> = net.params().into_iter().map(|(_, p)| p.grad.clone()).collect();
    net.backward(&Cpu, &cache, &d).unwrap();
    for ((name, p), g) in net.params().into_iter().zip(&once) {
        assert!((&p.grad - 2.0 * g).abs().max() < 1e-6, "{name}");
    }
    net.zero_grad(&Cpu).unwrap();
    assert!(net.params().into_iter().all(|(_, p)| p.grad.iter().all(|&g| g == 0.0)));
}

#[test]
fn a_network_without_hidden_layers_is_affine() {
    let c = MlpConfig { hidden: vec![], ..config(Activation::Relu) };
    let net = mlp(&c, 9);
    let x = random_matrix(10, 3, 5, 1.0);
    let l = &net.layers()[0];
    let mut want = &l.weight.value * &x;
    for mut column in want.column_iter_mut() {
        column += &l.bias.value;
    }
    assert!((net.infer(&Cpu, &x).unwrap() - want).abs().max() < 1e-6);
}

#[test]
fn misuse_returns_errors() {
    let mut net = mlp(&config(Activation::Relu), 0);
    let mut cache = MlpCache::new();
    let d = DMatrix::zeros(2, 4);
    assert!(matches!(net.backward(&Cpu, &cache, &d), Err(Error::ShapeMismatch { .. })));
    let bad_x = DMatrix::zeros(4, 4);
    assert!(matches!(net.forward(&Cpu, &bad_x, &mut cache), Err(Error::ShapeMismatch { .. })));
    net.forward(&Cpu, &DMatrix::zeros(3, 4), &mut cache).unwrap();
    let bad_d = DMatrix::zeros(2, 5);
    assert!(matches!(net.backward(&Cpu, &cache, &bad_d), Err(Error::ShapeMismatch { .. })));
    let bad = MlpConfig { hidden: vec![0], ..config(Activation::Relu) };
    let err = Mlp::<Cpu>::new(&Cpu, &bad, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { field: "hidden", .. }));
}

#[test]
fn public_types_are_send_and_sync() {
    fn has_autotraits<T: Send + Sync + Unpin>() {}
    has_autotraits::<Mlp>();
    has_autotraits::<MlpCache>();
    has_autotraits::<crate::optim::Adam>();
    has_autotraits::<crate::optim::ScalarAdam>();
    has_autotraits::<Cpu>();
}
