//! Products that skip the zero entries of an input: one-hot features, and sampling rounds through
//! weights larger than the caches.

use multiversion::multiversion;
use multiversion::target::selected_target;
use nalgebra::DMatrix;

use super::product_dims;

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
    const FUSED: bool = selected_target!().supports_feature_str("fma");
    for (p, a_column) in a.chunks_exact(m).enumerate() {
        for (j, c_column) in c.chunks_exact_mut(m).enumerate() {
            let x = b[j * k + p];
            if x != 0.0 {
                axpy::<FUSED>(c_column, a_column, x);
            }
        }
    }
}

/// `dw += dy · xᵀ` for an `x` (`k × n`) with few non-zero entries (one-hot features): each
/// non-zero `x[p, t]` adds `x[p, t] · dy[:, t]` to column `p` of `dw`, in the order of `t`.
/// sgemm would spend `m · k · n` multiply-adds on the product; this spends `m` per non-zero
/// entry. Callers check shapes first.
pub(crate) fn sparse_outer_gemm(dy: &DMatrix<f32>, x: &DMatrix<f32>, dw: &mut DMatrix<f32>) {
    let (m, n) = dy.shape();
    let k = x.nrows();
    assert!(
        x.ncols() == n && dw.shape() == (m, k),
        "sparse_outer_gemm shapes: ({m}×{n})·({k}×{})ᵀ into {:?}",
        x.ncols(),
        dw.shape()
    );
    sparse_outer_kernel(dy.as_slice(), x.as_slice(), dw.as_mut_slice(), m, k);
}

#[multiversion(targets = "simd")]
fn sparse_outer_kernel(dy: &[f32], x: &[f32], dw: &mut [f32], m: usize, k: usize) {
    if m == 0 || k == 0 {
        return;
    }
    const FUSED: bool = selected_target!().supports_feature_str("fma");
    for (dy_column, x_column) in dy.chunks_exact(m).zip(x.chunks_exact(k)) {
        for (p, &v) in x_column.iter().enumerate() {
            if v != 0.0 {
                axpy::<FUSED>(&mut dw[p * m..(p + 1) * m], dy_column, v);
            }
        }
    }
}

/// `y += a · x`, with fused multiply-adds if `FUSED` (one instruction where the target has FMA).
#[inline(always)]
fn axpy<const FUSED: bool>(y: &mut [f32], a: &[f32], x: f32) {
    if FUSED {
        for (s, w) in y.iter_mut().zip(a) {
            *s = w.mul_add(x, *s);
        }
    } else {
        for (s, w) in y.iter_mut().zip(a) {
            *s += w * x;
        }
    }
}

/// Whether every column of `x` has at most one non-zero entry in [`SPARSE_MAX_DENSITY_INVERSE`]
/// (one-hot features). Hidden activations are dense, and their first column decides.
pub(crate) fn is_sparse(x: &DMatrix<f32>) -> bool {
    let rows = x.nrows();
    let limit = rows / SPARSE_MAX_DENSITY_INVERSE;
    rows > 0
        && x.as_slice().chunks_exact(rows).all(|column| {
            let nonzero: usize = column.iter().map(|&v| usize::from(v != 0.0)).sum();
            nonzero <= limit
        })
}

/// Inputs with at most one non-zero entry in this many per column are [`is_sparse`].
const SPARSE_MAX_DENSITY_INVERSE: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_outer_gemm_matches_nalgebra() {
        for (m, k, n) in [(37, 19, 9), (256, 32, 16), (5, 256, 1), (1, 1, 1), (33, 7, 0), (0, 3, 2), (8, 0, 3)] {
            let dy = DMatrix::from_fn(m, n, |i, j| ((i * 7 + j * 3) % 11) as f32 - 5.0);
            // One-hot-like inputs: a few non-zero entries per column, some of them not 1.
            let x = DMatrix::from_fn(k, n, |i, j| match (i + 3 * j) % 8 {
                0 => 1.0,
                5 => -0.5,
                _ => 0.0,
            });
            let mut dw = DMatrix::from_fn(m, k, |i, j| (i + j) as f32);
            let want = &dy * x.transpose() + &dw;
            sparse_outer_gemm(&dy, &x, &mut dw);
            assert_eq!(dw, want, "({m}×{n})·({k}×{n})ᵀ");
        }
        let mut x = DMatrix::from_fn(8, 4, |i, j| if i == j { 1.0 } else { 0.0 });
        assert!(is_sparse(&x) && !is_sparse(&DMatrix::from_element(8, 4, 0.5)));
        x[(5, 3)] = 2.0;
        x[(6, 3)] = 3.0;
        assert!(!is_sparse(&x), "one column with 3 of 8 entries non-zero");
        assert!(!is_sparse(&DMatrix::zeros(0, 3)));
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
