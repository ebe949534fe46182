//! Exact per-sample parameter gradients of an [`Mlp`], for the optimal control variates of the
//! divergence objectives (ALGORITHMS §2.5, §9).
//!
//! A *sample* is a group of columns of the batch (CSR `groups` offsets over the columns), e.g. the
//! steps of one trajectory, whose per-sample gradient is the sum of its columns' gradients: with
//! `d_output` the logit gradients of unit coefficients on every `log P_F` step, sample `i`'s
//! gradient is the score `∇_θ lF(τ_i)`. Use one column per group for plain per-example gradients.
//!
//! For a linear layer, column `t`'s weight gradient is the outer product `dy_t x_tᵀ`, so a
//! group's weight gradient `Σ_t dy_t x_tᵀ` has squared norm `Σ_{t,u} (dy_t·dy_u)(x_t·x_u)`
//! (`‖dy_t‖²‖x_t‖²` for a single column), and its bias gradient `Σ_t dy_t`: the norms come from one
//! backward pass of the activations' gradients without forming any weight gradient.

use multiversion::multiversion;
use nalgebra::DMatrix;

use super::{Mlp, MlpCache};
use crate::backend::gemm::{Op, sgemm};
use crate::backend::{Backend, Cpu};
use crate::{Error, Result};

/// Squared norm of every group's full parameter gradient (all layers, weights and biases), for the
/// output gradient `d_output` (`output × columns`) through the forward pass in `cache`.
pub fn sq_norms(mlp: &Mlp<Cpu>, cache: &MlpCache<Cpu>, d_output: &DMatrix<f32>, groups: &[usize]) -> Result<Vec<f64>> {
    let mut norms = vec![0.0; groups.len().saturating_sub(1)];
    backward_layers(mlp, cache, d_output, groups, |x, dy| {
        // ‖Σ_t dy_t x_tᵀ‖² + ‖Σ_t dy_t‖² = Σ_{t,u} (dy_t·dy_u)(x_t·x_u + 1), symmetric in (t, u).
        for (norm, w) in norms.iter_mut().zip(groups.windows(2)) {
            for t in w[0]..w[1] {
                *norm += dot(dy, t, t) * (dot(x, t, t) + 1.0);
                for u in t + 1..w[1] {
                    *norm += 2.0 * dot(dy, t, u) * (dot(x, t, u) + 1.0);
                }
            }
        }
    })?;
    Ok(norms)
}

