//! Tests of [`PairEncoder`]: outputs and finite-difference gradients against an independent f64
//! implementation written per state and per pair, permutation equivariance, and error paths.

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{PairCache, PairEncoder, PairEncoderConfig};
use crate::Error;
use crate::backend::Cpu;
use crate::backend::conformance::{activation_reference, random_matrix};
use crate::env::{PairKind, SlotLayout};
use crate::nn::{Activation, Init};

fn config(pairs: PairKind, activation: Activation) -> PairEncoderConfig {
    PairEncoderConfig {
        layout: SlotLayout { slots: 4, slot_dim: 3, global_dim: 2, pairs, per_pair: 2, extra_actions: 1 },
        hidden: vec![5, 4],
        activation,
        init: Init::KaimingUniform,
        heads: 2,
        scalars: 1,
    }
}

fn encoder(config: &PairEncoderConfig, seed: u64) -> PairEncoder {
    PairEncoder::new(&Cpu, config, &mut ChaCha8Rng::seed_from_u64(seed)).expect("valid config")
}

type Params = HashMap<String, DMatrix<f64>>;

fn params_f64(net: &PairEncoder) -> Params {
    net.params().into_iter().map(|(n, p)| (n, p.value.map(f64::from))).collect()
}

/// An MLP `prefix.layers.*` applied to one vector, in f64.
fn mlp(params: &Params, prefix: &str, act: Activation, x: DVector<f64>) -> DVector<f64> {
    let mut h = x;
    for i in 0.. {
        let Some(w) = params.get(&format!("{prefix}.layers.{i}.weight")) else { break };
        if i > 0 {
            h = h.map(|v| activation_reference(act, v).0);
        }
        h = w * h + params[&format!("{prefix}.layers.{i}.bias")].column(0);
    }
    h
}

/// The encoder's output for one state, written directly from the definition in the module docs.
fn reference(c: &PairEncoderConfig, params: &Params, x: &[f64]) -> Vec<f64> {
    let (l, act) = (&c.layout, c.activation);
    let width = *c.hidden.last().unwrap();
    let e: Vec<DVector<f64>> = (0..l.slots)
        .map(|i| mlp(params, "slot", act, DVector::from_column_slice(&x[i * l.slot_dim..(i + 1) * l.slot_dim])))
        .collect();
    let mean = e.iter().fold(DVector::zeros(width), |a, v| a + v) / l.slots as f64;
    let context_in =
        DVector::from_iterator(width + l.global_dim, mean.iter().chain(&x[l.slots * l.slot_dim..]).copied());
    let ctx = mlp(params, "context", act, context_in);
    let (w, b) = (&params["pair_in.weight"], params["pair_in.bias"].column(0));
    let u = w.rows(0, width).into_owned();
    let v = if l.pairs == PairKind::Ordered { w.rows(width, width).into_owned() } else { u.clone() };
    let (bu, bv) = if l.pairs == PairKind::Ordered {
        (b.rows(0, width).into_owned(), b.rows(width, width).into_owned())
    } else {
        (b.into_owned(), b.into_owned())
    };
    let pair_logits: Vec<DVector<f64>> = l
        .pairs()
        .map(|(i, j)| {
            let a = &u * &e[i] + &bu + &v * &e[j] + &bv + ctx.rows(0, width);
            mlp(params, "pair", act, a.map(|z| activation_reference(act, z).0))
        })
        .collect();
    let mut out = Vec::new();
    for t in 0..c.heads {
        for logits in &pair_logits {
            out.extend((0..l.per_pair).map(|k| logits[t * l.per_pair + k]));
        }
        out.extend((0..l.extra_actions).map(|k| ctx[width + t * l.extra_actions + k]));
    }
    out.extend((0..c.scalars).map(|s| ctx[width + c.heads * l.extra_actions + s]));
    out
}

