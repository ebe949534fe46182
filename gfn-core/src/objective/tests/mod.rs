//! Tests of the objectives: finite differences, per-batch identities, error paths.

mod errors;
mod fd;
mod identities;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{FlowTerms, Objective, TermGrads, TrajectoryTerms};

/// Ragged trajectory lengths in steps, including a length-1 trajectory (only the exit step).
const LENGTHS: [usize; 6] = [1, 3, 2, 5, 4, 2];

/// The differentiable inputs of a [`TrajectoryTerms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Pf,
    Pb,
    Flow,
    PfExit,
    LogZ,
}

const FIELDS: [Field; 5] = [Field::Pf, Field::Pb, Field::Flow, Field::PfExit, Field::LogZ];

/// An owned batch of trajectory terms with every optional term present.
#[derive(Debug, Clone)]
struct Batch {
    offsets: Vec<usize>,
    log_pf: Vec<f64>,
    log_pb: Vec<f64>,
    log_flow: Vec<f64>,
    log_pf_exit: Vec<f64>,
    log_reward_state: Vec<f64>,
    log_reward: Vec<f64>,
    log_z: f64,
}

impl Batch {
    /// A random batch with the given trajectory lengths (in steps).
    fn random(seed: u64, lengths: &[usize]) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut offsets = vec![0];
        for &len in lengths {
            offsets.push(offsets.last().unwrap() + len);
        }
        let steps = *offsets.last().unwrap();
        let mut draw = |n: usize, lo: f64, hi: f64| -> Vec<f64> { (0..n).map(|_| rng.random_range(lo..hi)).collect() };
        let mut batch = Batch {
            log_pf: draw(steps, -3.0, -0.05),
            log_pb: draw(steps, -2.0, 0.0),
            log_flow: draw(steps, -2.0, 3.0),
            log_pf_exit: draw(steps, -3.0, -0.1),
            log_reward_state: draw(steps, -2.0, 2.0),
            log_reward: draw(lengths.len(), -3.0, 3.0),
            log_z: 0.7,
            offsets,
        };
        for i in 0..lengths.len() {
            let exit = batch.offsets[i + 1] - 1;
            batch.log_pb[exit] = 0.0;
        }
        batch
    }

    fn terms(&self) -> TrajectoryTerms<'_> {
        TrajectoryTerms {
            offsets: &self.offsets,
            log_pf: &self.log_pf,
            log_pb: &self.log_pb,
            log_flow: Some(&self.log_flow),
            log_pf_exit: Some(&self.log_pf_exit),
            log_reward_state: Some(&self.log_reward_state),
            log_reward: &self.log_reward,
            log_z: Some(self.log_z),
        }
    }

    fn field_mut(&mut self, field: Field) -> &mut [f64] {
        match field {
            Field::Pf => &mut self.log_pf,
            Field::Pb => &mut self.log_pb,
            Field::Flow => &mut self.log_flow,
            Field::PfExit => &mut self.log_pf_exit,
            Field::LogZ => std::slice::from_mut(&mut self.log_z),
        }
    }

    /// `δ_i = Σ log P_F − Σ log P_B − log R(x_i)`, computed independently of the objectives.
    fn deltas(&self) -> Vec<f64> {
        (0..self.log_reward.len())
            .map(|i| {
                let steps = self.offsets[i]..self.offsets[i + 1];
                steps.map(|t| self.log_pf[t] - self.log_pb[t]).sum::<f64>() - self.log_reward[i]
            })
            .collect()
    }
}

/// The coefficient an objective reported for `field[index]` (0 for terms it does not use).
fn coefficient(grads: &TermGrads, field: Field, index: usize) -> f64 {
    let v = match field {
        Field::Pf => &grads.log_pf,
        Field::Pb => &grads.log_pb,
        Field::Flow => &grads.log_flow,
        Field::PfExit => &grads.log_pf_exit,
        Field::LogZ => return grads.log_z,
    };
    v.get(index).copied().unwrap_or(0.0)
}

fn evaluate(objective: &dyn Objective, batch: &Batch) -> (f64, TermGrads) {
    let mut grads = TermGrads::default();
    let loss = objective.evaluate(&batch.terms(), &mut grads).unwrap();
    (loss, grads)
}

/// `|a − b| ≤ tol · (1 + |b|)`, with a message naming `what`.
fn assert_close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol * (1.0 + b.abs()), "{what}: {a} vs {b}");
}

/// Asserts that every per-step coefficient vector (and `log Z`) of `a` equals `scale × b`.
fn assert_grads_close(a: &TermGrads, b: &TermGrads, scale: f64, tol: f64) {
    let steps = a.log_pf.len();
    for field in FIELDS {
        let n = if field == Field::LogZ { 1 } else { steps };
        for t in 0..n {
            let what = format!("{field:?}[{t}]");
            assert_close(coefficient(a, field, t), scale * coefficient(b, field, t), tol, &what);
        }
    }
}

/// An owned flow-matching problem.
#[derive(Debug, Clone)]
struct Flows {
    in_offsets: Vec<usize>,
    in_log_flow: Vec<f64>,
    out_offsets: Vec<usize>,
    out_log_flow: Vec<f64>,
    sink_log_flow: Vec<f64>,
    sink_log_reward: Vec<f64>,
}

impl Flows {
    /// `states` constraints with 1–3 in- and out-edges each, and a sink constraint on the last
    /// out-edge of every other state.
    fn random(seed: u64, states: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut in_offsets, mut out_offsets, mut sinks) = (vec![0], vec![0], 0);
        for k in 0..states {
            in_offsets.push(in_offsets[k] + rng.random_range(1..=3));
            out_offsets.push(out_offsets[k] + rng.random_range(1..=3));
            if k % 2 == 0 {
                sinks += 1;
            }
        }
        let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-2.0..2.0)).collect() };
        Flows {
            in_log_flow: draw(in_offsets[states]),
            out_log_flow: draw(out_offsets[states]),
            sink_log_flow: draw(sinks),
            sink_log_reward: draw(sinks),
            in_offsets,
            out_offsets,
        }
    }

    fn terms(&self) -> FlowTerms<'_> {
        FlowTerms {
            in_offsets: &self.in_offsets,
            in_log_flow: &self.in_log_flow,
            out_offsets: &self.out_offsets,
            out_log_flow: &self.out_log_flow,
            sink_log_flow: &self.sink_log_flow,
            sink_log_reward: &self.sink_log_reward,
        }
    }

    /// The flows of one group: 0 incoming, 1 outgoing, 2 sinks.
    fn group_mut(&mut self, group: usize) -> &mut [f64] {
        match group {
            0 => &mut self.in_log_flow,
            1 => &mut self.out_log_flow,
            _ => &mut self.sink_log_flow,
        }
    }
}
