//! Divergence objectives in the trainer: the estimator of each step (Tsallis moves its reference
//! `log Z` between steps) and the per-sample optimal control variates (ALGORITHMS §2.5).

use std::any::Any;

use super::config::{ControlVariateKind, ObjectiveConfig, ObjectiveKind};
use crate::backend::{Backend, Cpu};
use crate::objective::{
    AlphaKl, AlphaTb, ControlVariate, Divergence, ForwardKl, OptVectorBaseline, Renyi, Requirements, ReverseKl,
    Sampling, ScoreSignal, TermGrads, TrajectoryTerms, Tsallis,
};
use crate::policy::{Policy, PolicyCache};
use crate::terms::StepTerms;
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// A divergence objective as configured.
#[derive(Debug, Clone, Copy)]
pub(super) struct DivergenceSpec {
    kind: ObjectiveKind,
    alpha: f64,
    control_variate: ControlVariateKind,
    sampling: Sampling,
}

/// The estimator of one step.
struct StepEstimator {
    /// Loss and per-trajectory coefficients (without a baseline under opt-vector).
    objective: Box<dyn Divergence>,
    /// The score signal, for opt-vector only.
    signal: Option<Box<dyn ScoreSignal>>,
}

impl DivergenceSpec {
    /// The spec of a divergence `config` (validated by building its estimator once), `None` for
    /// the other objectives.
    pub(super) fn new(config: &ObjectiveConfig) -> Result<Option<Self>> {
        if !config.kind.is_divergence() {
            return Ok(None);
        }
        let spec = DivergenceSpec {
            kind: config.kind,
            alpha: config.alpha,
            control_variate: config.control_variate(),
            sampling: if config.from_targets { Sampling::Target } else { Sampling::OnPolicy },
        };
        spec.build(0.0)?;
        Ok(Some(spec))
    }

    /// Whether a step needs per-trajectory parameter gradients (one network column per step).
    pub(super) fn needs_per_sample_gradients(&self) -> bool {
        self.control_variate.needs_per_sample_gradients()
    }

    /// Checks that `backend` can compute the per-sample gradients the control variate needs.
    pub(super) fn check_backend<B: Backend>(&self, backend: &B) -> Result<()> {
        let per_sample = self.needs_per_sample_gradients();
        if per_sample && (backend as &dyn Any).downcast_ref::<Cpu>().is_none() {
            return Err(Error::config(
                "cv",
                self.control_variate.name(),
                format!("needs per-sample gradients, which only the cpu backend computes (not {})", backend.name()),
            ));
        }
        Ok(())
    }

    /// What the estimator needs.
    pub(super) fn requirements(&self) -> Result<Requirements> {
        Ok(self.build(0.0)?.objective.requirements())
    }

    /// The estimator, with the Tsallis reference `log_z_ref`.
    fn build(&self, log_z_ref: f64) -> Result<StepEstimator> {
        fn scored<T: Divergence + ScoreSignal + Copy + 'static>(x: T, vector: bool) -> StepEstimator {
            StepEstimator { objective: Box::new(x), signal: vector.then(|| Box::new(x) as Box<dyn ScoreSignal>) }
        }
        let vector = self.control_variate == ControlVariateKind::OptVector;
        let cv = if vector { ControlVariate::None } else { self.control_variate.control_variate() };
        let alpha = self.alpha;
        Ok(match self.kind {
            ObjectiveKind::Rkl => scored(ReverseKl::new(cv)?, vector),
            ObjectiveKind::Fkl => scored(ForwardKl::new(self.sampling, cv)?, vector),
            ObjectiveKind::Renyi => scored(Renyi::new(alpha, cv)?, vector),
            ObjectiveKind::Tsallis => scored(Tsallis::new(alpha, log_z_ref, cv)?, vector),
            ObjectiveKind::Akl if !vector => {
                StepEstimator { objective: Box::new(AlphaKl::new(alpha, cv)?), signal: None }
            }
            ObjectiveKind::Atb if !vector => StepEstimator { objective: Box::new(AlphaTb::new(alpha)?), signal: None },
            other => {
                return Err(Error::config(
                    "cv",
                    self.control_variate.name(),
                    format!("{other} has no score signal for the per-parameter baseline"),
                ));
            }
        })
    }
}