fn loss(c: &PairEncoderConfig, params: &Params, x: &DMatrix<f64>, d: &DMatrix<f64>) -> f64 {
    (0..x.ncols())
        .map(|b| {
            let out = reference(c, params, x.column(b).as_slice());
            out.iter().zip(d.column(b).iter()).map(|(o, g)| o * g).sum::<f64>()
        })
        .sum()
}

#[test]
fn outputs_and_gradients_match_an_independent_f64_implementation() {
    for pairs in [PairKind::Unordered, PairKind::Ordered] {
        for act in Activation::ALL {
            let c = config(pairs, act);
            let mut net = encoder(&c, 3);
            let x = random_matrix(1, c.layout.feature_dim(), 3, 1.5);
            let d = random_matrix(2, c.outputs(), 3, 1.0);
            let mut cache = PairCache::new();
            let out = net.forward(&Cpu, &x, &mut cache).unwrap();
            let base = params_f64(&net);
            let (x64, d64) = (x.map(f64::from), d.map(f64::from));
            for b in 0..3 {
                let want = reference(&c, &base, x64.column(b).as_slice());
                for (r, w) in want.iter().enumerate() {
                    assert!(
                        (f64::from(out[(r, b)]) - w).abs() < 1e-5,
                        "{pairs:?} {act} row {r}: {} vs {w}",
                        out[(r, b)]
                    );
                }
            }
            assert_eq!(out, net.infer(&Cpu, &x).unwrap());

            net.backward(&Cpu, &cache, &d).unwrap();
            let h = 1e-6;
            for (name, p) in net.params() {
                for k in 0..p.value.len() {
                    let (mut plus, mut minus) = (base.clone(), base.clone());
                    plus.get_mut(&name).unwrap()[k] += h;
                    minus.get_mut(&name).unwrap()[k] -= h;
                    let numeric = (loss(&c, &plus, &x64, &d64) - loss(&c, &minus, &x64, &d64)) / (2.0 * h);
                    let analytic = f64::from(p.grad[k]);
                    assert!(
                        (analytic - numeric).abs() <= 2e-4 * (1.0 + numeric.abs()),
                        "{pairs:?} {act} {name}[{k}]: analytic {analytic}, numeric {numeric}"
                    );
                }
            }
        }
    }
}

/// Moves slot `i` to slot `perm[i]` in every column.
fn permute_slots(l: &SlotLayout, x: &DMatrix<f32>, perm: &[usize]) -> DMatrix<f32> {
    let mut y = x.clone();
    for b in 0..x.ncols() {
        for (i, &pi) in perm.iter().enumerate() {
            for f in 0..l.slot_dim {
                y[(pi * l.slot_dim + f, b)] = x[(i * l.slot_dim + f, b)];
            }
        }
    }
    y
}

#[test]
fn permuting_slots_permutes_pair_logits() {
    for pairs in [PairKind::Unordered, PairKind::Ordered] {
        let c = config(pairs, Activation::LeakyRelu);
        let l = c.layout;
        let net = encoder(&c, 5);
        let x = random_matrix(4, l.feature_dim(), 6, 1.0);
        let perm = [2, 0, 3, 1];
        let (out, permuted) = (net.infer(&Cpu, &x).unwrap(), net.infer(&Cpu, &permute_slots(&l, &x, &perm)).unwrap());
        let a = l.action_count();
        for b in 0..x.ncols() {
            for (p, (i, j)) in l.pairs().enumerate() {
                let (pi, pj) = (perm[i], perm[j]);
                let (pi, pj) = if pairs == PairKind::Unordered { (pi.min(pj), pi.max(pj)) } else { (pi, pj) };
                let q = l.pair_index(pi, pj).unwrap();
                for t in 0..c.heads {
                    for k in 0..l.per_pair {
                        let (r, s) = (t * a + p * l.per_pair + k, t * a + q * l.per_pair + k);
                        assert!((out[(r, b)] - permuted[(s, b)]).abs() < 1e-5, "{pairs:?} pair {p} → {q}");
                    }
                }
            }
            for r in [a - 1, 2 * a - 1, 2 * a] {
                assert!((out[(r, b)] - permuted[(r, b)]).abs() < 1e-5, "{pairs:?} state-level row {r}");
            }
        }
        // A transposition that is not a symmetry of the features does change the ordered logits.
        if pairs == PairKind::Ordered {
            let (i, j) = (l.pair_index(0, 1).unwrap(), l.pair_index(1, 0).unwrap());
            assert!((out[(i * 2, 0)] - out[(j * 2, 0)]).abs() > 1e-4);
        }
    }
}

