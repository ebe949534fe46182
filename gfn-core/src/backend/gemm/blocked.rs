//! Register-blocked products for narrow batches (the lock-step sampling rounds): the weights are
//! read in place, without sgemm's packing, into blocks of accumulators held in registers.

use multiversion::multiversion;
use multiversion::target::selected_target;
use nalgebra::DMatrix;

use super::product_dims;

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
/// `16 × 4` block of accumulators held in registers (taller blocks for the last one to three
/// columns). Callers check shapes first.
pub(crate) fn narrow_gemm(a: &DMatrix<f32>, b: &DMatrix<f32>, c: &mut DMatrix<f32>) {
    let (m, k) = product_dims("narrow_gemm", a, b, c);
    narrow_kernel(a.as_slice(), b.as_slice(), c.as_mut_slice(), m, k);
}

#[multiversion(targets = "simd")]
fn narrow_kernel(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize) {
    // `mul_add` is one instruction where the target has FMA and a slow library call elsewhere.
    // (A constant: the target is known when this version is compiled.)
    const FUSED: bool = selected_target!().supports_feature_str("fma");
    narrow_blocks::<FUSED>(a, b, c, m, k);
}

/// The body of [`narrow_kernel`]; `FUSED` selects fused multiply-adds.
///
/// Register blocks of `BLOCK_ROWS × BLOCK_COLS` accumulators cover the columns in groups of
/// [`BLOCK_COLS`], row block by row block (so a row block of `a` is read from memory once and
/// from the L1 cache for its other column groups). The last one to three columns use taller
/// blocks: keeping both FMA units busy takes as many independent accumulator registers as the
/// FMA latency times two (8–10), and a 16-row block of one column has two.
#[inline(always)]
fn narrow_blocks<const FUSED: bool>(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize) {
    if m == 0 || k == 0 {
        return;
    }
    let n = b.len() / k;
    let full = n - n % BLOCK_COLS;
    if full > 0 {
        for i0 in (0..m).step_by(BLOCK_ROWS) {
            for j0 in (0..full).step_by(BLOCK_COLS) {
                block::<BLOCK_ROWS, BLOCK_COLS, FUSED>(a, b, c, (m, k), i0, j0);
            }
        }
    }
    match n - full {
        3 => row_blocks::<32, 3, FUSED>(a, b, c, (m, k), full),
        2 => row_blocks::<32, 2, FUSED>(a, b, c, (m, k), full),
        1 => row_blocks::<64, 1, FUSED>(a, b, c, (m, k), full),
        _ => {}
    }
}

/// `c[:, j0..j0+COLS] += a · b[:, j0..j0+COLS]`, one `ROWS`-row block after another.
#[inline(always)]
fn row_blocks<const ROWS: usize, const COLS: usize, const FUSED: bool>(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    (m, k): (usize, usize),
    j0: usize,
) {
    for i0 in (0..m).step_by(ROWS) {
        block::<ROWS, COLS, FUSED>(a, b, c, (m, k), i0, j0);
    }
}

