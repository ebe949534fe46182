//! [`Cpu`]: the nalgebra backend (single-threaded, deterministic).

use super::gemm::{
    BLOCK_ROWS, Op, SHORT_ROWS, is_sparse, narrow_gemm, sgemm, short_gemm, sparse_outer_gemm, streamed_gemm,
};
use super::{Backend, expect_shape};
use crate::Result;
use crate::nn::Activation;
use crate::optim::AdamStep;
use multiversion::multiversion;
use nalgebra::DMatrix;

/// Batches up to this many columns use the register-blocked [`narrow_gemm`] in `linear_forward`
/// when the layer has at least one register block of outputs ([`BLOCK_ROWS`]) (measured on AVX2 + FMA: 1.3–3.6×
/// faster than sgemm or gemv for 256×256 weights up to 16 columns, even at 32, slower beyond).
const NARROW_MAX_COLUMNS: usize = 32;

/// [`narrow_gemm`] re-reads the weights once per column block and walks them with a stride of one
/// column per step, and the sparse-input kernels visit a weight column per non-zero input, so
/// they are only used while the weights fit in a core's L2 cache (512 KiB of f32, a
/// 256×512 layer). Larger layers (the first layer on a 27-taxon alignment's features has 256 ×
/// 75 k weights) use [`streamed_gemm`] or sgemm: `narrow_gemm` there was 50× slower.
const NARROW_MAX_WEIGHTS: usize = 1 << 17;

/// Batches up to this many columns through weights larger than [`NARROW_MAX_WEIGHTS`] use
/// [`streamed_gemm`] (measured on a 256 × 75 k layer: 4 columns 6.5 ms against 19 ms for gemv
/// and 11 ms for a cache-blocked `narrow_gemm`; 8 columns 8.7 ms against 10.6 ms for sgemm; from
/// 16 columns sgemm is faster), when their outputs fit in the L1 cache ([`STREAMED_MAX_OUTPUTS`]).
const STREAMED_MAX_COLUMNS: usize = 8;

/// The most output values (`rows × columns`) that [`streamed_gemm`] accumulates: 32 KiB of f32.
const STREAMED_MAX_OUTPUTS: usize = 1 << 13;

/// Narrow batches into fewer than [`BLOCK_ROWS`] outputs use matrix-vector products up to
/// this many columns (measured crossover against sgemm: 4–5 columns).
const GEMV_MAX_COLUMNS: usize = 4;

/// Runs `$body` with `$a` bound to the constant variant equal to `$act`, so that the elementwise
/// loop in `$body` is compiled once per activation, without a branch on the variant per element.
macro_rules! with_activation {
    ($act:expr, |$a:ident| $body:block) => {
        match $act {
            Activation::Relu => {
                let $a = Activation::Relu;
                $body
            }
            Activation::LeakyRelu => {
                let $a = Activation::LeakyRelu;
                $body
            }
            Activation::Elu => {
                let $a = Activation::Elu;
                $body
            }
            Activation::Silu => {
                let $a = Activation::Silu;
                $body
            }
            Activation::Tanh => {
                let $a = Activation::Tanh;
                $body
            }
        }
    };
}

/// The CPU backend: `Mat = DMatrix<f32>`, matrix products through single-threaded
/// `matrixmultiply::sgemm`, elementwise ops as plain loops. Results do not depend on the number of
/// threads of the process.
///
/// ```
/// use gfn_core::backend::{Backend, Cpu};
/// use nalgebra::DMatrix;
/// let w = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
/// let b = DMatrix::from_column_slice(2, 1, &[0.5, -0.5]);
/// let x = DMatrix::from_column_slice(2, 1, &[1.0, 1.0]);
/// let mut out = Cpu.zeros(0, 0)?;
/// Cpu.linear_forward(&w, &b, &x, &mut out)?;
/// assert_eq!(out.as_slice(), &[3.5, 6.5]);
/// # Ok::<(), gfn_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu;

/// Gives `m` the shape `rows × cols`, reusing its allocation; contents are unspecified afterwards
/// if the shape changed. A no-op when the shape already fits.
fn ensure_shape(m: &mut DMatrix<f32>, rows: usize, cols: usize) {
    if m.shape() != (rows, cols) {
        let mut data: Vec<f32> = std::mem::replace(m, DMatrix::zeros(0, 0)).data.into();
        // Only entries beyond the old length are written (the contents are unspecified anyway):
        // the lock-step rounds resize every buffer each round, and zero-filling them showed up
        // in profiles.
        data.resize(rows * cols, 0.0);
        *m = DMatrix::from_vec(rows, cols, data);
    }
}

impl Backend for Cpu {
    type Mat = DMatrix<f32>;

