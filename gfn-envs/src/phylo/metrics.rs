//! Evaluation metrics of PhyloGFN (DOMAINS §1.5): parsimony statistics, the correlation of
//! `log P_θ(x)` with `log R(x)`, and the importance-sampled marginal log-likelihood.

use gfn_core::backend::Backend;
use gfn_core::env::Environment;
use gfn_core::eval::{ExactEvaluator, default_chunk_len};
use gfn_core::objective::Requirements;
use gfn_core::policy::{Exploration, Policy};
use gfn_core::rng::{Purpose, stream};
use gfn_core::sampler::{Draw, sample_forward_range};
use gfn_core::terms::{StepTerms, feature_matrix};
use gfn_core::{Error, Result};
use rand::Rng as _;

use super::config::PhyloReward;
use super::env::{Forest, PhyloEnv};
use super::forest::NO_BIN;
use super::likelihood::{log_exponential_prior, log_topology_prior};

/// Summary statistics of parsimony scores over samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParsimonyStats {
    /// The number of samples.
    pub count: usize,
    /// The mean score.
    pub mean: f64,
    /// The (population) standard deviation.
    pub std: f64,
    /// The best (smallest) score found.
    pub min: f64,
    /// The worst score.
    pub max: f64,
}

impl ParsimonyStats {
    /// The statistics of `scores`, or `None` if there are none.
    pub fn from_scores(scores: &[f64]) -> Option<ParsimonyStats> {
        if scores.is_empty() {
            return None;
        }
        let count = scores.len();
        let mean = scores.iter().sum::<f64>() / count as f64;
        let std = (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / count as f64).sqrt();
        let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(ParsimonyStats { count, mean, std, min, max })
    }

    /// The statistics of the Fitch scores of terminal trees (with `env`'s missing-data coding).
    pub fn of_trees<'a>(env: &PhyloEnv, trees: impl IntoIterator<Item = &'a Forest>) -> Option<ParsimonyStats> {
        let scores: Vec<f64> = trees.into_iter().map(|f| f.trees.iter().map(|t| env.fitch_tree(t).1).sum()).collect();
        Self::from_scores(&scores)
    }
}

/// The Pearson correlation of `xs` and `ys`, or `None` for fewer than two points, different
/// lengths, non-finite values or a constant series.
pub fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    if xs.len() != ys.len() || xs.len() < 2 || xs.iter().chain(ys).any(|v| !v.is_finite()) {
        return None;
    }
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The Pearson correlation between the exact `log P_θ(x)` of `policy` and `log R(x)` over all
/// terminal objects of an enumerable environment (terminals of zero model probability are left out).
pub fn exact_log_prob_reward_correlation<E, B>(
    env: &E,
    evaluator: &ExactEvaluator<E::State>,
    policy: &Policy<B>,
) -> Result<Option<f64>>
where
    E: Environment,
    B: Backend,
{
    let (probs, _) = evaluator.terminal_distribution(env, policy)?;
    let (log_p, log_r): (Vec<f64>, Vec<f64>) = probs
        .iter()
        .zip(evaluator.terminal_states())
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, x)| (p.ln(), env.log_reward(x)))
        .unzip();
    Ok(pearson(&log_p, &log_r))
}

/// Options of [`marginal_log_likelihood`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MllOptions {
    /// The number of importance samples `K`.
    pub samples: usize,
    /// The seed of the forward samples and of the jitter.
    pub seed: u64,
    /// Whether to jitter each branch length uniformly within its bin and add `(2n − 3) log(bin
    /// size)`, turning the discrete proposal into a density over continuous lengths (DOMAINS §1.5).
    /// Without it the result estimates the discrete sum `Σ_{T, b} P(Y | T, b) P(b) P(T)` instead.
    /// With continuous branch lengths the proposal already is a density, and jitter is an error.
    pub jitter: bool,
}