/// `c[i0..i0+ROWS, j0..j0+COLS] += a[i0..i0+ROWS, :] · b[:, j0..j0+COLS]` with the accumulators
/// in registers (a partial block at the bottom of `c` is zero-padded).
#[inline(always)]
fn block<const ROWS: usize, const COLS: usize, const FUSED: bool>(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    (m, k): (usize, usize),
    i0: usize,
    j0: usize,
) {
    let rows = ROWS.min(m - i0);
    let mut acc = [[0.0f32; ROWS]; COLS];
    let columns: [&[f32]; COLS] = std::array::from_fn(|jj| &b[(j0 + jj) * k..(j0 + jj + 1) * k]);
    if rows == ROWS {
        for (p, a_column) in a.chunks_exact(m).enumerate() {
            let w: &[f32; ROWS] = a_column[i0..i0 + ROWS].try_into().expect("a full block");
            accumulate::<ROWS, COLS, FUSED>(&mut acc, w, &columns, p);
        }
    } else {
        for (p, a_column) in a.chunks_exact(m).enumerate() {
            let mut w = [0.0f32; ROWS];
            for (wr, ar) in w.iter_mut().zip(&a_column[i0..]) {
                *wr = *ar;
            }
            accumulate::<ROWS, COLS, FUSED>(&mut acc, &w, &columns, p);
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
fn accumulate<const ROWS: usize, const COLS: usize, const FUSED: bool>(
    acc: &mut [[f32; ROWS]; COLS],
    w: &[f32; ROWS],
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

/// `c += a · b` for an `a` with at most [`SHORT_ROWS`] rows (an output layer: a few logits per
/// state) and a narrow `b`, in register blocks of one vector of rows × [`SHORT_COLS`] columns.
/// A column of `a` (`m` floats) is read as the [`SHORT_ROWS`] floats from its start: the lanes
/// past `m` multiply the next column's weights and are discarded (the last columns, where the
/// read would run past `a`, come from a zero-padded copy). sgemm would pack both operands for a
/// product of a few thousand multiply-adds, and a matrix-vector product walks the short columns
/// of `a` once per column of `b`. Callers check shapes first.
pub(crate) fn short_gemm(a: &DMatrix<f32>, b: &DMatrix<f32>, c: &mut DMatrix<f32>) {
    let (m, k) = product_dims("short_gemm", a, b, c);
    assert!(m <= SHORT_ROWS, "short_gemm: {m} rows");
    if m == 0 || k == 0 {
        return;
    }
    // Columns from `whole` on are read from `tail`, each padded to SHORT_ROWS floats: the window
    // of column p ends at p·m + SHORT_ROWS, so at most SHORT_ROWS columns (m ≥ 1) need padding.
    let whole = a.len().checked_sub(SHORT_ROWS).map_or(0, |last| (last / m + 1).min(k));
    let mut tail = [0.0; SHORT_ROWS * SHORT_ROWS];
    let tail = &mut tail[..(k - whole) * SHORT_ROWS];
    for (dst, src) in tail.chunks_exact_mut(SHORT_ROWS).zip(a.as_slice()[whole * m..].chunks_exact(m)) {
        dst[..m].copy_from_slice(src);
    }
    short_kernel(a.as_slice(), tail, b.as_slice(), c.as_mut_slice(), (m, k, whole));
}

/// Rows of [`short_gemm`]'s register blocks (one AVX2 register).
pub(crate) const SHORT_ROWS: usize = 8;
/// Columns of [`short_gemm`]'s register blocks.
const SHORT_COLS: usize = 8;

#[multiversion(targets = "simd")]
fn short_kernel(a: &[f32], tail: &[f32], b: &[f32], c: &mut [f32], dims: (usize, usize, usize)) {
    const FUSED: bool = selected_target!().supports_feature_str("fma");
    let k = dims.1;
    let n = b.len() / k;
    let full = n - n % SHORT_COLS;
    for j0 in (0..full).step_by(SHORT_COLS) {
        short_block::<SHORT_COLS, FUSED>(a, tail, b, c, dims, j0);
    }
    match n - full {
        7 => short_block::<7, FUSED>(a, tail, b, c, dims, full),
        6 => short_block::<6, FUSED>(a, tail, b, c, dims, full),
        5 => short_block::<5, FUSED>(a, tail, b, c, dims, full),
        4 => short_block::<4, FUSED>(a, tail, b, c, dims, full),
        3 => short_block::<3, FUSED>(a, tail, b, c, dims, full),
        2 => short_block::<2, FUSED>(a, tail, b, c, dims, full),
        1 => short_block::<1, FUSED>(a, tail, b, c, dims, full),
        _ => {}
    }
}

/// `c[:, j0..j0+COLS] += a · b[:, j0..j0+COLS]` for [`short_gemm`] (`dims` = `(m, k, whole)`).
#[inline(always)]
fn short_block<const COLS: usize, const FUSED: bool>(
    a: &[f32],
    tail: &[f32],
    b: &[f32],
    c: &mut [f32],
    (m, k, whole): (usize, usize, usize),
    j0: usize,
) {
    let mut acc = [[0.0f32; SHORT_ROWS]; COLS];
    let columns: [&[f32]; COLS] = std::array::from_fn(|jj| &b[(j0 + jj) * k..(j0 + jj + 1) * k]);
    for p in 0..whole {
        let w: &[f32; SHORT_ROWS] = a[p * m..p * m + SHORT_ROWS].try_into().expect("a full window");
        accumulate::<SHORT_ROWS, COLS, FUSED>(&mut acc, w, &columns, p);
    }
    for (p, w) in (whole..k).zip(tail.chunks_exact(SHORT_ROWS)) {
        let w: &[f32; SHORT_ROWS] = w.try_into().expect("a padded column");
        accumulate::<SHORT_ROWS, COLS, FUSED>(&mut acc, w, &columns, p);
    }
    for (jj, acc_column) in acc.iter().enumerate() {
        let start = (j0 + jj) * m;
        for (out, s) in c[start..start + m].iter_mut().zip(acc_column) {
            *out += s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn short_gemm_matches_nalgebra_for_every_column_remainder() {
        for (m, k, n) in [(5, 256, 16), (8, 19, 3), (1, 7, 1), (4, 8, 2), (7, 1, 9), (6, 0, 2), (0, 3, 2), (3, 33, 0)] {
            let a = DMatrix::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f32 - 5.0);
            let b = DMatrix::from_fn(k, n, |i, j| 0.25 * ((i + 2 * j) % 5) as f32 - 0.5);
            let mut c = DMatrix::from_fn(m, n, |i, j| (i + j) as f32);
            let want = &a * &b + &c;
            short_gemm(&a, &b, &mut c);
            assert!((c - want).abs().max() < 1e-3, "{m}×{k}·{k}×{n}");
        }
    }
}