/// Every group's full parameter gradient, back to back (`groups × P` entries, group `i` at
/// `i·P..(i+1)·P`), each in the order of [`Mlp::params`] (weights column-major, then biases).
/// This is `O(groups · P)` memory; [`grad_blocks`] visits the same values a block at a time.
pub fn grads(mlp: &Mlp<Cpu>, cache: &MlpCache<Cpu>, d_output: &DMatrix<f32>, groups: &[usize]) -> Result<Vec<f64>> {
    let p = mlp.parameter_count();
    let count = groups.len().saturating_sub(1);
    let mut out = vec![0.0; count * p];
    grad_blocks(mlp, cache, d_output, groups, |offset, block| {
        if count == 0 {
            return Ok(());
        }
        let len = block.len() / count;
        for (i, values) in block.chunks_exact(len).enumerate() {
            for (o, &g) in out[i * p + offset..i * p + offset + len].iter_mut().zip(values) {
                *o = f64::from(g);
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// Target number of parameters per block of [`grad_blocks`]: `groups ×` this many f32 values stay
/// in the L2 cache while the consumer reduces them.
const BLOCK_PARAMS: usize = 2048;

/// Visits every group's parameter gradient one block of consecutive parameters at a time:
/// `visit(offset, block)` gets the gradients of parameters `offset..offset + len` (in the order of
/// [`Mlp::params`]) for every group, sample-major (`block[i·len + k]` is group `i`'s gradient of
/// parameter `offset + k`), with `len = block.len() / groups`. Blocks cover every parameter once;
/// a weight block is a run of whole columns of the weight matrix, a bias is a block of its own.
/// The `groups × P` matrix of [`grads`] never exists, so a consumer that reduces over the groups
/// per parameter (the optimal vector control variate) runs in cache.
pub fn grad_blocks(
    mlp: &Mlp<Cpu>,
    cache: &MlpCache<Cpu>,
    d_output: &DMatrix<f32>,
    groups: &[usize],
    mut visit: impl FnMut(usize, &[f32]) -> Result<()>,
) -> Result<()> {
    let count = groups.len().saturating_sub(1);
    let (mut block, mut active) = (Vec::new(), Vec::new());
    let mut status = Ok(());
    // Layers are visited last first; `end` is where the current layer's parameters end.
    let mut end = mlp.parameter_count();
    backward_layers(mlp, cache, d_output, groups, |x, dy| {
        let (n_out, n_in) = (dy.nrows(), x.nrows());
        let start = end - n_out * (n_in + 1);
        end = start;
        if status.is_err() {
            return;
        }
        let (xs, dys) = (x.as_slice(), dy.as_slice());
        let width = (BLOCK_PARAMS / n_out).max(1);
        for c0 in (0..n_in).step_by(width) {
            let c1 = (c0 + width).min(n_in);
            let len = (c1 - c0) * n_out;
            block.clear();
            block.resize(count * len, 0.0);
            for (values, w) in block.chunks_exact_mut(len).zip(groups.windows(2)) {
                outer_product_sum((dys, n_out), (xs, n_in), c0..c1, w[0]..w[1], values, &mut active);
            }
            if let Err(e) = visit(start + c0 * n_out, &block) {
                status = Err(e);
                return;
            }
        }
        block.clear();
        block.resize(count * n_out, 0.0);
        for (values, w) in block.chunks_exact_mut(n_out).zip(groups.windows(2)) {
            for t in w[0]..w[1] {
                for (o, &g) in values.iter_mut().zip(&dys[t * n_out..(t + 1) * n_out]) {
                    *o += g;
                }
            }
        }
        status = visit(start + n_in * n_out, &block);
    })?;
    status
}

/// Lanes of a register accumulator in [`outer_product_sum`].
const LANES: usize = 16;

/// `out[(c − c0)·n_out + r] = Σ_{t ∈ steps} x[c, t] · dy[r, t]` for the weight columns `c` of
/// `columns`: one group's gradient of those columns, with `dy` (`n_out` rows) and `x` (`n_in` rows)
/// column-major; `active` is scratch. Accumulates [`LANES`] rows of a column in registers over
/// the group's steps, skipping steps whose input is 0 (inactive ReLU units); compiled for several
/// SIMD levels.
#[multiversion(targets = "simd")]
fn outer_product_sum(
    (dy, n_out): (&[f32], usize),
    (x, n_in): (&[f32], usize),
    columns: std::ops::Range<usize>,
    steps: std::ops::Range<usize>,
    out: &mut [f32],
    active: &mut Vec<(usize, f32)>,
) {
    for (column, c) in out.chunks_exact_mut(n_out).zip(columns) {
        active.clear();
        active.extend(steps.clone().map(|t| (t, x[t * n_in + c])).filter(|&(_, a)| a != 0.0));
        let mut rows = column.chunks_exact_mut(LANES);
        for (chunk, r) in (&mut rows).zip((0..n_out).step_by(LANES)) {
            let mut acc = [0.0f32; LANES];
            for &(t, a) in active.iter() {
                let g = &dy[t * n_out + r..t * n_out + r + LANES];
                for k in 0..LANES {
                    acc[k] += a * g[k];
                }
            }
            chunk.copy_from_slice(&acc);
        }
        let tail = rows.into_remainder();
        let r0 = n_out - tail.len();
        for (k, o) in tail.iter_mut().enumerate() {
            *o = active.iter().map(|&(t, a)| a * dy[t * n_out + r0 + k]).sum();
        }
    }
}

/// `column t · column u` of `m` (accumulated in eight f32 lanes, which vectorise, then in f64).
fn dot(m: &DMatrix<f32>, t: usize, u: usize) -> f64 {
    let rows = m.nrows();
    let (a, b) = (&m.as_slice()[t * rows..(t + 1) * rows], &m.as_slice()[u * rows..(u + 1) * rows]);
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().map(|&l| f64::from(l)).sum::<f64>() + f64::from(tail)
}

/// Backpropagates `d_output` through the cached pass, calling `visit(x, dy)` for every layer (last
/// first) with its input and the gradient with respect to its output; no weight gradient is formed.
fn backward_layers(
    mlp: &Mlp<Cpu>,
    cache: &MlpCache<Cpu>,
    d_output: &DMatrix<f32>,
    groups: &[usize],
    mut visit: impl FnMut(&DMatrix<f32>, &DMatrix<f32>),
) -> Result<()> {
    let layers = mlp.layers();
    let n = layers.len();
    let (input, pre, post) = match cache.parts() {
        Some(parts) if parts.1.len() == n && parts.2.len() == n - 1 => parts,
        _ => {
            return Err(Error::ShapeMismatch {
                op: "per_sample: cache layers (no forward pass of this network?)",
                expected: (n, 1),
                got: (cache.parts().map_or(0, |p| p.1.len()), 1),
            });
        }
    };
    let columns = input.ncols();
    check_groups(groups, columns)?;
    if d_output.shape() != pre[n - 1].shape() {
        return Err(Error::ShapeMismatch {
            op: "per_sample: d_output",
            expected: pre[n - 1].shape(),
            got: d_output.shape(),
        });
    }
    let act = mlp.config().activation;
    let mut dy = d_output.clone();
    let mut dx = DMatrix::<f32>::zeros(0, 0);
    for i in (0..n).rev() {
        let x = if i == 0 { input } else { &post[i - 1] };
        visit(x, &dy);
        if i > 0 {
            let w = &layers[i].weight.value;
            dx.resize_mut(w.ncols(), columns, 0.0);
            sgemm(1.0, w, Op::Tr, &dy, Op::Id, 0.0, &mut dx);
            Cpu.activation_backward(act, cache.activation_input(act, i - 1), &post[i - 1], &dx, &mut dy)?;
        }
    }
    Ok(())
}

/// CSR offsets over `columns`: starting at 0, ending at `columns`, never decreasing.
fn check_groups(groups: &[usize], columns: usize) -> Result<()> {
    let ok = groups.first() == Some(&0) && groups.last() == Some(&columns) && groups.windows(2).all(|w| w[0] <= w[1]);
    if ok {
        Ok(())
    } else {
        Err(Error::config("groups", format!("{groups:?}"), format!("CSR offsets over {columns} columns")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Init, MlpConfig};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn setup(activation: Activation, columns: usize) -> (Mlp, DMatrix<f32>, DMatrix<f32>) {
        let config = MlpConfig { input: 4, hidden: vec![7, 6], output: 3, activation, init: Init::KaimingUniform };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mlp = Mlp::new(&Cpu, &config, &mut rng).unwrap();
        let x = DMatrix::from_fn(4, columns, |_, _| rng.random_range(-1.0..1.0));
        let d = DMatrix::from_fn(3, columns, |_, _| rng.random_range(-1.0..1.0));
        (mlp, x, d)
    }

    /// The gradient of one group by an ordinary forward/backward pass over its columns alone.
    fn reference(mlp: &Mlp, x: &DMatrix<f32>, d: &DMatrix<f32>, cols: std::ops::Range<usize>) -> Vec<f64> {
        let mut net = mlp.clone();
        net.zero_grad(&Cpu).unwrap();
        let mut cache = MlpCache::new();
        let (xs, ds) = (x.columns(cols.start, cols.len()).into_owned(), d.columns(cols.start, cols.len()).into_owned());
        net.forward(&Cpu, &xs, &mut cache).unwrap();
        net.backward(&Cpu, &cache, &ds).unwrap();
        net.params().iter().flat_map(|(_, p)| p.grad.iter().map(|&g| f64::from(g)).collect::<Vec<_>>()).collect()
    }

    #[test]
    fn per_sample_matches_separate_backward_passes() {
        for activation in [Activation::Relu, Activation::Tanh] {
            let (mlp, x, d) = setup(activation, 9);
            let mut cache = MlpCache::new();
            mlp.forward(&Cpu, &x, &mut cache).unwrap();
            let p = mlp.parameter_count();
            for groups in [(0..=9).collect::<Vec<_>>(), vec![0, 3, 3, 4, 9]] {
                let norms = sq_norms(&mlp, &cache, &d, &groups).unwrap();
                let vectors = grads(&mlp, &cache, &d, &groups).unwrap();
                for (i, w) in groups.windows(2).enumerate() {
                    let expected = reference(&mlp, &x, &d, w[0]..w[1]);
                    let norm: f64 = expected.iter().map(|g| g * g).sum();
                    assert!(
                        (norms[i] - norm).abs() <= 1e-4 * (1.0 + norm),
                        "{activation:?} group {i}: {} vs {norm}",
                        norms[i]
                    );
                    for (a, b) in vectors[i * p..(i + 1) * p].iter().zip(&expected) {
                        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{activation:?} group {i}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn per_sample_rejects_bad_input() {
        let (mlp, x, d) = setup(Activation::Relu, 5);
        let mut cache = MlpCache::new();
        assert!(matches!(sq_norms(&mlp, &cache, &d, &[0, 5]), Err(Error::ShapeMismatch { .. })));
        mlp.forward(&Cpu, &x, &mut cache).unwrap();
        for groups in [&[][..], &[0, 4], &[1, 5], &[0, 3, 2, 5]] {
            assert!(matches!(sq_norms(&mlp, &cache, &d, groups), Err(Error::InvalidConfig { field: "groups", .. })));
        }
        let short = d.columns(0, 4).into_owned();
        assert!(matches!(grads(&mlp, &cache, &short, &[0, 5]), Err(Error::ShapeMismatch { .. })));
    }
}
