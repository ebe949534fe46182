//! Proofs by exact enumeration (ALGORITHMS §2.7) on a tabular model of a 3×3 grid: every
//! `(state, action)` logit of `P_F` and of a learned `P_B` is a free parameter, so the parameter
//! gradient of `Σ coeff · log P(step)` is exact, and every divergence and its gradient is computed
//! by enumerating the 19 complete trajectories.

mod errors;
mod identities;
mod unbiased;
mod variance;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Divergence;
use crate::objective::{TermGrads, TrajectoryTerms};

/// Grid side; states are `(x, y)` with index `3x + y`.
const SIDE: usize = 3;
const STATES: usize = SIDE * SIDE;
/// Forward actions: increment x, increment y, exit.
const FORWARD: usize = 3;
/// Backward actions: decrement x, decrement y.
const BACKWARD: usize = 2;
/// Number of `θ` (forward logits) and of all parameters (`θ` then `φ`, backward logits).
const THETA: usize = STATES * FORWARD;
const PARAMS: usize = THETA + STATES * BACKWARD;

/// One step: the state it leaves, the forward action, and the child state (`None` for exit).
#[derive(Debug, Clone, Copy)]
struct Step {
    state: usize,
    action: usize,
    child: Option<usize>,
}

/// The tabular model: parameters and rewards.
#[derive(Debug, Clone)]
struct Model {
    /// `θ` then `φ`.
    params: Vec<f64>,
    log_reward: [f64; STATES],
    /// Every complete trajectory.
    trajectories: Vec<Vec<Step>>,
}

fn coords(s: usize) -> (usize, usize) {
    (s / SIDE, s % SIDE)
}

/// Allowed forward actions at `s` (exit is always allowed).
fn forward_mask(s: usize) -> [bool; FORWARD] {
    let (x, y) = coords(s);
    [x + 1 < SIDE, y + 1 < SIDE, true]
}

/// Allowed backward actions at `s`.
fn backward_mask(s: usize) -> [bool; BACKWARD] {
    let (x, y) = coords(s);
    [x > 0, y > 0]
}

/// Masked log-softmax of `logits` at `action` and its gradient with respect to the logits.
fn log_softmax(logits: &[f64], mask: &[bool], action: usize) -> (f64, Vec<f64>) {
    let m = logits.iter().zip(mask).filter(|(_, k)| **k).map(|(l, _)| *l).fold(f64::NEG_INFINITY, f64::max);
    let norm: f64 = logits.iter().zip(mask).filter(|(_, k)| **k).map(|(l, _)| (l - m).exp()).sum();
    let log_norm = m + norm.ln();
    let grad = (0..logits.len())
        .map(|a| f64::from(u8::from(a == action)) - if mask[a] { (logits[a] - log_norm).exp() } else { 0.0 })
        .collect();
    (logits[action] - log_norm, grad)
}

