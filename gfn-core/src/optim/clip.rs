//! Global-norm gradient clipping over tensor and scalar gradients.

use crate::backend::Backend;
use crate::nn::Param;
use crate::{Error, Result};

/// Clips the global L2 norm of all gradients — every tensor's [`Param::grad`] and every entry of
/// `scalar_grads` (e.g. `d log Z`) — to `max_norm`: if the norm exceeds it, every gradient is
/// multiplied by `max_norm / (norm + 1e-6)` (PyTorch's rule). Returns the norm before clipping.
///
/// `max_norm` must be positive (else [`Error::InvalidConfig`]); a non-finite norm is
/// [`Error::NonFinite`] and leaves the gradients untouched.
///
/// ```
/// use gfn_core::backend::Cpu;
/// use gfn_core::nn::Param;
/// use gfn_core::optim::clip_grad_norm;
/// use nalgebra::DMatrix;
/// let mut p = Param::<Cpu> { value: DMatrix::zeros(1, 1), grad: DMatrix::from_element(1, 1, 3.0) };
/// let mut log_z_grad = [4.0];
/// let norm = clip_grad_norm(&Cpu, &mut [&mut p], &mut log_z_grad, 1.0)?;
/// assert_eq!(norm, 5.0);
/// assert!((log_z_grad[0] - 0.8).abs() < 1e-6);
/// # Ok::<(), gfn_core::Error>(())
/// ```
pub fn clip_grad_norm<B: Backend>(
    backend: &B,
    params: &mut [&mut Param<B>],
    scalar_grads: &mut [f64],
    max_norm: f64,
) -> Result<f64> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        return Err(Error::config("max_norm", max_norm, "must be positive"));
    }
    let mut sum_squares: f64 = scalar_grads.iter().map(|g| g * g).sum();
    for p in params.iter() {
        sum_squares += backend.sum_squares(&p.grad)?;
    }
    let norm = sum_squares.sqrt();
    if !norm.is_finite() {
        return Err(Error::NonFinite { what: "gradient norm".into(), value: norm });
    }
    if norm > max_norm {
        let factor = max_norm / (norm + 1e-6);
        for p in params.iter_mut() {
            backend.scale(&mut p.grad, factor as f32)?;
        }
        for g in scalar_grads.iter_mut() {
            *g *= factor;
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;
    use nalgebra::DMatrix;

    fn param(grad: &[f32]) -> Param<Cpu> {
        Param { value: DMatrix::zeros(grad.len(), 1), grad: DMatrix::from_column_slice(grad.len(), 1, grad) }
    }

    #[test]
    fn rescales_all_gradients_above_the_threshold() {
        let (mut a, mut b) = (param(&[1.0, 2.0]), param(&[2.0]));
        let mut scalars = [4.0];
        let norm = clip_grad_norm(&Cpu, &mut [&mut a, &mut b], &mut scalars, 2.5).unwrap();
        assert!((norm - 5.0).abs() < 1e-12);
        let total = (a.grad.norm_squared() + b.grad.norm_squared()) as f64 + scalars[0].powi(2);
        assert!((total.sqrt() - 2.5).abs() < 1e-5, "{}", total.sqrt());
        assert!((f64::from(a.grad[1]) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn leaves_small_gradients_alone() {
        let mut a = param(&[0.3, 0.4]);
        let norm = clip_grad_norm(&Cpu, &mut [&mut a], &mut [], 1.0).unwrap();
        assert!((norm - 0.5).abs() < 1e-7);
        assert_eq!(a.grad.as_slice(), &[0.3, 0.4]);
    }

    #[test]
    fn rejects_bad_thresholds_and_non_finite_norms() {
        let mut a = param(&[f32::NAN]);
        assert!(matches!(
            clip_grad_norm(&Cpu, &mut [], &mut [1.0], 0.0),
            Err(Error::InvalidConfig { field: "max_norm", .. })
        ));
        assert!(matches!(clip_grad_norm(&Cpu, &mut [&mut a], &mut [], 1.0), Err(Error::NonFinite { .. })));
    }
}
