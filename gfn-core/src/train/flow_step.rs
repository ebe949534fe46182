//! The flow-matching training step: conservation of edge flows at every visited state.

use nalgebra::DMatrix;

use crate::Result;
use crate::backend::Backend;
use crate::env::{Environment, EnvironmentExt};
use crate::objective::{FlowGrads, FlowMatching, FlowTerms};
use crate::policy::{Policy, PolicyCache};
use crate::terms::feature_matrix;
use crate::trajectory::Trajectories;

/// Where an edge log-flow lives: (column of a policy output, action row).
type Slot = (usize, usize);

/// Runs flow matching on `traj`; the forward logits are the out-edge log-flows of each state.
///
/// Every visited non-source state gives a conservation constraint (the flow in from all its
/// parents equals the flow out, the exit edge included), and every terminal object a sink
/// constraint (its exit edge carries `R(x)`). Returns the loss (gradients are accumulated into the
/// policy) and `NaN` for the batch `log w` mean, which flow matching does not define.
pub(super) fn flow_matching_step<E: Environment, B: Backend>(
    env: &E,
    policy: &mut Policy<B>,
    fm: &FlowMatching,
    traj: &Trajectories<E::State>,
    cache: &mut PolicyCache<B>,
    parent_cache: &mut PolicyCache<B>,
) -> Result<(f64, f64)> {
    let exit = env.exit_action();
    let dim = env.feature_dim();
    let out = policy.forward(feature_matrix(traj), cache)?;
    let mut out_slots: Vec<Slot> = Vec::new();
    let mut out_offsets = vec![0usize];
    let mut in_slots: Vec<Slot> = Vec::new();
    let mut in_offsets = vec![0usize];
    let mut parent_features: Vec<f32> = Vec::new();
    let mut sink_slots: Vec<Slot> = Vec::new();
    for i in 0..traj.len() {
        let steps = traj.steps(i);
        sink_slots.push((steps.end - 1, exit));
        for t in steps.start + 1..steps.end {
            let mask = traj.forward_mask(t);
            out_slots.extend(mask.iter().enumerate().filter(|(_, m)| **m).map(|(action, _)| (t, action)));
            out_offsets.push(out_slots.len());
            for (action, parent) in env.parents(&traj.states[t])? {
                let column = parent_features.len() / dim;
                parent_features.resize(parent_features.len() + dim, 0.0);
                env.encode(&parent, &mut parent_features[column * dim..]);
                in_slots.push((column, action));
            }
            in_offsets.push(in_slots.len());
        }
    }
    let parent_count = parent_features.len() / dim;
    let parents = DMatrix::from_vec(dim, parent_count, parent_features);
    let parent_out = policy.forward(parents, parent_cache)?;
    let gather = |slots: &[Slot], o: &crate::policy::PolicyOutput| -> Vec<f64> {
        slots.iter().map(|&(col, act)| f64::from(o.forward_logits(col)[act])).collect()
    };
    let out_log_flow = gather(&out_slots, &out);
    let in_log_flow = gather(&in_slots, &parent_out);
    let sink_log_flow = gather(&sink_slots, &out);
    let terms = FlowTerms {
        in_offsets: &in_offsets,
        in_log_flow: &in_log_flow,
        out_offsets: &out_offsets,
        out_log_flow: &out_log_flow,
        sink_log_flow: &sink_log_flow,
        sink_log_reward: &traj.log_reward,
    };
    let mut grads = FlowGrads::default();
    let loss = fm.evaluate(&terms, &mut grads)?;
    let rows = policy.layout().rows();
    let scatter = |slots: &[Slot], g: &[f64], d: &mut DMatrix<f32>| {
        for (&(col, act), g) in slots.iter().zip(g) {
            d[(act, col)] += *g as f32;
        }
    };
    let mut d_out = DMatrix::<f32>::zeros(rows, traj.step_count());
    scatter(&out_slots, &grads.out_log_flow, &mut d_out);
    scatter(&sink_slots, &grads.sink_log_flow, &mut d_out);
    let mut d_parent = DMatrix::<f32>::zeros(rows, parent_count);
    scatter(&in_slots, &grads.in_log_flow, &mut d_parent);
    policy.backward(cache, &d_out, None)?;
    policy.backward(parent_cache, &d_parent, None)?;
    Ok((loss, f64::NAN))
}