impl Model {
    fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let params = (0..PARAMS).map(|_| rng.random_range(-1.0..1.0)).collect();
        let log_reward = std::array::from_fn(|_| rng.random_range(-1.0..2.0));
        let mut trajectories = Vec::new();
        let mut stack = vec![(0usize, Vec::new())];
        while let Some((s, prefix)) = stack.pop() {
            let mut done = prefix.clone();
            done.push(Step { state: s, action: 2, child: None });
            trajectories.push(done);
            for (a, allowed) in forward_mask(s).into_iter().take(2).enumerate() {
                if allowed {
                    let child = s + if a == 0 { SIDE } else { 1 };
                    let mut next = prefix.clone();
                    next.push(Step { state: s, action: a, child: Some(child) });
                    stack.push((child, next));
                }
            }
        }
        Model { params, log_reward, trajectories }
    }

    /// `log P_F` of a step and its gradient (length [`PARAMS`]).
    fn log_pf(&self, params: &[f64], step: Step) -> (f64, Vec<f64>) {
        let at = step.state * FORWARD;
        let (value, local) = log_softmax(&params[at..at + FORWARD], &forward_mask(step.state), step.action);
        let mut grad = vec![0.0; PARAMS];
        grad[at..at + FORWARD].copy_from_slice(&local);
        (value, grad)
    }

    /// `log P_B(s_t | s_{t+1})` of a proper step and its gradient.
    fn log_pb(&self, params: &[f64], step: Step, child: usize) -> (f64, Vec<f64>) {
        let at = THETA + child * BACKWARD;
        let (value, local) = log_softmax(&params[at..at + BACKWARD], &backward_mask(child), step.action);
        let mut grad = vec![0.0; PARAMS];
        grad[at..at + BACKWARD].copy_from_slice(&local);
        (value, grad)
    }

    /// The terminal state of trajectory `k`.
    fn terminal(&self, k: usize) -> usize {
        self.trajectories[k].last().map_or(0, |s| s.state)
    }

    /// Per trajectory: `(lF, lB, log R)` at `params`.
    fn totals(&self, params: &[f64]) -> Vec<(f64, f64, f64)> {
        (0..self.trajectories.len())
            .map(|k| {
                let steps = &self.trajectories[k];
                let lf = steps.iter().map(|&s| self.log_pf(params, s).0).sum();
                let lb = steps.iter().filter_map(|&s| s.child.map(|c| self.log_pb(params, s, c).0)).sum();
                (lf, lb, self.log_reward[self.terminal(k)])
            })
            .collect()
    }

    /// `log Z = log Σ_x R(x)`.
    fn log_z(&self) -> f64 {
        super::log_sum_exp(&self.log_reward)
    }

    /// Per trajectory `(p_F(τ), p̄_B(τ), δ(τ))` at the model's parameters.
    fn distributions(&self) -> Vec<(f64, f64, f64)> {
        let log_z = self.log_z();
        self.totals(&self.params).iter().map(|&(lf, lb, r)| (lf.exp(), (lb + r - log_z).exp(), lf - lb - r)).collect()
    }

    /// The exact gradient of `value(totals, log Z)` at the model's parameters, by central finite
    /// differences of the enumerated value (the divergences are smooth in the logits).
    fn exact_grad(&self, value: impl Fn(&[(f64, f64, f64)], f64) -> f64) -> Vec<f64> {
        const H: f64 = 1e-5;
        let log_z = self.log_z();
        (0..PARAMS)
            .map(|p| {
                let mut shifted = self.params.clone();
                shifted[p] += H;
                let plus = value(&self.totals(&shifted), log_z);
                shifted[p] -= 2.0 * H;
                (plus - value(&self.totals(&shifted), log_z)) / (2.0 * H)
            })
            .collect()
    }

    /// `Σ_t a_t ∇log P_F(step t) + Σ_t b_t ∇log P_B(step t)` for the coefficients `grads` of `batch`.
    fn param_grad(&self, batch: &Batch, grads: &TermGrads) -> Vec<f64> {
        let mut out = vec![0.0; PARAMS];
        let mut t = 0;
        for &k in &batch.members {
            for &step in &self.trajectories[k] {
                let (_, gf) = self.log_pf(&self.params, step);
                let pb_grad = step.child.map(|c| self.log_pb(&self.params, step, c).1);
                for p in 0..PARAMS {
                    out[p] += grads.log_pf[t] * gf[p] + pb_grad.as_ref().map_or(0.0, |g| grads.log_pb[t] * g[p]);
                }
                t += 1;
            }
        }
        out
    }

    /// The `θ`-score `∇_θ lF(τ_k)` (length [`THETA`]).
    fn score(&self, k: usize) -> Vec<f64> {
        let mut out = vec![0.0; THETA];
        for &step in &self.trajectories[k] {
            for (o, g) in out.iter_mut().zip(self.log_pf(&self.params, step).1) {
                *o += g;
            }
        }
        out
    }

    /// Builds the terms of trajectories `members`.
    fn batch(&self, members: Vec<usize>, log_z: f64) -> Batch {
        let mut batch = Batch { members, offsets: vec![0], log_pf: vec![], log_pb: vec![], log_reward: vec![], log_z };
        for &k in &batch.members {
            for &step in &self.trajectories[k] {
                batch.log_pf.push(self.log_pf(&self.params, step).0);
                batch.log_pb.push(step.child.map_or(0.0, |c| self.log_pb(&self.params, step, c).0));
            }
            batch.offsets.push(batch.log_pf.len());
            batch.log_reward.push(self.log_reward[self.terminal(k)]);
        }
        batch
    }

    /// `∇δ(τ_k) = Σ ∇log P_F − Σ ∇log P_B` over all parameters.
    fn delta_grad(&self, k: usize) -> Vec<f64> {
        let batch = self.batch(vec![k], 0.0);
        let steps = batch.log_pf.len();
        let grads = TermGrads { log_pf: vec![1.0; steps], log_pb: vec![-1.0; steps], ..TermGrads::default() };
        self.param_grad(&batch, &grads)
    }

    /// Squared `θ`-score norms of the members of `batch`.
    fn score_norms(&self, batch: &Batch) -> Vec<f64> {
        batch.members.iter().map(|&k| self.score(k).iter().map(|s| s * s).sum()).collect()
    }
}

/// Draws `n` indices from the probabilities `probs`.
fn draw(rng: &mut ChaCha8Rng, probs: &[f64], n: usize) -> Vec<usize> {
    (0..n)
        .map(|_| {
            let mut u = rng.random::<f64>() * probs.iter().sum::<f64>();
            probs
                .iter()
                .position(|&p| {
                    u -= p;
                    u < 0.0
                })
                .unwrap_or(probs.len() - 1)
        })
        .collect()
}

/// An owned batch of trajectory terms.
#[derive(Debug, Clone)]
struct Batch {
    /// Trajectory indices into [`Model::trajectories`].
    members: Vec<usize>,
    offsets: Vec<usize>,
    log_pf: Vec<f64>,
    log_pb: Vec<f64>,
    log_reward: Vec<f64>,
    log_z: f64,
}

