//! Per-step log-terms of a batch of trajectories under a policy, and the map from objective
//! coefficients back to logit gradients.

mod continuous;

use nalgebra::DMatrix;

use crate::env::Environment;
use crate::objective::{Requirements, TermGrads, TrajectoryTerms};
use crate::policy::categorical::{add_log_prob_grad, masked_log_softmax_into};
use crate::policy::{HeadLayout, PolicyOutput};
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// The log-terms of every step of a batch, with the full log-probability rows needed for the
/// backward pass.
#[derive(Debug, Default, Clone)]
pub struct StepTerms {
    /// Forward log-softmax rows, `A` per step.
    pub forward_log_probs: Vec<f64>,
    /// Learned backward log-softmax rows of each step's state, `A` per step (empty for uniform).
    pub backward_log_probs: Vec<f64>,
    /// `log P_F(a_t | s_t)`, plus the log-density of the step's continuous values in hybrid
    /// environments.
    pub log_pf: Vec<f64>,
    /// `log P_B(s_t | s_{t+1})`, 0 on exit steps.
    pub log_pb: Vec<f64>,
    /// `log F(s_t)` (empty without a flow head).
    pub log_flow: Vec<f64>,
    /// `log P_F(s_f | s_t)`.
    pub log_pf_exit: Vec<f64>,
    /// `log R(s_t)` where the state may exit, else `-inf` (only when required).
    pub log_reward_state: Vec<f64>,
    actions: usize,
    /// Hybrid environments: `(step, trunk row, ∂ log p(x_t) / ∂ row)` of the continuous values.
    density_grads: continuous::DensityGrads,
}

impl StepTerms {
    /// Computes the terms of `traj` from the policy outputs on its states (`output` column `t` is
    /// the state of step `t`). `log_reward_state` is filled when `requirements` ask for it.
    pub fn compute<E: Environment>(
        env: &E,
        traj: &Trajectories<E::State>,
        output: &PolicyOutput,
        requirements: &Requirements,
    ) -> Result<Self> {
        let a = traj.action_count;
        let steps = traj.step_count();
        let exit = env.exit_action();
        let mut t_out = StepTerms { actions: a, ..Default::default() };
        t_out.forward_log_probs.resize(steps * a, 0.0);
        for t in 0..steps {
            let row = &mut t_out.forward_log_probs[t * a..(t + 1) * a];
            masked_log_softmax_into(output.forward_logits(t), traj.forward_mask(t), row);
            let lp = row[traj.actions[t]];
            if lp == f64::NEG_INFINITY {
                return Err(Error::InvalidAction {
                    action: traj.actions[t],
                    state: format!("{:?}", traj.states[t]),
                    reason: "the recorded action is masked out".into(),
                });
            }
            t_out.log_pf.push(lp);
            t_out.log_pf_exit.push(row[exit]);
            if let Some(f) = output.log_flow(t) {
                t_out.log_flow.push(f);
            }
        }
        t_out.density_grads = continuous::add_log_densities(env, traj, output, &mut t_out.log_pf)?;
        let learned = output.backward_logits(0).is_some() && steps > 0;
        if learned {
            t_out.backward_log_probs.resize(steps * a, 0.0);
            for t in 0..steps {
                let logits = output.backward_logits(t).unwrap_or(&[]);
                masked_log_softmax_into(
                    logits,
                    traj.backward_mask(t),
                    &mut t_out.backward_log_probs[t * a..(t + 1) * a],
                );
            }
        }
        for i in 0..traj.len() {
            let r = traj.steps(i);
            for t in r.clone() {
                let lpb = if t + 1 == r.end {
                    0.0
                } else if learned {
                    t_out.backward_log_probs[(t + 1) * a + traj.actions[t]]
                } else {
                    let parents = traj.backward_mask(t + 1).iter().filter(|m| **m).count();
                    -(parents as f64).ln()
                };
                t_out.log_pb.push(lpb);
            }
        }
        if requirements.log_reward_state {
            for t in 0..steps {
                let value = if traj.forward_mask(t)[exit] {
                    crate::env::EnvironmentExt::checked_log_reward(env, &traj.states[t])?
                } else {
                    f64::NEG_INFINITY
                };
                t_out.log_reward_state.push(value);
            }
        }
        Ok(t_out)
    }