/// The importance-sampled marginal log-likelihood of a JC69 environment with the policy as proposal:
///
/// `log p̂(Y) = logsumexp_k [log P(Y | T_k, b_k) + log P(b_k) + log P_B(τ_k | x_k) − log P_F(τ_k)]
///  − log K − log((2n − 5)!!)  [+ (2n − 3) log(bin size), with jittered b_k]`.
///
/// The rewards are untempered (the environment's temperature and offset do not enter). With
/// jitter, each length `(k + 1) s` of bin `k` becomes uniform on `[(k + ½) s, (k + 3⁄2) s]`
/// (the fused root edge is jittered like any other edge: it is one edge of the state).
///
/// With continuous branch lengths the proposal is a density over the log-lengths `u`, so the
/// weight gains the log-Jacobian `Σ_e u_e` (as the environment's reward does) and there is no
/// jitter and no bin-size term.
pub fn marginal_log_likelihood<B: Backend>(env: &PhyloEnv, policy: &Policy<B>, options: MllOptions) -> Result<f64> {
    if env.config().reward != PhyloReward::Jc69 {
        return Err(Error::config("reward", env.config().reward, "the marginal likelihood needs the jc69 reward"));
    }
    if options.samples == 0 {
        return Err(Error::config("samples", 0, "at least one importance sample is needed"));
    }
    if options.jitter && env.is_continuous() {
        return Err(Error::config(
            "jitter",
            true,
            "continuous branch lengths are not binned: there is nothing to jitter",
        ));
    }
    let draw = Draw { seed: options.seed, purpose: Purpose::Eval, round: 0 };
    let n = env.taxon_count();
    let size = env.config().bin_size;
    let mut rng = stream(options.seed, Purpose::Eval, &[1]);
    let mut log_w = Vec::with_capacity(options.samples);
    // In chunks (trajectory `k` always draws from stream `k`), so that large alignments fit.
    let chunk = default_chunk_len(env.feature_dim());
    for start in (0..options.samples).step_by(chunk) {
        let range = start..(start + chunk).min(options.samples);
        let traj = sample_forward_range(env, policy, range, Exploration::default(), draw)?;
        let output = policy.infer(&feature_matrix(&traj))?;
        let terms = StepTerms::compute(env, &traj, &output, &Requirements::default())?;
        for i in 0..traj.len() {
            let tree = &traj.terminal(i).trees[0];
            let lengths: Vec<f64> = tree
                .nodes()
                .iter()
                .map(|node| match (node.bin, options.jitter) {
                    (NO_BIN, _) => 0.0,
                    (bin, true) => (f64::from(bin) + 0.5 + rng.random::<f64>()) * size,
                    (_, false) => env.edge_length(node).unwrap_or(0.0),
                })
                .collect();
            let edges: Vec<f64> =
                lengths.iter().zip(tree.nodes()).filter(|(_, n)| n.bin != NO_BIN).map(|(l, _)| *l).collect();
            let log_jacobian = env.log_jacobian(tree);
            let log_lik = env.partials_with_lengths(tree, &lengths).log_likelihood(env.alignment().weights());
            let log_prior = log_exponential_prior(&edges, env.config().prior_rate);
            let log_ratio: f64 = traj.steps(i).map(|t| terms.log_pb[t] - terms.log_pf[t]).sum();
            let correction = if options.jitter { (2 * n - 3) as f64 * size.ln() } else { 0.0 };
            log_w.push(log_lik + log_prior + log_jacobian + log_ratio + correction);
        }
    }
    let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_mean = max + (log_w.iter().map(|w| (w - max).exp()).sum::<f64>() / log_w.len() as f64).ln();
    Ok(log_mean + log_topology_prior(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phylo::config::PhyloConfig;
    use crate::phylo::test_data::toy_alignment;
    use gfn_core::backend::Cpu;
    use gfn_core::env::Enumerable;
    use gfn_core::policy::PolicyConfig;

    #[test]
    fn pearson_and_parsimony_statistics() {
        assert!(
            (pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.5]).unwrap() - 4.5 / (2.0f64 * 61.0 / 6.0).sqrt()).abs() < 1e-12
        );
        assert_eq!(pearson(&[1.0, 2.0], &[3.0, 1.0]), Some(-1.0));
        assert_eq!(pearson(&[1.0, 1.0], &[3.0, 1.0]), None);
        assert_eq!(pearson(&[1.0], &[3.0]), None);
        let stats = ParsimonyStats::from_scores(&[4.0, 6.0, 8.0]).unwrap();
        assert_eq!((stats.count, stats.mean, stats.min, stats.max), (3, 6.0, 4.0, 8.0));
        assert!((stats.std - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(ParsimonyStats::from_scores(&[]).is_none());
    }

    #[test]
    fn importance_sampled_marginal_matches_the_exact_sum() {
        // 4 taxa, 2 bins: 3 topologies × 2^5 length assignments, enumerated exactly.
        let config = PhyloConfig { reward: PhyloReward::Jc69, bins: 2, bin_size: 0.1, ..PhyloConfig::default() };
        let env = PhyloEnv::new(toy_alignment(4, 12), config).unwrap();
        let evaluator = ExactEvaluator::new(&env).unwrap();
        assert_eq!(env.state_graph().unwrap().terminals().count(), 3 * 32);
        let exact = evaluator.log_z() + log_topology_prior(4);
        let mut rng = stream(3, Purpose::Init, &[]);
        let policy_config = PolicyConfig { hidden: vec![16], ..PolicyConfig::default() };
        let policy = Policy::new(Cpu, &policy_config, env.feature_dim(), env.action_count(), false, &mut rng).unwrap();
        let discrete =
            marginal_log_likelihood(&env, &policy, MllOptions { samples: 4000, seed: 1, jitter: false }).unwrap();
        assert!((discrete - exact).abs() < 0.05, "{discrete} vs exact {exact}");
        // With jitter it estimates the integral over the bins' lengths, [0.05, 0.25] per edge:
        // compare with plain Monte Carlo over that box, uniformly, for each of the 3 topologies.
        let continuous =
            marginal_log_likelihood(&env, &policy, MllOptions { samples: 4000, seed: 1, jitter: true }).unwrap();
        let mut rng = stream(9, Purpose::User, &[]);
        let mut integral = 0.0;
        let topologies =
            evaluator.terminal_states().filter(|f| f.trees[0].nodes().iter().all(|n| n.bin == 0 || n.bin == NO_BIN));
        for forest in topologies {
            let tree = &forest.trees[0];
            let draws = 20_000;
            let mut sum = 0.0;
            for _ in 0..draws {
                let lengths: Vec<f64> = tree
                    .nodes()
                    .iter()
                    .map(|n| if n.bin == NO_BIN { 0.0 } else { 0.05 + 0.2 * rng.random::<f64>() })
                    .collect();
                let edges: Vec<f64> = lengths.iter().copied().filter(|l| *l > 0.0).collect();
                let log_joint = env.partials_with_lengths(tree, &lengths).log_likelihood(env.alignment().weights())
                    + log_exponential_prior(&edges, 10.0);
                sum += (log_joint + 30.0).exp();
            }
            integral += sum / f64::from(draws) * 0.2f64.powi(5);
        }
        let expected = integral.ln() - 30.0 + log_topology_prior(4);
        assert!((continuous - expected).abs() < 0.05, "{continuous} vs Monte-Carlo integral {expected}");
        let parsimony = PhyloEnv::new(toy_alignment(4, 12), PhyloConfig::default()).unwrap();
        assert!(
            marginal_log_likelihood(&parsimony, &policy, MllOptions { samples: 1, seed: 1, jitter: true }).is_err()
        );
    }
}
