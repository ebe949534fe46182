//! MLP kernels on the CPU backend: the raw single-threaded sgemm rate of this machine, and the
//! forward / forward+backward pass of the target policy network 32 → 256 → 256 → 5 (ReLU), and the
//! sampling-round product through a first layer far larger than the caches (a 27-taxon
//! phylogenetic forest's features).
//!
//! Throughput is reported in "elements" = floating-point operations, so criterion's `elem/s`
//! reads as FLOP/s.

use criterion::{Criterion, Throughput, criterion_group};
use gfn::backend::{Backend, Cpu};
use gfn::nn::{Activation, Init, Mlp, MlpCache, MlpConfig};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::hint::black_box;

/// Layer widths of the target network.
const SIZES: [usize; 4] = [32, 256, 256, 5];

fn random(rng: &mut StdRng, rows: usize, cols: usize) -> DMatrix<f32> {
    DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

/// FLOPs of one forward pass: `2·batch·Σ in·out`.
fn forward_flops(batch: usize) -> u64 {
    let macs: usize = SIZES.windows(2).map(|w| w[0] * w[1]).sum();
    (2 * batch * macs) as u64
}

/// FLOPs of forward + backward: forward, `dW` for every layer, `dx` for every layer but the first.
fn forward_backward_flops(batch: usize) -> u64 {
    let macs: usize = SIZES.windows(2).map(|w| w[0] * w[1]).sum();
    let first = SIZES[0] * SIZES[1];
    (2 * batch * (2 * macs + (macs - first))) as u64
}

/// Raw sgemm 256×256×256 through nalgebra's `gemm`, which dispatches to the same
/// `matrixmultiply::sgemm` kernel the backend calls.
fn sgemm(c: &mut Criterion) {
    let n = 256;
    let mut rng = StdRng::seed_from_u64(0);
    let (a, b) = (random(&mut rng, n, n), random(&mut rng, n, n));
    let mut out = DMatrix::<f32>::zeros(n, n);
    let mut group = c.benchmark_group("sgemm");
    group.throughput(Throughput::Elements((2 * n * n * n) as u64));
    group.bench_function("256x256x256", |bench| {
        bench.iter(|| out.gemm(1.0, black_box(&a), black_box(&b), 0.0));
    });
    group.finish();
}

fn network() -> Mlp {
    let config = MlpConfig {
        input: SIZES[0],
        hidden: SIZES[1..3].to_vec(),
        output: SIZES[3],
        activation: Activation::Relu,
        init: Init::KaimingUniform,
    };
    Mlp::new(&Cpu, &config, &mut StdRng::seed_from_u64(1)).expect("valid config")
}

fn mlp(c: &mut Criterion) {
    let mut net = network();
    let mut rng = StdRng::seed_from_u64(2);
    for batch in [16, 256] {
        let x = random(&mut rng, SIZES[0], batch);
        let d_output = random(&mut rng, SIZES[3], batch);
        let mut cache = MlpCache::new();

        let mut group = c.benchmark_group("mlp_32_256_256_5_forward");
        group.throughput(Throughput::Elements(forward_flops(batch)));
        group.bench_function(format!("batch_{batch}"), |bench| {
            bench.iter(|| net.forward(&Cpu, black_box(&x), &mut cache).expect("forward"));
        });
        group.finish();

        let mut group = c.benchmark_group("mlp_32_256_256_5_forward_backward");
        group.throughput(Throughput::Elements(forward_backward_flops(batch)));
        group.bench_function(format!("batch_{batch}"), |bench| {
            bench.iter(|| {
                net.zero_grad(&Cpu).expect("zero_grad");
                net.forward(&Cpu, black_box(&x), &mut cache).expect("forward");
                net.backward(&Cpu, &cache, black_box(&d_output)).expect("backward");
            });
        });
        group.finish();
    }
}

/// `Cpu::linear_forward` of a 256 × 75 000 layer (77 MB of weights) on a few columns whose inputs
/// are 20 % zeros: lock-step sampling rounds through a DS1 policy's first layer.
fn large_layer_narrow(c: &mut Criterion) {
    let (rows, inputs) = (256, 75_000);
    let mut rng = StdRng::seed_from_u64(2);
    let w = random(&mut rng, rows, inputs);
    let b = random(&mut rng, rows, 1);
    let mut group = c.benchmark_group("linear_forward_256x75000");
    group.sample_size(10);
    for columns in [1, 4, 8] {
        let x =
            DMatrix::from_fn(inputs, columns, |i, j| if (i + j) % 5 == 0 { 0.0 } else { rng.random_range(-1.0..1.0) });
        let mut out = DMatrix::zeros(rows, columns);
        group.throughput(Throughput::Elements((2 * rows * inputs * columns) as u64));
        group.bench_function(format!("columns_{columns}"), |bench| {
            bench.iter(|| Cpu.linear_forward(black_box(&w), &b, black_box(&x), &mut out).expect("forward"));
        });
    }
    group.finish();
}

criterion_group!(benches, sgemm, mlp, large_layer_narrow);
