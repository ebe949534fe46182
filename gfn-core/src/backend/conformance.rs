//! The backend conformance suite: every [`Backend`] op against a straightforward f64 reference on
//! seeded random inputs.
//!
//! [`run_all`] runs every check; each check is also a public function so a backend crate can run
//! them one test at a time. A failure is returned as [`Error::Backend`] naming the op, the entry
//! and both values.
//!
//! ```
//! gfn_core::backend::conformance::run_all(&gfn_core::backend::Cpu)?;
//! # Ok::<(), gfn_core::Error>(())
//! ```

use super::Backend;
use crate::nn::Activation;
use crate::optim::{AdamConfig, AdamStep};
use crate::{Error, Result};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `(out, in, batch)` shapes for the linear checks: tiny, the output-layer shape of the target
/// network (5 rows), a hidden layer, and an empty batch.
const LINEAR_SHAPES: [(usize, usize, usize); 10] = [
    (1, 1, 1),
    (3, 4, 5),
    (5, 256, 17),
    (256, 32, 40),
    (64, 64, 64),
    (7, 3, 0),
    (256, 256, 3),
    (5, 256, 4),
    (40, 24, 13),
    (256, 256, 16),
];

/// Runs every check of this module.
pub fn run_all<B: Backend>(b: &B) -> Result<()> {
    upload_download_round_trip(b)?;
    zeros_and_copy(b)?;
    linear_forward_matches_reference(b)?;
    linear_backward_matches_reference(b)?;
    activation_forward_matches_reference(b)?;
    activation_backward_matches_reference(b)?;
    adam_update_matches_reference(b)?;
    scale_sum_squares_fill_zero_match_reference(b)?;
    gather_columns_matches_reference(b)?;
    output_buffers_are_resized(b)?;
    shape_mismatches_are_errors(b)?;
    Ok(())
}

/// A seeded `rows × cols` matrix with entries uniform in `(−scale, scale)`.
pub fn random_matrix(seed: u64, rows: usize, cols: usize, scale: f32) -> DMatrix<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-scale..scale))
}

/// [`random_matrix`] with all but one entry in eight set to zero (one-hot-like features), or the
/// full random matrix if not `sparse`.
fn input_matrix(seed: u64, rows: usize, cols: usize, sparse: bool) -> DMatrix<f32> {
    let mut m = random_matrix(seed, rows, cols, 1.0);
    if sparse {
        for (i, e) in m.iter_mut().enumerate() {
            if i % 8 != seed as usize % 8 {
                *e = 0.0;
            }
        }
    }
    m
}

fn to_f64(m: &DMatrix<f32>) -> DMatrix<f64> {
    m.map(f64::from)
}

fn fail(what: &str, detail: String) -> Error {
    Error::Backend(format!("conformance `{what}`: {detail}"))
}

/// Checks `got ≈ want` entrywise: `|got − want| ≤ tol · (1 + |want|)`.
fn compare(what: &str, got: &DMatrix<f32>, want: &DMatrix<f64>, tol: f64) -> Result<()> {
    if got.shape() != want.shape() {
        return Err(fail(what, format!("shape {:?}, expected {:?}", got.shape(), want.shape())));
    }
    for (i, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
        let g = f64::from(g);
        let close = (g - w).abs() <= tol * (1.0 + w.abs());
        if !close {
            return Err(fail(what, format!("entry {i}: got {g}, expected {w} (tolerance {tol})")));
        }
    }
    Ok(())
}

/// Tolerance for a sum of `k` products of O(1) f32 values.
fn dot_tolerance(k: usize) -> f64 {
    1e-5 * (4.0 + (k as f64).sqrt())
}

/// `download(upload(m)) == m` exactly, for several shapes including empty ones.
pub fn upload_download_round_trip<B: Backend>(b: &B) -> Result<()> {
    for (seed, (rows, cols)) in [(3, 7), (1, 1), (0, 4), (4, 0), (33, 65)].into_iter().enumerate() {
        let host = random_matrix(seed as u64, rows, cols, 10.0);
        let dev = b.upload(&host)?;
        if b.shape(&dev) != (rows, cols) {
            return Err(fail("shape", format!("{:?} for {rows}×{cols}", b.shape(&dev))));
        }
        if b.download(&dev)? != host {
            return Err(fail("upload/download", format!("{rows}×{cols} not bit-identical")));
        }
    }
    Ok(())
}

/// `zeros` is zero with the right shape; `copy` reproduces its source into any-shaped `dst`.
pub fn zeros_and_copy<B: Backend>(b: &B) -> Result<()> {
    let z = b.download(&b.zeros(5, 3)?)?;
    if z != DMatrix::zeros(5, 3) {
        return Err(fail("zeros", format!("{z}")));
    }
    let src = random_matrix(11, 6, 9, 1.0);
    let mut dst = b.zeros(2, 2)?;
    b.copy(&b.upload(&src)?, &mut dst)?;
    if b.download(&dst)? != src {
        return Err(fail("copy", "copy differs from its source".into()));
    }
    Ok(())
}