#[test]
fn params_are_named_counted_and_zeroed() {
    let c = config(PairKind::Ordered, Activation::Tanh);
    let mut net = encoder(&c, 0);
    let names: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "slot.layers.0.weight",
            "slot.layers.0.bias",
            "slot.layers.1.weight",
            "slot.layers.1.bias",
            "context.layers.0.weight",
            "context.layers.0.bias",
            "context.layers.1.weight",
            "context.layers.1.bias",
            "pair_in.weight",
            "pair_in.bias",
            "pair.layers.0.weight",
            "pair.layers.0.bias",
            "pair.layers.1.weight",
            "pair.layers.1.bias",
        ]
    );
    let shapes: Vec<_> = net.params().into_iter().map(|(_, p)| p.value.shape()).collect();
    // slot 3 → 5 → 4; context 4+2 → 5 → 4 + 2·1 + 1; pair_in 4 → 8; pair 4 → 4 → 2·2.
    assert_eq!(shapes[..4], [(5, 3), (5, 1), (4, 5), (4, 1)]);
    assert_eq!(shapes[4..8], [(5, 6), (5, 1), (7, 5), (7, 1)]);
    assert_eq!(shapes[8..], [(8, 4), (8, 1), (4, 4), (4, 1), (4, 4), (4, 1)]);
    assert_eq!(net.parameter_count(), net.params().iter().map(|(_, p)| p.value.len()).sum::<usize>());
    let x = random_matrix(3, 14, 2, 1.0);
    let mut cache = PairCache::default();
    net.forward(&Cpu, &x, &mut cache).unwrap();
    net.backward(&Cpu, &cache, &DMatrix::from_element(c.outputs(), 2, 1.0)).unwrap();
    assert!(net.params().iter().any(|(_, p)| p.grad.iter().any(|&g| g != 0.0)));
    net.zero_grad(&Cpu).unwrap();
    assert!(net.params().iter().all(|(_, p)| p.grad.iter().all(|&g| g == 0.0)));
    assert_eq!(net.config(), &c);
}

#[test]
fn misuse_returns_errors() {
    let c = config(PairKind::Unordered, Activation::Relu);
    let mut net = encoder(&c, 0);
    let mut cache = PairCache::new();
    let d = DMatrix::zeros(c.outputs(), 2);
    assert!(matches!(net.backward(&Cpu, &cache, &d), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(net.forward(&Cpu, &DMatrix::zeros(13, 2), &mut cache), Err(Error::ShapeMismatch { .. })));
    net.forward(&Cpu, &DMatrix::zeros(14, 2), &mut cache).unwrap();
    assert!(matches!(net.backward(&Cpu, &cache, &DMatrix::zeros(c.outputs(), 3)), Err(Error::ShapeMismatch { .. })));
    for bad in [
        PairEncoderConfig { hidden: vec![], ..c.clone() },
        PairEncoderConfig { hidden: vec![4, 0], ..c.clone() },
        PairEncoderConfig { heads: 0, ..c.clone() },
        PairEncoderConfig { layout: SlotLayout { slots: 1, ..c.layout }, ..c.clone() },
    ] {
        let e = PairEncoder::<Cpu>::new(&Cpu, &bad, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig { .. }), "{e}");
    }
}
