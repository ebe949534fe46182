//! Exact evaluation by dynamic programming over an enumerated state DAG.

use nalgebra::DMatrix;

use super::divergence::{jsd, kl, l1, logsumexp, total_variation};
use super::{EvalReport, Evaluate};
use crate::backend::Backend;
use crate::env::{Enumerable, Environment, EnvironmentExt, StateGraph};
use crate::policy::Policy;
use crate::policy::categorical::{backward_log_probs_into, masked_log_softmax_into};
use crate::{Error, Result};

/// A source of exact target samples `x ~ R(x)/Z`, for objectives that train on backward
/// trajectories from the target (α-KL, α-TB).
pub trait TargetSampler<S>: Send + Sync + std::fmt::Debug {
    /// Draws `n` terminal objects from the normalised reward.
    fn sample_targets(&self, n: usize, rng: &mut crate::rng::Rng) -> Vec<S>;
}

/// Per-state log-probability rows of a policy over an enumerated state graph.
#[derive(Debug, Clone, PartialEq)]
pub struct LogProbTables {
    /// Width of a row (the number of actions).
    pub actions: usize,
    /// `log P_F(a | s)`, row `s` (graph order).
    pub log_pf: Vec<f64>,
    /// `log P_B(parent by a | s)`, row `s`: the backward log-probability of undoing action `a` into
    /// state `s`.
    pub log_pb: Vec<f64>,
}

impl LogProbTables {
    /// `log P_F(a | s)` for state index `s`.
    pub fn pf(&self, s: usize, a: usize) -> f64 {
        self.log_pf[s * self.actions + a]
    }

    /// `log P_B(s | child)`: the backward log-probability, at state index `child`, of the action `a`
    /// that led into it.
    pub fn pb(&self, child: usize, a: usize) -> f64 {
        self.log_pb[child * self.actions + a]
    }
}

/// States evaluated per batched forward pass.
const CHUNK: usize = 4096;

/// Exact evaluation of policies on an enumerable environment.
///
/// Built once per environment: it enumerates the states, the terminal objects and their
/// normalised rewards `π(x) = R(x)/Z`. Each evaluation runs the policy on every state and
/// propagates the state-visit probabilities `F(s') = Σ_{s→s'} F(s) P_F(s'|s)` in topological
/// order, giving the terminal distribution `p_T(x) = F(x) P_F(s_f|x)`.
#[derive(Debug, Clone)]
pub struct ExactEvaluator<S> {
    graph: StateGraph<S>,
    terminals: Vec<usize>,
    log_rewards: Vec<f64>,
    target: Vec<f64>,
    log_z: f64,
}

impl<S: Clone + Eq + std::hash::Hash + std::fmt::Debug> ExactEvaluator<S> {
    /// Enumerates `env` and its normalised reward, up to the environment's state limit.
    pub fn new<E: Enumerable<State = S>>(env: &E) -> Result<Self> {
        Self::with_limit(env, env.state_limit())
    }

    /// Enumerates `env`, failing with [`Error::TooManyStates`] beyond `limit` states.
    pub fn with_limit<E: Environment<State = S>>(env: &E, limit: usize) -> Result<Self> {
        let graph = StateGraph::build(env, limit)?;
        let terminals: Vec<usize> = graph.terminals().collect();
        let log_rewards =
            terminals.iter().map(|&i| env.checked_log_reward(&graph.states[i])).collect::<Result<Vec<f64>>>()?;
        let log_z = logsumexp(&log_rewards);
        if !log_z.is_finite() {
            return Err(Error::InconsistentEnvironment(format!(
                "the total reward of the {} terminal objects is {}, not a positive finite number",
                terminals.len(),
                log_z.exp()
            )));
        }
        let target = log_rewards.iter().map(|r| (r - log_z).exp()).collect();
        Ok(ExactEvaluator { graph, terminals, log_rewards, target, log_z })
    }

    /// The enumerated state graph.
    pub fn graph(&self) -> &StateGraph<S> {
        &self.graph
    }

    /// The exact `log Z = log Σ_x R(x)`.
    pub fn log_z(&self) -> f64 {
        self.log_z
    }

    /// The terminal objects, in the order of [`ExactEvaluator::target`].
    pub fn terminal_states(&self) -> impl Iterator<Item = &S> {
        self.terminals.iter().map(|&i| &self.graph.states[i])
    }

    /// The normalised reward of each terminal object.
    pub fn target(&self) -> &[f64] {
        &self.target
    }

    /// The log-rewards of the terminal objects, in the order of [`ExactEvaluator::target`].
    pub fn log_rewards(&self) -> &[f64] {
        &self.log_rewards
    }

    /// The positions in [`ExactEvaluator::graph`] of the terminal objects, in the order of
    /// [`ExactEvaluator::target`].
    pub fn terminal_indices(&self) -> &[usize] {
        &self.terminals
    }

