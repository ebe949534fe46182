//! The compute backend: the handful of dense f32 operations the estimators and the optimiser need.
//!
//! A [`Backend`] owns no state of its own beyond a device handle; matrices ([`Backend::Mat`]) are
//! `features × batch` and column-major, so each column is one sample. [`Cpu`] implements the ops
//! with nalgebra storage and `matrixmultiply`'s single-threaded sgemm; a CUDA backend in another
//! crate implements the same trait and is checked against the same [`conformance`] suite.
//!
//! Conventions shared by every op:
//! - output buffers passed as `&mut Self::Mat` are resized as needed and their storage reused, so a
//!   caller that keeps its buffers allocates nothing while the batch size repeats;
//! - accumulators (`dw`, `db` in [`Backend::linear_backward`]) must already have the right shape;
//! - a shape that does not fit returns [`Error::ShapeMismatch`](crate::Error::ShapeMismatch), never
//!   a panic.

pub mod conformance;
mod cpu;
pub(crate) mod gemm;

pub use cpu::Cpu;

use crate::Result;
use crate::nn::Activation;
use crate::optim::AdamStep;
use nalgebra::DMatrix;

/// Dense f32 operations on `features × batch` matrices, implemented once per compute device.
pub trait Backend: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// An f32 matrix living on the backend's device, `features × batch` (one column per sample).
    type Mat: Clone + std::fmt::Debug + Send + Sync;

    /// A short name for messages and benchmark labels (`"cpu"`, `"cuda"`).
    fn name(&self) -> &'static str;

    /// Copies a host matrix to the device.
    fn upload(&self, host: &DMatrix<f32>) -> Result<Self::Mat>;

    /// Moves a host matrix to the device: [`Backend::upload`] by default; a host backend takes
    /// the matrix without copying it (the features of a training batch can be 10⁸ values).
    fn upload_owned(&self, host: DMatrix<f32>) -> Result<Self::Mat> {
        self.upload(&host)
    }

    /// Copies a device matrix back to the host.
    fn download(&self, m: &Self::Mat) -> Result<DMatrix<f32>>;

    /// A `rows × cols` matrix of zeros.
    fn zeros(&self, rows: usize, cols: usize) -> Result<Self::Mat>;

    /// `(rows, cols)` of `m`.
    fn shape(&self, m: &Self::Mat) -> (usize, usize);

    /// `dst = src` (dst is resized as needed, its buffer reused).
    fn copy(&self, src: &Self::Mat, dst: &mut Self::Mat) -> Result<()>;

    /// `out = w·x + b` with `b` (`rows × 1`) broadcast over the columns; `out` is resized as needed
    /// (its buffer reused).
    fn linear_forward(&self, w: &Self::Mat, b: &Self::Mat, x: &Self::Mat, out: &mut Self::Mat) -> Result<()>;

    /// `dw += dy·xᵀ`, `db +=` row-sums of `dy`, and if `dx` is `Some`: `dx = wᵀ·dy` (resized as
    /// needed).
    fn linear_backward(
        &self,
        w: &Self::Mat,
        x: &Self::Mat,
        dy: &Self::Mat,
        dw: &mut Self::Mat,
        db: &mut Self::Mat,
        dx: Option<&mut Self::Mat>,
    ) -> Result<()>;

    /// `y = act(x)` elementwise (`y` resized as needed).
    fn activation_forward(&self, act: Activation, x: &Self::Mat, y: &mut Self::Mat) -> Result<()>;

    /// `dx = dy ⊙ act'(x)` (`y = act(x)` is given for activations whose derivative is cheaper
    /// from `y`; `dx` resized as needed).
    fn activation_backward(
        &self,
        act: Activation,
        x: &Self::Mat,
        y: &Self::Mat,
        dy: &Self::Mat,
        dx: &mut Self::Mat,
    ) -> Result<()>;

    /// One Adam update of `param` in place, with first and second moments `m` and `v` (see
    /// [`AdamStep`] for the exact per-element formula).
    fn adam_update(
        &self,
        param: &mut Self::Mat,
        grad: &Self::Mat,
        m: &mut Self::Mat,
        v: &mut Self::Mat,
        step: &AdamStep,
    ) -> Result<()>;

    /// `m *= factor` elementwise.
    fn scale(&self, m: &mut Self::Mat, factor: f32) -> Result<()>;

    /// The sum of the squared entries of `m`, accumulated in f64.
    fn sum_squares(&self, m: &Self::Mat) -> Result<f64>;

    /// Sets every entry of `m` to zero.
    fn fill_zero(&self, m: &mut Self::Mat) -> Result<()>;

    /// `out[:, c] = sources[s][:, j]` for each `(s, j) = columns[c]`: assembles one batch from
    /// columns of several matrices with the same number of rows (`out` resized as needed). Used to
    /// reuse the activations of lock-step sampling rounds as one training batch. A source index or
    /// column out of range, or sources of different heights, are [`Error::ShapeMismatch`](crate::Error::ShapeMismatch).
    fn gather_columns(&self, sources: &[&Self::Mat], columns: &[(usize, usize)], out: &mut Self::Mat) -> Result<()>;
}

/// `Ok(())` if `got == expected`, else [`Error::ShapeMismatch`](crate::Error::ShapeMismatch).
pub(crate) fn expect_shape(op: &'static str, expected: (usize, usize), got: (usize, usize)) -> Result<()> {
    if expected == got { Ok(()) } else { Err(crate::Error::ShapeMismatch { op, expected, got }) }
}