impl Batch {
    fn terms(&self) -> TrajectoryTerms<'_> {
        TrajectoryTerms {
            offsets: &self.offsets,
            log_pf: &self.log_pf,
            log_pb: &self.log_pb,
            log_flow: None,
            log_pf_exit: None,
            log_reward_state: None,
            log_reward: &self.log_reward,
            log_z: Some(self.log_z),
        }
    }
}

/// Where a batch's trajectories come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `b` on-policy trajectories.
    Forward(usize),
    /// `b` target trajectories (`x ~ R/Z`, `τ ~ P_B(·|x)`).
    Target(usize),
    /// `b/2` on-policy then `b/2` target trajectories.
    Halves(usize),
}

/// Per-coordinate mean and variance of an estimator over independent batches.
#[derive(Debug)]
struct Moments {
    mean: Vec<f64>,
    var: Vec<f64>,
    batches: usize,
}

impl Moments {
    /// Asserts `|mean − target| ≤ 5 SE` on every coordinate, plus an absolute `slack` (the bias
    /// allowance of consistent estimators), and that the test has power (SE ≤ 5 % of `‖target‖∞`).
    fn assert_matches(&self, target: &[f64], slack: f64, what: &str) {
        let scale = target.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut worst = 0.0f64;
        for (d, (m, t)) in self.mean.iter().zip(target).enumerate() {
            let se = (self.var[d] / self.batches as f64).sqrt();
            assert!(se <= 0.05 * scale, "{what}: standard error {se} too large for a test at scale {scale}");
            assert!(
                (m - t).abs() <= 5.0 * se + slack * scale + 1e-12,
                "{what}: coordinate {d}: {m} vs exact {t} (se {se})"
            );
            worst = worst.max((m - t).abs() / se.max(1e-300));
        }
        eprintln!("{what}: max |z| = {worst:.2} over {} batches", self.batches);
    }
}

/// Runs `estimate` on `batches` independent batches and returns the moments of its output.
fn moments(model: &Model, seed: u64, source: Source, batches: usize, estimate: impl Fn(&Batch) -> Vec<f64>) -> Moments {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dist = model.distributions();
    let pf: Vec<f64> = dist.iter().map(|d| d.0).collect();
    let target: Vec<f64> = dist.iter().map(|d| d.1).collect();
    let log_z_psi = -dist.iter().map(|d| d.0 * d.2).sum::<f64>();
    let (mut sum, mut sum_sq) = (Vec::new(), Vec::new());
    for _ in 0..batches {
        let members = match source {
            Source::Forward(b) => draw(&mut rng, &pf, b),
            Source::Target(b) => draw(&mut rng, &target, b),
            Source::Halves(b) => [draw(&mut rng, &pf, b / 2), draw(&mut rng, &target, b / 2)].concat(),
        };
        let g = estimate(&model.batch(members, log_z_psi));
        sum.resize(g.len(), 0.0);
        sum_sq.resize(g.len(), 0.0);
        for (d, v) in g.iter().enumerate() {
            sum[d] += v;
            sum_sq[d] += v * v;
        }
    }
    let n = batches as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let var = sum_sq.iter().zip(&mean).map(|(s, m)| (s / n - m * m) * n / (n - 1.0)).collect();
    Moments { mean, var, batches }
}

/// The parameter gradient of a divergence estimator on one batch (score norms always supplied).
fn divergence_grad(model: &Model, objective: &dyn Divergence, batch: &Batch) -> Vec<f64> {
    let mut grads = TermGrads::default();
    let norms = model.score_norms(batch);
    objective.evaluate_with_scores(&batch.terms(), Some(&norms), &mut grads).unwrap();
    model.param_grad(batch, &grads)
}

/// Exact divergences at given per-trajectory totals `(lF, lB, log R)` and `log Z`.
mod exact {
    /// `KL(p_F ‖ p̄_B)`.
    pub(super) fn reverse_kl(t: &[(f64, f64, f64)], log_z: f64) -> f64 {
        t.iter().map(|&(lf, lb, r)| lf.exp() * (lf - (lb + r - log_z))).sum()
    }

    /// `KL(p̄_B ‖ p_F)`.
    pub(super) fn forward_kl(t: &[(f64, f64, f64)], log_z: f64) -> f64 {
        t.iter().map(|&(lf, lb, r)| (lb + r - log_z).exp() * (lb + r - log_z - lf)).sum()
    }

    /// `E_{p_F}[(p̄_B/p_F)^{1−α}]`.
    fn power_mean(alpha: f64, t: &[(f64, f64, f64)], log_z: f64) -> f64 {
        t.iter().map(|&(lf, lb, r)| (lf + (1.0 - alpha) * (lb + r - log_z - lf)).exp()).sum()
    }

    /// Rényi-α with the `1/(α(α−1))` normalisation.
    pub(super) fn renyi(alpha: f64, t: &[(f64, f64, f64)], log_z: f64) -> f64 {
        power_mean(alpha, t, log_z).ln() / (alpha * (alpha - 1.0))
    }

    /// Tsallis-α.
    pub(super) fn tsallis(alpha: f64, t: &[(f64, f64, f64)], log_z: f64) -> f64 {
        (power_mean(alpha, t, log_z) - 1.0) / (alpha * (alpha - 1.0))
    }
}