/// Every `(shape, sparse)` case of the linear checks: each shape with dense and with sparse inputs.
fn linear_cases() -> impl Iterator<Item = (usize, (usize, usize, usize), bool)> {
    LINEAR_SHAPES.into_iter().enumerate().flat_map(|(i, shape)| [(i, shape, false), (i, shape, true)])
}

/// `linear_forward` against `w·x + b` in f64, with dense and with sparse (one-hot-like) inputs.
pub fn linear_forward_matches_reference<B: Backend>(b: &B) -> Result<()> {
    for (seed, (n_out, n_in, batch), sparse) in linear_cases() {
        let seed = 100 + 3 * seed as u64;
        let w = random_matrix(seed, n_out, n_in, 1.0);
        let bias = random_matrix(seed + 1, n_out, 1, 1.0);
        let x = input_matrix(seed + 2, n_in, batch, sparse);
        let mut want = to_f64(&w) * to_f64(&x);
        for mut column in want.column_iter_mut() {
            column += to_f64(&bias);
        }
        let mut out = b.zeros(0, 0)?;
        b.linear_forward(&b.upload(&w)?, &b.upload(&bias)?, &b.upload(&x)?, &mut out)?;
        let what = format!("linear_forward {n_out}×{n_in}·{n_in}×{batch}, sparse {sparse}");
        compare(&what, &b.download(&out)?, &want, dot_tolerance(n_in))?;
    }
    Ok(())
}

/// `linear_backward` against `dw₀ + dy·xᵀ`, `db₀ + Σ dy`, `wᵀ·dy` in f64 (accumulation included),
/// with dense and with sparse (one-hot-like) inputs.
pub fn linear_backward_matches_reference<B: Backend>(b: &B) -> Result<()> {
    for (seed, (n_out, n_in, batch), sparse) in linear_cases() {
        let seed = 200 + 5 * seed as u64;
        let w = random_matrix(seed, n_out, n_in, 1.0);
        let x = input_matrix(seed + 1, n_in, batch, sparse);
        let dy = random_matrix(seed + 2, n_out, batch, 1.0);
        let dw0 = random_matrix(seed + 3, n_out, n_in, 1.0);
        let db0 = random_matrix(seed + 4, n_out, 1, 1.0);
        let want_dw = to_f64(&dw0) + to_f64(&dy) * to_f64(&x).transpose();
        let mut want_db = to_f64(&db0);
        for column in to_f64(&dy).column_iter() {
            want_db += column;
        }
        let want_dx = to_f64(&w).transpose() * to_f64(&dy);
        let (mut dw, mut db, mut dx) = (b.upload(&dw0)?, b.upload(&db0)?, b.zeros(1, 1)?);
        let (w, x, dy) = (b.upload(&w)?, b.upload(&x)?, b.upload(&dy)?);
        b.linear_backward(&w, &x, &dy, &mut dw, &mut db, Some(&mut dx))?;
        let what = |part: &str| format!("linear_backward {part} ({n_out}, {n_in}, {batch}), sparse {sparse}");
        compare(&what("dw"), &b.download(&dw)?, &want_dw, dot_tolerance(batch))?;
        compare(&what("db"), &b.download(&db)?, &want_db, dot_tolerance(batch))?;
        compare(&what("dx"), &b.download(&dx)?, &want_dx, dot_tolerance(n_out))?;
        // Without dx, the parameter gradients accumulate a second time.
        b.linear_backward(&w, &x, &dy, &mut dw, &mut db, None)?;
        let twice = 2.0 * &want_dw - to_f64(&dw0);
        compare(&what("dw, second call"), &b.download(&dw)?, &twice, 2.0 * dot_tolerance(batch))?;
    }
    Ok(())
}

/// Reference `(act(x), act'(x))` in f64, written independently of [`Activation`]'s methods.
pub(crate) fn activation_reference(act: Activation, x: f64) -> (f64, f64) {
    let sigmoid = 1.0 / (1.0 + (-x).exp());
    match act {
        Activation::Relu => (x.max(0.0), if x > 0.0 { 1.0 } else { 0.0 }),
        Activation::LeakyRelu => {
            if x >= 0.0 {
                (x, 1.0)
            } else {
                (0.01 * x, 0.01)
            }
        }
        Activation::Elu => {
            if x >= 0.0 {
                (x, 1.0)
            } else {
                (x.exp() - 1.0, x.exp())
            }
        }
        Activation::Silu => (x * sigmoid, sigmoid + x * sigmoid * (1.0 - sigmoid)),
        Activation::Tanh => (x.tanh(), 1.0 - x.tanh().powi(2)),
    }
}