    /// `log P_F(a|s)` and `log P_B(·|s)` rows of `policy` at every state of the graph
    /// (`action_count` entries per state, in graph order; `-inf` where masked).
    pub fn log_prob_tables<E, B>(&self, env: &E, policy: &Policy<B>) -> Result<LogProbTables>
    where
        E: Environment<State = S>,
        B: Backend,
    {
        let n = self.graph.len();
        let a = env.action_count();
        let dim = env.feature_dim();
        let mut log_pf = vec![0.0f64; n * a];
        let mut log_pb = vec![0.0f64; n * a];
        let mut mask = vec![false; a];
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let mut features = DMatrix::<f32>::zeros(dim, end - start);
            for (j, s) in self.graph.states[start..end].iter().enumerate() {
                env.encode(s, &mut features.as_mut_slice()[j * dim..(j + 1) * dim]);
            }
            let out = policy.infer(&features)?;
            for (j, s) in self.graph.states[start..end].iter().enumerate() {
                let i = start + j;
                mask.fill(false);
                env.forward_mask(s, &mut mask);
                masked_log_softmax_into(out.forward_logits(j), &mask, &mut log_pf[i * a..(i + 1) * a]);
                mask.fill(false);
                env.backward_mask(s, &mut mask);
                backward_log_probs_into(out.backward_logits(j), &mask, &mut log_pb[i * a..(i + 1) * a]);
            }
        }
        Ok(LogProbTables { actions: a, log_pf, log_pb })
    }

    /// The terminal distribution of `policy` (same order as [`ExactEvaluator::target`]) and the
    /// exact ELBO.
    pub fn terminal_distribution<E, B>(&self, env: &E, policy: &Policy<B>) -> Result<(Vec<f64>, f64)>
    where
        E: Environment<State = S>,
        B: Backend,
    {
        let n = self.graph.len();
        let a = env.action_count();
        let exit = env.exit_action();
        let LogProbTables { log_pf, log_pb, .. } = self.log_prob_tables(env, policy)?;
        let mut flow = vec![0.0f64; n];
        flow[0] = 1.0;
        let mut elbo = 0.0;
        for i in 0..n {
            if flow[i] == 0.0 {
                continue;
            }
            for &(action, child) in self.graph.out_edges(i) {
                let lp = log_pf[i * a + action];
                if lp == f64::NEG_INFINITY {
                    continue;
                }
                let edge = flow[i] * lp.exp();
                flow[child] += edge;
                if edge > 0.0 {
                    elbo += edge * (log_pb[child * a + action] - lp);
                }
            }
        }
        let mut p = Vec::with_capacity(self.terminals.len());
        for (&i, &r) in self.terminals.iter().zip(&self.log_rewards) {
            let lp = log_pf[i * a + exit];
            let pt = flow[i] * lp.exp();
            if pt > 0.0 {
                elbo += pt * (r - lp);
            }
            p.push(pt);
        }
        Ok((p, elbo))
    }
}

impl<E, B> Evaluate<E, B> for ExactEvaluator<E::State>
where
    E: Environment,
    B: Backend,
{
    fn evaluate(&self, env: &E, policy: &Policy<B>, _round: u64) -> Result<EvalReport> {
        let (p, elbo) = self.terminal_distribution(env, policy)?;
        Ok(EvalReport {
            l1: Some(l1(&p, &self.target)),
            exact: true,
            tv: Some(total_variation(&p, &self.target)),
            kl_target_model: Some(kl(&self.target, &p)),
            kl_model_target: Some(kl(&p, &self.target)),
            jsd: Some(jsd(&p, &self.target)),
            log_z_exact: Some(self.log_z),
            elbo: Some(elbo),
            modes_total: Some(self.modes_total()),
            samples: None,
            l1_objects: None,
        })
    }

    fn mode_threshold(&self) -> Option<f64> {
        Some(self.max_reward_threshold())
    }
}

impl<S> ExactEvaluator<S> {
    /// Log-rewards within a relative 1e-9 of the maximum count as modes.
    fn max_reward_threshold(&self) -> f64 {
        let max = self.log_rewards.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max - 1e-9 * max.abs().max(1.0)
    }

    fn modes_total(&self) -> usize {
        let threshold = self.max_reward_threshold();
        self.log_rewards.iter().filter(|r| **r >= threshold).count()
    }
}

impl<S: Clone + Send + Sync + std::fmt::Debug> TargetSampler<S> for ExactEvaluator<S> {
    /// Inverse-CDF draws from the enumerated target distribution.
    fn sample_targets(&self, n: usize, rng: &mut crate::rng::Rng) -> Vec<S> {
        use rand::Rng as _;
        (0..n)
            .map(|_| {
                let mut u = rng.random::<f64>();
                let mut pick = self.terminals.len() - 1;
                for (k, p) in self.target.iter().enumerate() {
                    if u < *p {
                        pick = k;
                        break;
                    }
                    u -= p;
                }
                self.graph.states[self.terminals[pick]].clone()
            })
            .collect()
    }
}
