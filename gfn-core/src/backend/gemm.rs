//! A safe wrapper around `matrixmultiply::sgemm` for column-major [`DMatrix<f32>`] operands.
//!
//! nalgebra's own `gemm` only reaches `matrixmultiply` when every dimension exceeds 5 (our output
//! layers have fewer rows) and its `gemm_tr`/`tr_mul` fall back to dot products; transposed
//! operands are expressed here as strides, so no transpose is ever materialised.

use multiversion::multiversion;
use multiversion::target::selected_target;
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

/// Output rows per register block of [`narrow_gemm`] (two AVX2 registers, one AVX-512 register).
pub(crate) const BLOCK_ROWS: usize = 16;
/// Output columns per register block of [`narrow_gemm`].
const BLOCK_COLS: usize = 4;

/// `c += a · b` for a column-major `a` (`m × k`) and a narrow `b` (`k × n`, a few columns).
///
/// sgemm packs both operands on every call; for the lock-step sampling rounds (a 256×256 weight
/// matrix against at most a batch of columns) packing the weights costs as much as the product.
/// This kernel reads `a` in place: a block of 16 consecutive rows of one column of `a` is
/// contiguous, so each step of the inner loop loads 16 weights and multiplies them into a
/// `16 × 4` block of accumulators held in registers. Callers check shapes first.
pub(crate) fn narrow_gemm(a: &DMatrix<f32>, b: &DMatrix<f32>, c: &mut DMatrix<f32>) {
    let (m, k) = product_dims("narrow_gemm", a, b, c);
    narrow_kernel(a.as_slice(), b.as_slice(), c.as_mut_slice(), m, k);
}

/// `(m, k)` of `a` after checking that `c += a · b` is well shaped (a caller's bug otherwise).
fn product_dims(kernel: &str, a: &DMatrix<f32>, b: &DMatrix<f32>, c: &DMatrix<f32>) -> (usize, usize) {
    let (m, k) = a.shape();
    assert!(
        b.nrows() == k && c.shape() == (m, b.ncols()),
        "{kernel} shapes: ({m}×{k})·{:?} into {:?}",
        b.shape(),
        c.shape()
    );
    (m, k)
}

#[multiversion(targets = "simd")]
fn narrow_kernel(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize) {
    // `mul_add` is one instruction where the target has FMA and a slow library call elsewhere.
    if selected_target!().supports_feature_str("fma") {
        narrow_blocks::<true>(a, b, c, m, k);
    } else {
        narrow_blocks::<false>(a, b, c, m, k);
    }
}

/// `c += a · b` for a column-major `a` (`m × k`) and a narrow `b` (`k × n`), reading `a` once,
/// in memory order: for each column `p` of `a`, `c[:, j] += a[:, p] · b[p, j]` for every `j` whose
/// `b[p, j]` is non-zero, with `c` kept in the L1 cache.
///
/// For weights far larger than the caches (the first layer over a 27-taxon alignment's features)
/// with a few columns, the product is bound by reading `a` from memory; a sequential walk lets the
/// hardware prefetchers stream it, and the zero entries of `b` (absent trees, unset Fitch bits)
/// cost nothing. Callers check shapes first.
pub(crate) fn streamed_gemm(a: &DMatrix<f32>, b: &DMatrix<f32>, c: &mut DMatrix<f32>) {
    let (m, k) = product_dims("streamed_gemm", a, b, c);
    streamed_kernel(a.as_slice(), b.as_slice(), c.as_mut_slice(), m, k);
}

#[multiversion(targets = "simd")]
fn streamed_kernel(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize) {
    if m == 0 {
        return;
    }
    let fused = selected_target!().supports_feature_str("fma");
    for (p, a_column) in a.chunks_exact(m).enumerate() {
        for (j, c_column) in c.chunks_exact_mut(m).enumerate() {
            let x = b[j * k + p];
            if x == 0.0 {
                continue;
            }
            if fused {
                for (s, w) in c_column.iter_mut().zip(a_column) {
                    *s = w.mul_add(x, *s);
                }
            } else {
                for (s, w) in c_column.iter_mut().zip(a_column) {
                    *s += w * x;
                }
            }
        }
    }
}