    fn name(&self) -> &'static str {
        "cpu"
    }

    fn upload(&self, host: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        Ok(host.clone())
    }

    fn upload_owned(&self, host: DMatrix<f32>) -> Result<DMatrix<f32>> {
        Ok(host)
    }

    fn download(&self, m: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        Ok(m.clone())
    }

    fn zeros(&self, rows: usize, cols: usize) -> Result<DMatrix<f32>> {
        Ok(DMatrix::zeros(rows, cols))
    }

    fn shape(&self, m: &DMatrix<f32>) -> (usize, usize) {
        m.shape()
    }

    fn copy(&self, src: &DMatrix<f32>, dst: &mut DMatrix<f32>) -> Result<()> {
        ensure_shape(dst, src.nrows(), src.ncols());
        dst.as_mut_slice().copy_from_slice(src.as_slice());
        Ok(())
    }

    fn linear_forward(
        &self,
        w: &DMatrix<f32>,
        b: &DMatrix<f32>,
        x: &DMatrix<f32>,
        out: &mut DMatrix<f32>,
    ) -> Result<()> {
        let (n_out, n_in) = w.shape();
        expect_shape("linear_forward bias", (n_out, 1), b.shape())?;
        expect_shape("linear_forward input", (n_in, x.ncols()), x.shape())?;
        ensure_shape(out, n_out, x.ncols());
        let bias = b.as_slice();
        if n_out > 0 {
            for column in out.as_mut_slice().chunks_exact_mut(n_out) {
                column.copy_from_slice(bias);
            }
        }
        let weights = n_out * n_in;
        let narrow = x.ncols() <= NARROW_MAX_COLUMNS;
        let cached = weights <= NARROW_MAX_WEIGHTS;
        if narrow && cached && n_out * x.ncols() <= STREAMED_MAX_OUTPUTS && is_sparse(x) {
            // Sampling rounds on one-hot features: only the weights of non-zero inputs are read.
            streamed_gemm(w, x, out);
        } else if narrow && cached && n_out >= BLOCK_ROWS {
            // Lock-step sampling rounds: sgemm would spend as long packing `w` as multiplying.
            narrow_gemm(w, x, out);
        } else if narrow && cached && n_out <= SHORT_ROWS {
            // The output layer of a sampling round: a few logits per state.
            short_gemm(w, x, out);
        } else if x.ncols() <= STREAMED_MAX_COLUMNS
            && weights > NARROW_MAX_WEIGHTS
            && n_out * x.ncols() <= STREAMED_MAX_OUTPUTS
        {
            // Sampling rounds through weights that only memory holds: read them once, in order.
            streamed_gemm(w, x, out);
        } else if x.ncols() <= GEMV_MAX_COLUMNS {
            // Narrow batches into a few outputs: nalgebra's matrix-vector product streams `w`
            // once per column.
            for j in 0..x.ncols() {
                out.column_mut(j).gemv(1.0, w, &x.column(j), 1.0);
            }
        } else {
            sgemm(1.0, w, Op::Id, x, Op::Id, 1.0, out);
        }
        Ok(())
    }

    fn linear_backward(
        &self,
        w: &DMatrix<f32>,
        x: &DMatrix<f32>,
        dy: &DMatrix<f32>,
        dw: &mut DMatrix<f32>,
        db: &mut DMatrix<f32>,
        dx: Option<&mut DMatrix<f32>>,
    ) -> Result<()> {
        let (n_out, n_in) = w.shape();
        let batch = x.ncols();
        expect_shape("linear_backward input", (n_in, batch), x.shape())?;
        expect_shape("linear_backward output gradient", (n_out, batch), dy.shape())?;
        expect_shape("linear_backward weight gradient", (n_out, n_in), dw.shape())?;
        expect_shape("linear_backward bias gradient", (n_out, 1), db.shape())?;
        if n_out * n_in <= NARROW_MAX_WEIGHTS && is_sparse(x) {
            // One-hot features: a column of `dy` per non-zero input instead of a dense product
            // (which sgemm blocks for the caches: `dw` must fit in L2 for this to be faster).
            sparse_outer_gemm(dy, x, dw);
        } else {
            sgemm(1.0, dy, Op::Id, x, Op::Tr, 1.0, dw);
        }
        if n_out > 0 {
            let db = db.as_mut_slice();
            for column in dy.as_slice().chunks_exact(n_out) {
                for (acc, &g) in db.iter_mut().zip(column) {
                    *acc += g;
                }
            }
        }
        if let Some(dx) = dx {
            ensure_shape(dx, n_in, batch);
            sgemm(1.0, w, Op::Tr, dy, Op::Id, 0.0, dx);
        }
        Ok(())
    }

    fn activation_forward(&self, act: Activation, x: &DMatrix<f32>, y: &mut DMatrix<f32>) -> Result<()> {
        ensure_shape(y, x.nrows(), x.ncols());
        with_activation!(act, |a| {
            for (y, &x) in y.as_mut_slice().iter_mut().zip(x.as_slice()) {
                *y = a.apply(x);
            }
        });
        Ok(())
    }

    fn activation_backward(
        &self,
        act: Activation,
        x: &DMatrix<f32>,
        y: &DMatrix<f32>,
        dy: &DMatrix<f32>,
        dx: &mut DMatrix<f32>,
    ) -> Result<()> {
        expect_shape("activation_backward output", x.shape(), y.shape())?;
        expect_shape("activation_backward output gradient", x.shape(), dy.shape())?;
        ensure_shape(dx, x.nrows(), x.ncols());
        let inputs = x.as_slice().iter().zip(y.as_slice()).zip(dy.as_slice());
        with_activation!(act, |a| {
            for (dx, ((&x, &y), &dy)) in dx.as_mut_slice().iter_mut().zip(inputs) {
                *dx = dy * a.derivative(x, y);
            }
        });
        Ok(())
    }

    fn adam_update(
        &self,
        param: &mut DMatrix<f32>,
        grad: &DMatrix<f32>,
        m: &mut DMatrix<f32>,
        v: &mut DMatrix<f32>,
        step: &AdamStep,
    ) -> Result<()> {
        let shape = param.shape();
        expect_shape("adam_update gradient", shape, grad.shape())?;
        expect_shape("adam_update first moment", shape, m.shape())?;
        expect_shape("adam_update second moment", shape, v.shape())?;
        adam_loop(param.as_mut_slice(), grad.as_slice(), m.as_mut_slice(), v.as_mut_slice(), step);
        Ok(())
    }

    fn scale(&self, m: &mut DMatrix<f32>, factor: f32) -> Result<()> {
        for e in m.as_mut_slice() {
            *e *= factor;
        }
        Ok(())
    }

    fn sum_squares(&self, m: &DMatrix<f32>) -> Result<f64> {
        // Eight independent partial sums (a fixed order, so the result is reproducible) instead of
        // one sequential chain of dependent f64 additions.
        let mut lanes = [0.0f64; 8];
        let mut chunks = m.as_slice().chunks_exact(8);
        for chunk in &mut chunks {
            for (lane, &e) in lanes.iter_mut().zip(chunk) {
                *lane += f64::from(e) * f64::from(e);
            }
        }
        let tail: f64 = chunks.remainder().iter().map(|&e| f64::from(e) * f64::from(e)).sum();
        Ok(lanes.iter().sum::<f64>() + tail)
    }

    fn fill_zero(&self, m: &mut DMatrix<f32>) -> Result<()> {
        m.as_mut_slice().fill(0.0);
        Ok(())
    }

    fn gather_columns(
        &self,
        sources: &[&DMatrix<f32>],
        columns: &[(usize, usize)],
        out: &mut DMatrix<f32>,
    ) -> Result<()> {
        let rows = sources.first().map_or(0, |m| m.nrows());
        for m in sources {
            expect_shape("gather_columns source", (rows, m.ncols()), m.shape())?;
        }
        for &(s, j) in columns {
            let cols = sources.get(s).map_or(0, |m| m.ncols());
            if j >= cols {
                return Err(crate::Error::ShapeMismatch {
                    op: "gather_columns column",
                    expected: (rows, j + 1),
                    got: (rows, cols),
                });
            }
        }
        ensure_shape(out, rows, columns.len());
        if rows > 0 {
            for (dst, &(s, j)) in out.as_mut_slice().chunks_exact_mut(rows).zip(columns) {
                dst.copy_from_slice(&sources[s].as_slice()[j * rows..(j + 1) * rows]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformance_suite_passes() {
        super::super::conformance::run_all(&Cpu).unwrap();
    }

    #[test]
    fn ensure_shape_reuses_the_allocation() {
        let mut m = DMatrix::<f32>::zeros(8, 10);
        let ptr = m.as_slice().as_ptr();
        ensure_shape(&mut m, 8, 4);
        assert_eq!(m.shape(), (8, 4));
        assert_eq!(m.as_slice().as_ptr(), ptr);
        ensure_shape(&mut m, 4, 20);
        assert_eq!(m.as_slice().as_ptr(), ptr);
    }
}

/// [`AdamStep::update`] over every element, compiled for several SIMD levels (a square root and
/// two divisions per element vectorise eight wide with AVX).
#[multiversion(targets = "simd")]
fn adam_loop(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], step: &AdamStep) {
    let moments = m.iter_mut().zip(v.iter_mut());
    for ((p, &g), (m, v)) in param.iter_mut().zip(grad).zip(moments) {
        step.update(p, g, m, v);
    }
}
