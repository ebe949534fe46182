//! Matrix products of the CPU backend on column-major [`DMatrix<f32>`] operands: a safe wrapper
//! around `matrixmultiply::sgemm` for batches, and kernels for the shapes sgemm handles badly —
//! the narrow batches of lock-step sampling rounds ([`blocked`]) and one-hot inputs ([`sparse`]).
//!
//! nalgebra's own `gemm` only reaches `matrixmultiply` when every dimension exceeds 5 (our output
//! layers have fewer rows) and its `gemm_tr`/`tr_mul` fall back to dot products; transposed
//! operands are expressed here as strides, so no transpose is ever materialised.

mod blocked;
mod sparse;

pub(crate) use blocked::{BLOCK_ROWS, SHORT_ROWS, narrow_gemm, short_gemm};
pub(crate) use sparse::{is_sparse, sparse_outer_gemm, streamed_gemm};

use nalgebra::DMatrix;

/// Whether an operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// As stored.
    Id,
    /// Transposed (by strides, without a copy).
    Tr,
}

/// A logical view of a column-major matrix: shape and strides after applying an [`Op`].
struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

fn view(m: &DMatrix<f32>, op: Op) -> View<'_> {
    let (r, c) = m.shape();
    let ld = r as isize;
    match op {
        Op::Id => View { data: m.as_slice(), rows: r, cols: c, row_stride: 1, col_stride: ld },
        Op::Tr => View { data: m.as_slice(), rows: c, cols: r, row_stride: ld, col_stride: 1 },
    }
}

/// `c = alpha · op_a(a) · op_b(b) + beta · c`, single-threaded. If `beta` is zero, `c` is not read.
///
/// Callers check shapes first and return errors; a mismatch here is a bug in gfn-core.
pub(crate) fn sgemm(
    alpha: f32,
    a: &DMatrix<f32>,
    op_a: Op,
    b: &DMatrix<f32>,
    op_b: Op,
    beta: f32,
    c: &mut DMatrix<f32>,
) {
    let a = view(a, op_a);
    let b = view(b, op_b);
    let (m, n) = c.shape();
    assert!(
        a.rows == m && b.cols == n && a.cols == b.rows,
        "sgemm shapes: ({}×{})·({}×{}) into {m}×{n}",
        a.rows,
        a.cols,
        b.rows,
        b.cols
    );
    let k = a.cols;
    let c_col_stride = m as isize;
    let c_ptr = c.as_mut_slice().as_mut_ptr();
    #[allow(unsafe_code, reason = "the one call into matrixmultiply's raw-pointer sgemm")]
    // SAFETY: `a` is a (m×k) view of `a.data` whose largest offset (m-1)·rs + (k-1)·cs lies inside
    // the slice because the strides come from the column-major layout of a matrix with exactly
    // these dimensions; likewise for `b` (k×n) and `c` (m×n, strides 1 and m). `c` is borrowed
    // mutably, so it cannot alias `a` or `b`. With m, k or n zero, sgemm reads no element of the
    // empty operands.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.row_stride,
            a.col_stride,
            b.data.as_ptr(),
            b.row_stride,
            b.col_stride,
            beta,
            c_ptr,
            1,
            c_col_stride,
        );
    }
}

/// `(m, k)` of `a` after checking that `c += a · b` is well shaped (a caller's bug otherwise).
pub(super) fn product_dims(kernel: &str, a: &DMatrix<f32>, b: &DMatrix<f32>, c: &DMatrix<f32>) -> (usize, usize) {
    let (m, k) = a.shape();
    assert!(
        b.nrows() == k && c.shape() == (m, b.ncols()),
        "{kernel} shapes: ({m}×{k})·{:?} into {:?}",
        b.shape(),
        c.shape()
    );
    (m, k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposed_operands_match_nalgebra() {
        let a = DMatrix::from_fn(7, 3, |i, j| (i as f32) - 2.0 * j as f32);
        let b = DMatrix::from_fn(7, 4, |i, j| 0.5 * i as f32 + j as f32);
        let mut c = DMatrix::from_element(3, 4, 1.0);
        sgemm(2.0, &a, Op::Tr, &b, Op::Id, 1.0, &mut c);
        let want = a.transpose() * &b * 2.0 + DMatrix::from_element(3, 4, 1.0);
        assert!((c - want).abs().max() < 1e-4);

        let mut d = DMatrix::from_element(7, 7, f32::NAN);
        sgemm(1.0, &a, Op::Id, &a, Op::Tr, 0.0, &mut d);
        assert!((d - &a * a.transpose()).abs().max() < 1e-4);
    }
}