/// The body of [`narrow_kernel`]; `FUSED` selects fused multiply-adds.
#[inline(always)]
fn narrow_blocks<const FUSED: bool>(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize) {
    if m == 0 || k == 0 {
        return;
    }
    let n = b.len() / k;
    for i0 in (0..m).step_by(BLOCK_ROWS) {
        let rows = BLOCK_ROWS.min(m - i0);
        let mut j0 = 0;
        while j0 + BLOCK_COLS <= n {
            block::<BLOCK_COLS, FUSED>(a, b, c, (m, k), (i0, rows), j0);
            j0 += BLOCK_COLS;
        }
        match n - j0 {
            3 => block::<3, FUSED>(a, b, c, (m, k), (i0, rows), j0),
            2 => block::<2, FUSED>(a, b, c, (m, k), (i0, rows), j0),
            1 => block::<1, FUSED>(a, b, c, (m, k), (i0, rows), j0),
            _ => {}
        }
    }
}

/// `c[i0..i0+rows, j0..j0+COLS] += a[i0..i0+rows, :] · b[:, j0..j0+COLS]` with the accumulators in
/// registers (`rows ≤ BLOCK_ROWS`; a partial block is zero-padded).
#[inline(always)]
fn block<const COLS: usize, const FUSED: bool>(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    (m, k): (usize, usize),
    (i0, rows): (usize, usize),
    j0: usize,
) {
    let mut acc = [[0.0f32; BLOCK_ROWS]; COLS];
    let columns: [&[f32]; COLS] = std::array::from_fn(|jj| &b[(j0 + jj) * k..(j0 + jj + 1) * k]);
    if rows == BLOCK_ROWS {
        for (p, a_column) in a.chunks_exact(m).enumerate() {
            let w: &[f32; BLOCK_ROWS] = a_column[i0..i0 + BLOCK_ROWS].try_into().expect("a full block");
            accumulate::<COLS, FUSED>(&mut acc, w, &columns, p);
        }
    } else {
        for (p, a_column) in a.chunks_exact(m).enumerate() {
            let mut w = [0.0f32; BLOCK_ROWS];
            for (wr, ar) in w.iter_mut().zip(&a_column[i0..]) {
                *wr = *ar;
            }
            accumulate::<COLS, FUSED>(&mut acc, &w, &columns, p);
        }
    }
    for (jj, acc_column) in acc.iter().enumerate() {
        let start = (j0 + jj) * m + i0;
        for (out, s) in c[start..start + rows].iter_mut().zip(acc_column) {
            *out += s;
        }
    }
}

/// `acc[:, jj] += w · columns[jj][p]` for every column of the block.
#[inline(always)]
fn accumulate<const COLS: usize, const FUSED: bool>(
    acc: &mut [[f32; BLOCK_ROWS]; COLS],
    w: &[f32; BLOCK_ROWS],
    columns: &[&[f32]; COLS],
    p: usize,
) {
    for (acc_column, column) in acc.iter_mut().zip(columns) {
        let x = column[p];
        for (s, wr) in acc_column.iter_mut().zip(w) {
            *s = if FUSED { wr.mul_add(x, *s) } else { *s + wr * x };
        }
    }
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

    #[test]
    fn narrow_gemm_matches_nalgebra_for_every_block_remainder() {
        for (m, k, n) in [(37, 19, 9), (16, 8, 4), (5, 256, 3), (1, 1, 1), (33, 7, 0), (0, 3, 2)] {
            let a = DMatrix::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f32 - 5.0);
            let b = DMatrix::from_fn(k, n, |i, j| 0.25 * ((i + 2 * j) % 5) as f32 - 0.5);
            let mut c = DMatrix::from_fn(m, n, |i, j| (i + j) as f32);
            let want = &a * &b + &c;
            narrow_gemm(&a, &b, &mut c);
            assert!((c - want).abs().max() < 1e-3, "{m}×{k}·{k}×{n}");
        }
    }

    #[test]
    fn streamed_gemm_matches_nalgebra_with_zero_inputs() {
        for (m, k, n) in [(37, 19, 9), (256, 600, 4), (5, 256, 1), (1, 1, 1), (33, 7, 0), (0, 3, 2), (8, 0, 3)] {
            let a = DMatrix::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f32 - 5.0);
            // Every third input zero, and whole zero rows: the skipped terms.
            let b = DMatrix::from_fn(k, n, |i, j| {
                if (i + j) % 3 == 0 || i % 10 == 9 { 0.0 } else { 0.25 * ((i + 2 * j) % 5) as f32 - 0.5 }
            });
            let mut c = DMatrix::from_fn(m, n, |i, j| (i + j) as f32);
            let want = &a * &b + &c;
            streamed_gemm(&a, &b, &mut c);
            assert_eq!(c, want, "{m}×{k}·{k}×{n}");
        }
    }
}
