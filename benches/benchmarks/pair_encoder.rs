//! The permutation-equivariant pair encoder at phylogenetics scale (27 slots of 128 features,
//! unordered pairs: 351 pair logits plus one extra action) against an MLP on the same flat
//! features, forward + backward at batch 64 on the CPU backend.

use criterion::{Criterion, criterion_group};
use gfn::backend::Cpu;
use gfn::env::{PairKind, SlotLayout};
use gfn::nn::{Activation, Init, Mlp, MlpCache, MlpConfig, PairCache, PairEncoder, PairEncoderConfig};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::hint::black_box;

const BATCH: usize = 64;

fn layout() -> SlotLayout {
    SlotLayout { slots: 27, slot_dim: 128, global_dim: 0, pairs: PairKind::Unordered, per_pair: 1, extra_actions: 1 }
}

fn random(rng: &mut StdRng, rows: usize, cols: usize) -> DMatrix<f32> {
    DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

fn pair_encoder(c: &mut Criterion) {
    let l = layout();
    let mut rng = StdRng::seed_from_u64(0);
    let x = random(&mut rng, l.feature_dim(), BATCH);
    let d_output = random(&mut rng, l.action_count(), BATCH);
    let mut group = c.benchmark_group("pairs_27x128_batch_64_forward_backward");
    for hidden in [vec![128], vec![128, 128]] {
        let config = PairEncoderConfig {
            layout: l,
            hidden: hidden.clone(),
            activation: Activation::Relu,
            init: Init::KaimingUniform,
            heads: 1,
            scalars: 0,
        };
        let mut net = PairEncoder::new(&Cpu, &config, &mut StdRng::seed_from_u64(1)).expect("valid config");
        let mut cache = PairCache::new();
        let name = format!(
            "pairs_{}_params_{}",
            hidden.iter().map(|w| w.to_string()).collect::<Vec<_>>().join("_"),
            net.parameter_count()
        );
        group.bench_function(name, |bench| {
            bench.iter(|| {
                net.zero_grad(&Cpu).expect("zero_grad");
                net.forward(&Cpu, black_box(&x), &mut cache).expect("forward");
                net.backward(&Cpu, &cache, black_box(&d_output)).expect("backward");
            });
        });
    }
    let config = MlpConfig {
        input: l.feature_dim(),
        hidden: vec![128, 128],
        output: l.action_count(),
        activation: Activation::Relu,
        init: Init::KaimingUniform,
    };
    let mut mlp = Mlp::new(&Cpu, &config, &mut StdRng::seed_from_u64(1)).expect("valid config");
    let mut cache = MlpCache::new();
    group.bench_function(format!("mlp_128_128_params_{}", mlp.parameter_count()), |bench| {
        bench.iter(|| {
            mlp.zero_grad(&Cpu).expect("zero_grad");
            mlp.forward(&Cpu, black_box(&x), &mut cache).expect("forward");
            mlp.backward(&Cpu, &cache, black_box(&d_output)).expect("backward");
        });
    });
    group.finish();
}

criterion_group!(benches, pair_encoder);