/// One batch's view for [`evaluate`].
pub(super) struct Batch<'a, S, B: Backend> {
    /// The trajectories.
    pub traj: &'a Trajectories<S>,
    /// Their log-terms.
    pub terms: &'a StepTerms,
    /// The objective's view of the terms.
    pub view: TrajectoryTerms<'a>,
    /// The policy, after [`Policy::forward`] on the batch's states into `cache`.
    pub policy: &'a Policy<B>,
    /// The forward pass's activations.
    pub cache: &'a PolicyCache<B>,
    /// The exit action of the environment.
    pub exit: usize,
}

impl<S, B: Backend> Batch<'_, S, B> {
    /// The trunk output gradient of unit coefficients on every `log P_F` step: its per-trajectory
    /// parameter gradients are the scores `∇_θ lF(τ_i)`.
    fn score_output_grad(&self) -> nalgebra::DMatrix<f32> {
        let steps = self.traj.step_count();
        let unit = TermGrads { log_pf: vec![1.0; steps], log_pb: vec![0.0; steps], ..TermGrads::default() };
        let layout = self.policy.layout();
        self.terms.logit_grads(self.traj, &unit, layout, false, self.exit).0
    }
}

/// Evaluates the divergence `spec` on `batch` into `grads` (Tsallis around `log_z_ref`). Returns
/// the loss and, for opt-vector, the trunk `θ`-gradient to add after the backward pass of `grads`
/// (whose `log P_F` coefficients are then zero: the vector baseline replaces them).
pub(super) fn evaluate<S, B: Backend>(
    spec: &DivergenceSpec,
    log_z_ref: f64,
    batch: &Batch<'_, S, B>,
    grads: &mut TermGrads,
) -> Result<(f64, Option<Vec<f64>>)> {
    let estimator = spec.build(log_z_ref)?;
    match spec.control_variate {
        ControlVariateKind::OptScalar => {
            let d = batch.score_output_grad();
            let norms = batch.policy.trunk_sq_norms(batch.cache, &d, &batch.traj.offsets)?;
            Ok((estimator.objective.evaluate_with_scores(&batch.view, Some(&norms), grads)?, None))
        }
        ControlVariateKind::OptVector => {
            let signal = estimator
                .signal
                .as_ref()
                .ok_or_else(|| Error::config("cv", "opt-vector", format!("{} has no score signal", spec.kind)))?;
            let d = batch.score_output_grad();
            let baseline = OptVectorBaseline::new(&signal.signal(&batch.view)?)?;
            if batch.traj.offsets.len() != baseline.batch_size() + 1 {
                return Err(Error::ShapeMismatch {
                    op: "opt-vector: trajectories vs signal",
                    expected: (baseline.batch_size(), 1),
                    got: (batch.traj.offsets.len().saturating_sub(1), 1),
                });
            }
            let mut theta = vec![0.0; batch.policy.trunk_parameter_count()];
            batch.policy.trunk_grad_blocks(batch.cache, &d, &batch.traj.offsets, |offset, block| {
                let len = block.len() / baseline.batch_size();
                baseline.gradient_block(block, &mut theta[offset..offset + len])
            })?;
            let loss = estimator.objective.evaluate(&batch.view, grads)?;
            grads.log_pf.fill(0.0);
            Ok((loss, Some(theta)))
        }
        _ => Ok((estimator.objective.evaluate(&batch.view, grads)?, None)),
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;
    use crate::nn::Activation;
    use crate::optim::AdamStep;
    use crate::policy::PolicyConfig;

    /// The CPU kernels under another backend type (as a GPU backend would be).
    #[derive(Debug, Clone)]
    struct Other;

    impl Backend for Other {
        type Mat = DMatrix<f32>;
        fn name(&self) -> &'static str {
            "other"
        }
        fn upload(&self, host: &DMatrix<f32>) -> Result<DMatrix<f32>> {
            Cpu.upload(host)
        }
        fn download(&self, m: &DMatrix<f32>) -> Result<DMatrix<f32>> {
            Cpu.download(m)
        }
        fn zeros(&self, rows: usize, cols: usize) -> Result<DMatrix<f32>> {
            Cpu.zeros(rows, cols)
        }
        fn shape(&self, m: &DMatrix<f32>) -> (usize, usize) {
            Cpu.shape(m)
        }
        fn copy(&self, src: &DMatrix<f32>, dst: &mut DMatrix<f32>) -> Result<()> {
            Cpu.copy(src, dst)
        }
        fn linear_forward(&self, w: &Self::Mat, b: &Self::Mat, x: &Self::Mat, out: &mut Self::Mat) -> Result<()> {
            Cpu.linear_forward(w, b, x, out)
        }
        fn linear_backward(
            &self,
            w: &Self::Mat,
            x: &Self::Mat,
            dy: &Self::Mat,
            dw: &mut Self::Mat,
            db: &mut Self::Mat,
            dx: Option<&mut Self::Mat>,
        ) -> Result<()> {
            Cpu.linear_backward(w, x, dy, dw, db, dx)
        }
        fn activation_forward(&self, act: Activation, x: &Self::Mat, y: &mut Self::Mat) -> Result<()> {
            Cpu.activation_forward(act, x, y)
        }
        fn activation_backward(
            &self,
            act: Activation,
            x: &Self::Mat,
            y: &Self::Mat,
            dy: &Self::Mat,
            dx: &mut Self::Mat,
        ) -> Result<()> {
            Cpu.activation_backward(act, x, y, dy, dx)
        }
        fn adam_update(
            &self,
            param: &mut Self::Mat,
            grad: &Self::Mat,
            m: &mut Self::Mat,
            v: &mut Self::Mat,
            step: &AdamStep,
        ) -> Result<()> {
            Cpu.adam_update(param, grad, m, v, step)
        }
        fn scale(&self, m: &mut Self::Mat, factor: f32) -> Result<()> {
            Cpu.scale(m, factor)
        }
        fn sum_squares(&self, m: &Self::Mat) -> Result<f64> {
            Cpu.sum_squares(m)
        }
        fn fill_zero(&self, m: &mut Self::Mat) -> Result<()> {
            Cpu.fill_zero(m)
        }
        fn gather_columns(
            &self,
            sources: &[&Self::Mat],
            columns: &[(usize, usize)],
            out: &mut Self::Mat,
        ) -> Result<()> {
            Cpu.gather_columns(sources, columns, out)
        }
    }

    #[test]
    fn per_sample_control_variates_need_the_cpu_backend() {
        for cv in [ControlVariateKind::OptScalar, ControlVariateKind::OptVector] {
            let config = ObjectiveConfig { kind: ObjectiveKind::Rkl, control_variate: Some(cv), ..Default::default() };
            let spec = DivergenceSpec::new(&config).unwrap().unwrap();
            spec.check_backend(&Cpu).unwrap();
            let err = spec.check_backend(&Other).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { field: "cv", .. }), "{err}");
            assert!(err.to_string().contains("cpu") && err.to_string().contains("other"), "{err}");
        }
        let loo = ObjectiveConfig { kind: ObjectiveKind::Rkl, ..Default::default() };
        DivergenceSpec::new(&loo).unwrap().unwrap().check_backend(&Other).unwrap();
        // The policy refuses per-sample gradients on another backend as well.
        let config = PolicyConfig { hidden: vec![4], ..PolicyConfig::default() };
        let mut rng = crate::rng::stream(0, crate::rng::Purpose::Init, &[]);
        let policy = Policy::new(Other, &config, 3, 2, false, &mut rng).unwrap();
        let mut cache = PolicyCache::default();
        policy.forward(DMatrix::zeros(3, 2), &mut cache).unwrap();
        let err = policy.trunk_sq_norms(&cache, &DMatrix::zeros(2, 2), &[0, 2]).unwrap_err();
        assert!(err.to_string().contains("cpu backend"), "{err}");
    }
}