/// `activation_forward` for every [`Activation`], including large |x|.
pub fn activation_forward_matches_reference<B: Backend>(b: &B) -> Result<()> {
    let mut x = random_matrix(300, 13, 17, 4.0);
    x[(0, 0)] = 40.0;
    x[(1, 0)] = -40.0;
    let x_dev = b.upload(&x)?;
    for act in Activation::ALL {
        let want = to_f64(&x).map(|v| activation_reference(act, v).0);
        let mut y = b.zeros(0, 0)?;
        b.activation_forward(act, &x_dev, &mut y)?;
        compare(&format!("activation_forward {act}"), &b.download(&y)?, &want, 1e-6)?;
    }
    Ok(())
}

/// `activation_backward` for every [`Activation`], with `y` from `activation_forward`.
pub fn activation_backward_matches_reference<B: Backend>(b: &B) -> Result<()> {
    let x = random_matrix(310, 9, 21, 4.0);
    let dy = random_matrix(311, 9, 21, 2.0);
    let (x_dev, dy_dev) = (b.upload(&x)?, b.upload(&dy)?);
    for act in Activation::ALL {
        let want = to_f64(&x).zip_map(&to_f64(&dy), |v, g| g * activation_reference(act, v).1);
        let (mut y, mut dx) = (b.zeros(0, 0)?, b.zeros(0, 0)?);
        b.activation_forward(act, &x_dev, &mut y)?;
        b.activation_backward(act, &x_dev, &y, &dy_dev, &mut dx)?;
        compare(&format!("activation_backward {act}"), &b.download(&dx)?, &want, 1e-5)?;
    }
    Ok(())
}

/// Three `adam_update` steps, with and without weight decay, against the [`AdamStep`] formula
/// in f64.
pub fn adam_update_matches_reference<B: Backend>(b: &B) -> Result<()> {
    for weight_decay in [0.0, 0.1] {
        let config = AdamConfig { lr: 0.01, weight_decay, ..AdamConfig::default() };
        let p0 = random_matrix(400, 8, 5, 1.0);
        let (mut p, mut m, mut v) = (b.upload(&p0)?, b.zeros(8, 5)?, b.zeros(8, 5)?);
        let mut want_p = to_f64(&p0);
        let mut want_m = DMatrix::<f64>::zeros(8, 5);
        let mut want_v = DMatrix::<f64>::zeros(8, 5);
        for t in 1..=3u64 {
            let grad = random_matrix(400 + t, 8, 5, 1.0);
            b.adam_update(&mut p, &b.upload(&grad)?, &mut m, &mut v, &AdamStep::new(&config, t))?;
            let bc1 = 1.0 - config.beta1.powi(t as i32);
            let bc2 = 1.0 - config.beta2.powi(t as i32);
            for i in 0..want_p.len() {
                let g = f64::from(grad[i]) + weight_decay * want_p[i];
                want_m[i] = config.beta1 * want_m[i] + (1.0 - config.beta1) * g;
                want_v[i] = config.beta2 * want_v[i] + (1.0 - config.beta2) * g * g;
                let denom = (want_v[i] / bc2).sqrt() + config.eps;
                want_p[i] -= config.lr * (want_m[i] / bc1) / denom;
            }
        }
        let what = |part: &str| format!("adam_update {part} (weight_decay {weight_decay})");
        compare(&what("param"), &b.download(&p)?, &want_p, 1e-5)?;
        compare(&what("m"), &b.download(&m)?, &want_m, 1e-5)?;
        compare(&what("v"), &b.download(&v)?, &want_v, 1e-5)?;
    }
    Ok(())
}

/// `scale`, `sum_squares` and `fill_zero` against their definitions.
pub fn scale_sum_squares_fill_zero_match_reference<B: Backend>(b: &B) -> Result<()> {
    let host = random_matrix(500, 37, 29, 3.0);
    let mut m = b.upload(&host)?;
    let want: f64 = host.iter().map(|&x| f64::from(x).powi(2)).sum();
    let got = b.sum_squares(&m)?;
    let close = (got - want).abs() <= 1e-6 * want;
    if !close {
        return Err(fail("sum_squares", format!("got {got}, expected {want}")));
    }
    b.scale(&mut m, -0.5)?;
    compare("scale", &b.download(&m)?, &(to_f64(&host) * -0.5), 1e-7)?;
    b.fill_zero(&mut m)?;
    if b.download(&m)? != DMatrix::zeros(37, 29) {
        return Err(fail("fill_zero", "entries left non-zero".into()));
    }
    Ok(())
}