    /// The objective's view of these terms.
    pub fn view<'a>(&'a self, traj: &'a Trajectories<impl Sized>, log_z: Option<f64>) -> TrajectoryTerms<'a> {
        TrajectoryTerms {
            offsets: &traj.offsets,
            log_pf: &self.log_pf,
            log_pb: &self.log_pb,
            log_flow: (!self.log_flow.is_empty()).then_some(&self.log_flow[..]),
            log_pf_exit: Some(&self.log_pf_exit),
            log_reward_state: (!self.log_reward_state.is_empty()).then_some(&self.log_reward_state[..]),
            log_reward: &traj.log_reward,
            log_z,
        }
    }

    /// Per-trajectory `log w = log R(x) + Σ log P_B − Σ log P_F` (its mean is an ELBO of `log Z`
    /// on-policy).
    pub fn log_weights(&self, traj: &Trajectories<impl Sized>) -> Vec<f64> {
        (0..traj.len())
            .map(|i| traj.log_reward[i] - traj.steps(i).map(|t| self.log_pf[t] - self.log_pb[t]).sum::<f64>())
            .collect()
    }

    /// Turns objective coefficients into logit gradients: the trunk gradient (trunk layout) and,
    /// for a separate backward network, its logit gradient.
    pub fn logit_grads(
        &self,
        traj: &Trajectories<impl Sized>,
        grads: &TermGrads,
        layout: HeadLayout,
        separate_backward: bool,
        exit: usize,
    ) -> (DMatrix<f32>, Option<DMatrix<f32>>) {
        let a = self.actions;
        let steps = traj.step_count();
        let rows = layout.rows();
        let mut d_trunk = DMatrix::<f32>::zeros(rows, steps);
        let mut d_back = separate_backward.then(|| DMatrix::<f32>::zeros(a, steps));
        for t in 0..steps {
            let lp = &self.forward_log_probs[t * a..(t + 1) * a];
            let col = &mut d_trunk.as_mut_slice()[t * rows..(t + 1) * rows];
            add_log_prob_grad(lp, traj.actions[t], grads.log_pf[t], &mut col[..a]);
            if let Some(&g) = grads.log_pf_exit.get(t) {
                add_log_prob_grad(lp, exit, g, &mut col[..a]);
            }
            if let (Some(r), Some(&g)) = (layout.flow_row, grads.log_flow.get(t)) {
                col[r] += g as f32;
            }
        }
        for &(t, row, d) in &self.density_grads {
            d_trunk[(row, t)] += (grads.log_pf[t] * d) as f32;
        }
        if !self.backward_log_probs.is_empty() {
            for i in 0..traj.len() {
                let r = traj.steps(i);
                for t in r.start..r.end - 1 {
                    let g = grads.log_pb[t];
                    let lq = &self.backward_log_probs[(t + 1) * a..(t + 2) * a];
                    match (&mut d_back, layout.backward_offset) {
                        (Some(d), _) => {
                            add_log_prob_grad(lq, traj.actions[t], g, &mut d.as_mut_slice()[(t + 1) * a..(t + 2) * a]);
                        }
                        (None, Some(o)) => {
                            let col = &mut d_trunk.as_mut_slice()[(t + 1) * rows..(t + 2) * rows];
                            add_log_prob_grad(lq, traj.actions[t], g, &mut col[o..o + a]);
                        }
                        (None, None) => {}
                    }
                }
            }
        }
        (d_trunk, d_back)
    }
}

/// The feature matrix (`feature_dim × steps`) of a batch.
pub fn feature_matrix<S>(traj: &Trajectories<S>) -> DMatrix<f32> {
    DMatrix::from_column_slice(traj.feature_dim, traj.step_count(), &traj.features)
}

/// [`feature_matrix`] without a copy: moves the features out of `traj`, leaving its `features`
/// empty (for a batch that is evaluated once, as a training step's is).
pub fn take_feature_matrix<S>(traj: &mut Trajectories<S>) -> DMatrix<f32> {
    DMatrix::from_vec(traj.feature_dim, traj.step_count(), std::mem::take(&mut traj.features))
}
