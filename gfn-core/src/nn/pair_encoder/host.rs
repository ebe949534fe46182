//! Host-side gathers and scatters of the [`PairEncoder`](super::PairEncoder): between the
//! per-state feature / output columns and the per-slot and per-pair columns the networks see.
//!
//! Column conventions: slot `i` of state `b` is column `b·S + i`, pair `p` of state `b` is column
//! `b·P + p`; every matrix is column-major, so each column is a contiguous slice.

use nalgebra::DMatrix;

use super::Shape;

fn col(m: &DMatrix<f32>, c: usize) -> &[f32] {
    let r = m.nrows();
    &m.as_slice()[c * r..(c + 1) * r]
}

fn col_mut(m: &mut DMatrix<f32>, c: usize) -> &mut [f32] {
    let r = m.nrows();
    &mut m.as_mut_slice()[c * r..(c + 1) * r]
}

fn add_into(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

/// The slot features of every state, `slot_dim × S·B`.
pub(super) fn slot_inputs(shape: &Shape, features: &DMatrix<f32>) -> DMatrix<f32> {
    let (s, d) = (shape.layout.slots, shape.layout.slot_dim);
    let batch = features.ncols();
    let mut out = DMatrix::zeros(d, s * batch);
    for b in 0..batch {
        out.as_mut_slice()[b * s * d..(b + 1) * s * d].copy_from_slice(&col(features, b)[..s * d]);
    }
    out
}

/// The context network's input, `(h + global_dim) × B`: the mean of each state's slot embeddings
/// (`embeddings`, `h × S·B`) followed by its global features.
pub(super) fn context_inputs(shape: &Shape, embeddings: &DMatrix<f32>, features: &DMatrix<f32>) -> DMatrix<f32> {
    let (s, h, l) = (shape.layout.slots, shape.width, &shape.layout);
    let batch = features.ncols();
    let mut out = DMatrix::zeros(h + l.global_dim, batch);
    let scale = 1.0 / s as f32;
    for b in 0..batch {
        let dst = col_mut(&mut out, b);
        for i in 0..s {
            add_into(&mut dst[..h], col(embeddings, b * s + i));
        }
        dst[..h].iter_mut().for_each(|v| *v *= scale);
        dst[h..].copy_from_slice(&col(features, b)[s * l.slot_dim..]);
    }
    out
}

/// Pair pre-activations, `h × P·B`: `proj_first(e_i) + proj_second(e_j) + context` where
/// `projections` (`k·h × S·B`) holds the first-slot projection in rows `0..h` and, for ordered
/// pairs, the second-slot one in rows `h..2h`, and `context_out` holds the context term in rows
/// `0..h`.
pub(super) fn pair_pre(shape: &Shape, projections: &DMatrix<f32>, context_out: &DMatrix<f32>) -> DMatrix<f32> {
    let (s, h, p) = (shape.layout.slots, shape.width, shape.pairs.len());
    let second = shape.second_offset();
    let batch = context_out.ncols();
    let mut out = DMatrix::zeros(h, p * batch);
    for b in 0..batch {
        let context = &col(context_out, b)[..h];
        for (k, &(i, j)) in shape.pairs.iter().enumerate() {
            let (u, v) = (&col(projections, b * s + i)[..h], &col(projections, b * s + j)[second..second + h]);
            for (((o, u), v), c) in col_mut(&mut out, b * p + k).iter_mut().zip(u).zip(v).zip(context) {
                *o = u + v + c;
            }
        }
    }
    out
}

/// The transpose of [`pair_pre`]: scatters `d_pre` (`h × P·B`) into the gradients of the
/// projections (`k·h × S·B`, overwritten) and of the context term (rows `0..h` of `d_context_out`,
/// overwritten).
pub(super) fn scatter_pair_grads(
    shape: &Shape,
    d_pre: &DMatrix<f32>,
    d_projections: &mut DMatrix<f32>,
    d_context_out: &mut DMatrix<f32>,
) {
    let (s, h, p) = (shape.layout.slots, shape.width, shape.pairs.len());
    let second = shape.second_offset();
    let batch = d_context_out.ncols();
    *d_projections = DMatrix::zeros(shape.projection_rows(), s * batch);
    for b in 0..batch {
        col_mut(d_context_out, b)[..h].iter_mut().for_each(|v| *v = 0.0);
        for (k, &(i, j)) in shape.pairs.iter().enumerate() {
            let g = col(d_pre, b * p + k);
            add_into(&mut col_mut(d_context_out, b)[..h], g);
            add_into(&mut col_mut(d_projections, b * s + i)[..h], g);
            add_into(&mut col_mut(d_projections, b * s + j)[second..second + h], g);
        }
    }
}

/// Adds the context path's gradient with respect to the mean embedding (rows `0..h` of
/// `d_context_in`, `(h + global_dim) × B`) to every slot's embedding gradient (`h × S·B`).
pub(super) fn add_mean_grads(shape: &Shape, d_context_in: &DMatrix<f32>, d_embeddings: &mut DMatrix<f32>) {
    let (s, h) = (shape.layout.slots, shape.width);
    let scale = 1.0 / s as f32;
    for b in 0..d_context_in.ncols() {
        let g = &col(d_context_in, b)[..h];
        for i in 0..s {
            col_mut(d_embeddings, b * s + i).iter_mut().zip(g).for_each(|(d, g)| *d += g * scale);
        }
    }
}

/// The encoder's output, `(heads·A + scalars) × B`, from the pair network's output
/// (`heads·per_pair × P·B`) and the context network's (`(h + heads·extra + scalars) × B`).
pub(super) fn assemble(shape: &Shape, pair_out: &DMatrix<f32>, context_out: &DMatrix<f32>) -> DMatrix<f32> {
    let batch = context_out.ncols();
    let mut out = DMatrix::zeros(shape.outputs(), batch);
    for b in 0..batch {
        shape.for_each_row(|to, from| match from {
            Source::Pair { pair, row } => col_mut(&mut out, b)[to] = col(pair_out, b * shape.pairs.len() + pair)[row],
            Source::Context(row) => col_mut(&mut out, b)[to] = col(context_out, b)[row],
        });
    }
    out
}

/// The transpose of [`assemble`]: splits `d_output` into the pair network's output gradient and
/// the context network's (whose rows `0..h` are left zero).
pub(super) fn split_grads(shape: &Shape, d_output: &DMatrix<f32>) -> (DMatrix<f32>, DMatrix<f32>) {
    let batch = d_output.ncols();
    let mut d_pair = DMatrix::zeros(shape.pair_outputs(), shape.pairs.len() * batch);
    let mut d_context = DMatrix::zeros(shape.context_outputs(), batch);
    for b in 0..batch {
        let g = col(d_output, b);
        shape.for_each_row(|to, from| match from {
            Source::Pair { pair, row } => col_mut(&mut d_pair, b * shape.pairs.len() + pair)[row] = g[to],
            Source::Context(row) => col_mut(&mut d_context, b)[row] = g[to],
        });
    }
    (d_pair, d_context)
}

/// Where an output row comes from.
#[derive(Clone, Copy)]
pub(super) enum Source {
    /// Row `row` of the pair network's output at pair `pair`.
    Pair {
        /// The pair index.
        pair: usize,
        /// The row of the pair network's output.
        row: usize,
    },
    /// Row `row` of the context network's output.
    Context(usize),
}