/// `gather_columns` copies the named columns, in order, from several sources (into a buffer of the
/// wrong shape, which is resized); an empty list gives an empty batch.
pub fn gather_columns_matches_reference<B: Backend>(b: &B) -> Result<()> {
    let hosts = [random_matrix(700, 6, 4, 1.0), random_matrix(701, 6, 1, 1.0), random_matrix(702, 6, 3, 1.0)];
    let sources = hosts.iter().map(|m| b.upload(m)).collect::<Result<Vec<_>>>()?;
    let refs: Vec<&B::Mat> = sources.iter().collect();
    for columns in [vec![(0, 3), (2, 0), (1, 0), (0, 0), (2, 2), (0, 3)], vec![]] {
        let mut out = b.upload(&DMatrix::from_element(2, 9, f32::NAN))?;
        b.gather_columns(&refs, &columns, &mut out)?;
        let got = b.download(&out)?;
        if got.shape() != (6, columns.len()) {
            return Err(fail("gather_columns shape", format!("{:?} for {} columns", got.shape(), columns.len())));
        }
        for (c, &(s, j)) in columns.iter().enumerate() {
            if got.column(c) != hosts[s].column(j) {
                return Err(fail("gather_columns", format!("column {c} is not column {j} of source {s}")));
            }
        }
    }
    Ok(())
}

/// Output buffers of the wrong shape (too large, too small) are resized, and a repeated call
/// gives the same result.
pub fn output_buffers_are_resized<B: Backend>(b: &B) -> Result<()> {
    let w = b.upload(&random_matrix(600, 6, 4, 1.0))?;
    let bias = b.upload(&random_matrix(601, 6, 1, 1.0))?;
    for batch in [9, 3, 12, 3] {
        let x = b.upload(&random_matrix(602, 4, batch, 1.0))?;
        let mut fresh = b.zeros(0, 0)?;
        b.linear_forward(&w, &bias, &x, &mut fresh)?;
        for start in [(1, 1), (6, 20), (50, 50)] {
            let mut out = b.upload(&DMatrix::from_element(start.0, start.1, f32::NAN))?;
            b.linear_forward(&w, &bias, &x, &mut out)?;
            if b.download(&out)? != b.download(&fresh)? {
                return Err(fail("linear_forward resize", format!("from {start:?}, batch {batch}")));
            }
            let mut y = b.upload(&DMatrix::from_element(start.0, start.1, f32::NAN))?;
            b.activation_forward(Activation::Tanh, &out, &mut y)?;
            if b.shape(&y) != (6, batch) {
                return Err(fail("activation_forward resize", format!("{:?}", b.shape(&y))));
            }
        }
    }
    Ok(())
}

/// Every op with mismatched operands returns [`Error::ShapeMismatch`] instead of panicking.
pub fn shape_mismatches_are_errors<B: Backend>(b: &B) -> Result<()> {
    let w = b.zeros(3, 4)?;
    let bias = b.zeros(3, 1)?;
    let x = b.zeros(4, 5)?;
    let bad_x = b.zeros(5, 5)?;
    let dy = b.zeros(3, 5)?;
    let mut out = b.zeros(0, 0)?;
    let (mut dw, mut db) = (b.zeros(3, 4)?, b.zeros(3, 1)?);
    let mut bad_dw = b.zeros(4, 3)?;
    let checks: Vec<(&str, Result<()>)> = vec![
        ("linear_forward input", b.linear_forward(&w, &bias, &bad_x, &mut out)),
        ("linear_forward bias", b.linear_forward(&w, &x, &x, &mut out)),
        ("linear_backward input", b.linear_backward(&w, &bad_x, &dy, &mut dw, &mut db, None)),
        ("linear_backward dy", b.linear_backward(&w, &x, &x, &mut dw, &mut db, None)),
        ("linear_backward dw", b.linear_backward(&w, &x, &dy, &mut bad_dw, &mut db, None)),
        ("activation_backward", b.activation_backward(Activation::Relu, &x, &dy, &x, &mut out)),
        ("adam_update", b.adam_update(&mut dw, &x, &mut db, &mut out, &AdamStep::new(&AdamConfig::default(), 1))),
        ("gather_columns column", b.gather_columns(&[&x, &dy], &[(1, 5)], &mut out)),
        ("gather_columns source", b.gather_columns(&[&x, &dy], &[(0, 0)], &mut out)),
        ("gather_columns index", b.gather_columns(&[&x], &[(1, 0)], &mut out)),
    ];
    for (what, result) in checks {
        if !matches!(result, Err(Error::ShapeMismatch { .. })) {
            return Err(fail(what, format!("expected ShapeMismatch, got {result:?}")));
        }
    }
    Ok(())
}
