//! Hybrid steps with continuous values ([`gfn_core::env::continuous`]) on a three-taxon JC69
//! phylogeny, whose single unrooted topology has three branch lengths:
//!
//! - the parameter gradient of trajectory balance through the mixture head matches finite
//!   differences;
//! - trained with TB, the learned `log Z`, the importance-sampled marginal likelihood and the
//!   marginal of one log-branch-length match a 3-D quadrature of the posterior.
//!
//! The environment is PhyloGFN's construction for `n = 3` (DOMAINS §1.1, continuous variant):
//! merge a pair of taxa with the log-lengths `(u_i, u_j)` of their two edges, then merge the
//! third taxon with the log-length `u_k` of its edge; the backward policy is uniform over the
//! three edges of the terminal tree (which one was created last). The reward is the JC69
//! likelihood times i.i.d. Exponential(10) priors on the lengths `b = e^u`, as a density over
//! `u` (with the Jacobian `Π b_i`).

use gfn_core::backend::Cpu;
use gfn_core::env::{ContinuousSteps, Environment};
use gfn_core::nn::Activation;
use gfn_core::objective::{Objective, Requirements, Residual, TermGrads, TrajectoryBalance};
use gfn_core::policy::{Exploration, Policy, PolicyCache, PolicyConfig};
use gfn_core::rng::{Purpose, stream};
use gfn_core::sampler::{Draw, sample_backward, sample_forward};
use gfn_core::terms::{StepTerms, feature_matrix};
use gfn_core::train::{ObjectiveKind, TrainConfig, Trainer};
use gfn_core::trajectory::Trajectories;
use gfn_core::{Error, Result};

/// The Exponential prior rate of the branch lengths.
const RATE: f64 = 10.0;
/// The pairs of the first merge, by action index.
const PAIRS: [(usize, usize); 3] = [(0, 1), (0, 2), (1, 2)];
/// The exit action.
const EXIT: usize = 6;

/// The sites of a small alignment of three taxa (nucleotides 0..4), with 20 sites.
const SITES: [[u8; 3]; 20] = [
    [0, 0, 0],
    [1, 1, 1],
    [2, 2, 2],
    [3, 3, 3],
    [0, 0, 0],
    [1, 1, 1],
    [2, 2, 2],
    [3, 3, 3],
    [0, 0, 0],
    [2, 2, 2],
    [0, 0, 1],
    [1, 1, 3],
    [2, 2, 0],
    [3, 3, 1],
    [0, 2, 0],
    [1, 0, 0],
    [0, 1, 1],
    [2, 2, 1],
    [3, 1, 2],
    [1, 1, 1],
];

/// A state: the source, a merged pair with its two log-lengths, or the terminal tree with the
/// log-lengths of the edges to taxa 0, 1, 2 (stored as bits so states hash).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Star {
    Source,
    Pair { pair: usize, u: [u64; 2] },
    Tree { u: [u64; 3] },
}

fn bits(x: f64) -> u64 {
    x.to_bits()
}

fn value(b: u64) -> f64 {
    f64::from_bits(b)
}

/// The three-taxon environment; actions `0..3` merge a pair, `3 + k` joins taxon `k` last,
/// `6` exits.
#[derive(Debug)]
struct Star3;

impl Star3 {
    fn invalid(state: &Star, action: usize, reason: &str) -> Error {
        Error::InvalidAction { action, state: format!("{state:?}"), reason: reason.into() }
    }
}

/// The taxon not in pair `pair`.
fn third(pair: usize) -> usize {
    let (i, j) = PAIRS[pair];
    3 - i - j
}

/// `log P(Y | b) + log P(b) + Σ u` for log-lengths `u` (edges to taxa 0, 1, 2).
fn log_density(u: [f64; 3]) -> f64 {
    let mut same = [0.0; 3];
    let mut diff = [0.0; 3];
    for i in 0..3 {
        let e = (-4.0 / 3.0 * u[i].exp()).exp();
        same[i] = 0.25 + 0.75 * e;
        diff[i] = 0.25 - 0.25 * e;
    }
    site_log_likelihood(&same, &diff) + u.iter().map(|&x| RATE.ln() - RATE * x.exp() + x).sum::<f64>()
}

/// `Σ_s log Σ_a π_a Π_i P(a → y_{s,i}; b_i)` from the per-edge transition probabilities.
fn site_log_likelihood(same: &[f64; 3], diff: &[f64; 3]) -> f64 {
    SITES
        .iter()
        .map(|y| {
            let p: f64 =
                (0..4u8).map(|a| (0..3).map(|i| if y[i] == a { same[i] } else { diff[i] }).product::<f64>()).sum();
            (0.25 * p).ln()
        })
        .sum()
}

impl Environment for Star3 {
    type State = Star;

    fn name(&self) -> String {
        "star3".into()
    }
    fn action_count(&self) -> usize {
        7
    }
    fn exit_action(&self) -> usize {
        EXIT
    }
    fn feature_dim(&self) -> usize {
        9
    }
    fn source(&self) -> Star {
        Star::Source
    }
    fn forward_mask(&self, state: &Star, mask: &mut [bool]) {
        match state {
            Star::Source => mask[..3].fill(true),
            Star::Pair { pair, .. } => mask[3 + third(*pair)] = true,
            Star::Tree { .. } => mask[EXIT] = true,
        }
    }
    fn backward_mask(&self, state: &Star, mask: &mut [bool]) {
        match state {
            Star::Source => {}
            Star::Pair { pair, .. } => mask[*pair] = true,
            Star::Tree { .. } => mask[3..6].fill(true),
        }
    }
    fn step(&self, state: &mut Star, action: usize) -> Result<()> {
        Err(Star3::invalid(state, action, "every merge draws branch lengths: use step_with"))
    }
    fn backward_step(&self, state: &mut Star, action: usize) -> Result<()> {
        match (&*state, action) {
            (Star::Pair { pair, .. }, a) if a == *pair => *state = Star::Source,
            (Star::Tree { u }, a) if (3..6).contains(&a) => {
                let k = a - 3;
                let pair = PAIRS.iter().position(|&(i, j)| i != k && j != k).expect("two taxa remain");
                let (i, j) = PAIRS[pair];
                *state = Star::Pair { pair, u: [u[i], u[j]] };
            }
            _ => return Err(Star3::invalid(state, action, "not a parent edge")),
        }
        Ok(())
    }
    fn log_reward(&self, state: &Star) -> f64 {
        match state {
            Star::Tree { u } => log_density(u.map(value)),
            _ => f64::NEG_INFINITY,
        }
    }
    fn encode(&self, state: &Star, out: &mut [f32]) {
        let center = self.location().0;
        let mut put = |taxon: usize, u: u64| out[6 + taxon] = (value(u) - center) as f32;
        match state {
            Star::Source => out[0] = 1.0,
            Star::Pair { pair, u } => {
                let (i, j) = PAIRS[*pair];
                put(i, u[0]);
                put(j, u[1]);
                out[1] = 1.0;
                out[3 + pair] = 1.0;
            }
            Star::Tree { u } => {
                for (taxon, &x) in u.iter().enumerate() {
                    put(taxon, x);
                }
                out[2] = 1.0;
            }
        }
    }
    fn continuous(&self) -> Option<&dyn ContinuousSteps<Star>> {
        Some(self)
    }
}

impl ContinuousSteps<Star> for Star3 {
    fn dim(&self) -> usize {
        2
    }
    /// One head per first merge (its two lengths) and one for the last merge.
    fn heads(&self) -> usize {
        4
    }
    fn count(&self, state: &Star, action: usize) -> usize {
        match state {
            Star::Source => 2,
            Star::Pair { .. } if action != EXIT => 1,
            _ => 0,
        }
    }
    fn head(&self, state: &Star, action: usize) -> usize {
        if *state == Star::Source { action } else { 3 }
    }
    fn step_with(&self, state: &mut Star, action: usize, values: &[f64]) -> Result<()> {
        match (&*state, action) {
            (Star::Source, a) if a < 3 => *state = Star::Pair { pair: a, u: [bits(values[0]), bits(values[1])] },
            (Star::Pair { pair, u }, a) if a == 3 + third(*pair) => {
                let (i, j) = PAIRS[*pair];
                let mut all = [0; 3];
                all[i] = u[0];
                all[j] = u[1];
                all[a - 3] = bits(values[0]);
                *state = Star::Tree { u: all };
            }
            _ => return Err(Star3::invalid(state, action, "not allowed here")),
        }
        Ok(())
    }
    fn location(&self) -> (f64, f64) {
        (0.1f64.ln(), 1.0)
    }
}

/// The quadrature grid over each log-length.
struct Grid {
    lo: f64,
    step: f64,
    points: usize,
}

impl Grid {
    fn at(&self, i: usize) -> f64 {
        self.lo + (i as f64 + 0.5) * self.step
    }
}

/// `log Z = log ∫ R(u) du` by the midpoint rule on a 3-D grid, and the marginal density of `u_0`
/// on the grid (normalised, per cell).
fn quadrature(grid: &Grid) -> (f64, Vec<f64>) {
    let n = grid.points;
    let tables: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let e = (-4.0 / 3.0 * grid.at(i).exp()).exp();
            (0.25 + 0.75 * e, 0.25 - 0.25 * e)
        })
        .collect();
    let log_prior: Vec<f64> = (0..n).map(|i| RATE.ln() - RATE * grid.at(i).exp() + grid.at(i)).collect();
    // A reference value keeps the sums in range.
    let reference = log_density([0.1f64.ln(); 3]);
    let mut marginal = vec![0.0; n];
    for a in 0..n {
        for b in 0..n {
            for c in 0..n {
                let same = [tables[a].0, tables[b].0, tables[c].0];
                let diff = [tables[a].1, tables[b].1, tables[c].1];
                let log_r = site_log_likelihood(&same, &diff) + log_prior[a] + log_prior[b] + log_prior[c];
                marginal[a] += (log_r - reference).exp();
            }
        }
    }
    let total: f64 = marginal.iter().sum();
    let log_z = reference + (total * grid.step.powi(3)).ln();
    (log_z, marginal.iter().map(|m| m / total).collect())
}

fn tb_loss(policy: &Policy, traj: &Trajectories<Star>) -> f64 {
    let out = policy.infer(&feature_matrix(traj)).expect("infer");
    let terms = StepTerms::compute(&Star3, traj, &out, &Requirements::default()).expect("terms");
    let mut grads = TermGrads::default();
    TrajectoryBalance::new(Residual::Squared).evaluate(&terms.view(traj, Some(policy.log_z)), &mut grads).expect("loss")
}

#[test]
fn tb_gradient_through_the_mixture_head_matches_finite_differences() {
    // Tanh: smooth, so central differences do not straddle activation kinks.
    let config = PolicyConfig {
        hidden: vec![8],
        activation: Activation::Tanh,
        log_z_init: -20.0,
        mixture_components: 3,
        ..PolicyConfig::default()
    };
    let mut policy = Policy::for_env(Cpu, &config, &Star3, false, &mut stream(4, Purpose::Init, &[])).expect("policy");
    let draw = Draw { seed: 9, purpose: Purpose::Forward, round: 0 };
    let traj =
        sample_forward(&Star3, &policy, 6, Exploration { epsilon: 0.3, temperature: 1.0 }, draw).expect("sample");
    assert_eq!(traj.continuous_dim, 2);
    assert_eq!(traj.step_count(), 18);

    let mut cache = PolicyCache::default();
    let out = policy.forward(feature_matrix(&traj), &mut cache).expect("forward");
    let terms = StepTerms::compute(&Star3, &traj, &out, &Requirements::default()).expect("terms");
    // log P_F of a merge = log P(pair) + the two mixture log-densities (checked independently).
    let (m0, m1) =
        (out.mixture(0, traj.actions[0], 0).expect("mixture"), out.mixture(0, traj.actions[0], 1).expect("m"));
    let x = traj.continuous_values(0);
    let log_pair = terms.forward_log_probs[traj.actions[0]];
    assert!((terms.log_pf[0] - (log_pair + m0.log_density(x[0]) + m1.log_density(x[1]))).abs() < 1e-12);

    let mut grads = TermGrads::default();
    TrajectoryBalance::new(Residual::Squared)
        .evaluate(&terms.view(&traj, Some(policy.log_z)), &mut grads)
        .expect("loss");
    let (d_trunk, _) = terms.logit_grads(&traj, &grads, policy.layout(), false, EXIT);
    policy.zero_grad().expect("zero");
    policy.backward(&cache, &d_trunk, None).expect("backward");
    let analytic: Vec<(String, Vec<f32>)> =
        policy.params().into_iter().map(|(n, p)| (n, p.grad.iter().copied().collect())).collect();
    let h = 1e-2f32;
    let mut checked = 0;
    for (k, (name, grad)) in analytic.iter().enumerate() {
        for idx in (0..grad.len()).step_by(grad.len().div_ceil(40).max(1)) {
            let mut values = [0.0f64; 2];
            for (v, sign) in values.iter_mut().zip([1.0f32, -1.0]) {
                let (_, p) = policy.params_mut().into_iter().nth(k).expect("param");
                p.value.as_mut_slice()[idx] += sign * h;
                *v = tb_loss(&policy, &traj);
                let (_, p) = policy.params_mut().into_iter().nth(k).expect("param");
                p.value.as_mut_slice()[idx] -= sign * h;
            }
            let fd = (values[0] - values[1]) / (2.0 * f64::from(h));
            let g = f64::from(grad[idx]);
            assert!(
                (fd - g).abs() <= 1e-3 + 1e-2 * fd.abs().max(g.abs()),
                "d/d {name}[{idx}]: analytic {g} vs fd {fd}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}

/// The KS distance between the samples `xs` (sorted) and the grid marginal (linear CDF per cell).
fn ks_distance(xs: &[f64], grid: &Grid, marginal: &[f64]) -> f64 {
    let mut ks = 0.0f64;
    let mut cdf_left = 0.0;
    let mut next = 0;
    for (i, &mass) in marginal.iter().enumerate() {
        let right = grid.lo + (i + 1) as f64 * grid.step;
        while next < xs.len() && xs[next] <= right {
            let inside = ((xs[next] - (right - grid.step)) / grid.step).clamp(0.0, 1.0);
            let cdf = cdf_left + inside * mass;
            ks = ks
                .max((cdf - next as f64 / xs.len() as f64).abs())
                .max((cdf - (next + 1) as f64 / xs.len() as f64).abs());
            next += 1;
        }
        cdf_left += mass;
    }
    ks
}

#[test]
fn trajectory_balance_learns_the_branch_length_posterior() {
    let grid = Grid { lo: -13.0, step: 14.5 / 220.0, points: 220 };
    let (log_z, marginal) = quadrature(&grid);

    // log Z starts about 5 nats from the answer, as a reward offset would put it.
    let config = TrainConfig {
        seed: 3,
        iterations: 1500,
        batch_size: 64,
        policy: PolicyConfig { hidden: vec![64, 64], log_z_init: -60.0, ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(Star3, config).expect("trainer");
    for _ in 0..1500 {
        trainer.step().expect("step");
    }
    let learned = trainer.log_z().expect("log z");

    // Importance-sampled log Z with the trained policy as proposal.
    let draw = Draw { seed: 3, purpose: Purpose::Eval, round: 0 };
    let traj = sample_forward(&Star3, trainer.policy(), 8192, Exploration::default(), draw).expect("sample");
    let out = trainer.policy().infer(&feature_matrix(&traj)).expect("infer");
    let terms = StepTerms::compute(&Star3, &traj, &out, &Requirements::default()).expect("terms");
    let log_w = terms.log_weights(&traj);
    let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let is_log_z = max + (log_w.iter().map(|w| (w - max).exp()).sum::<f64>() / log_w.len() as f64).ln();
    let mean_log_w = log_w.iter().sum::<f64>() / log_w.len() as f64;

    let mut u0: Vec<f64> = (0..traj.len())
        .map(|i| match traj.terminal(i) {
            Star::Tree { u } => value(u[0]),
            other => panic!("not terminal: {other:?}"),
        })
        .collect();
    u0.sort_by(f64::total_cmp);
    let ks = ks_distance(&u0, &grid, &marginal);
    eprintln!(
        "quadrature log Z {log_z:.4}; learned {learned:.4}; importance-sampled {is_log_z:.4}; ELBO {mean_log_w:.4}; KS(u0) {ks:.4}"
    );
    assert!((is_log_z - log_z).abs() < 0.02, "IS log Z {is_log_z} vs quadrature {log_z}");
    assert!((learned - log_z).abs() < 0.05, "learned log Z {learned} vs quadrature {log_z}");
    assert!(log_z - mean_log_w < 0.05, "ELBO gap {}", log_z - mean_log_w);
    assert!(ks < 0.03, "KS distance of the u0 marginal {ks}");
}

#[test]
fn unsupported_options_are_errors() {
    let config = |kind| {
        let mut c = TrainConfig::default();
        c.objective.kind = kind;
        c
    };
    for kind in [ObjectiveKind::Fm, ObjectiveKind::Rkl] {
        let err = Trainer::new(Star3, config(kind)).expect_err("unsupported");
        assert!(err.to_string().contains("continuous steps"), "{err}");
    }
    let mut replay = config(ObjectiveKind::Tb);
    replay.replay.capacity = 10;
    assert!(Trainer::new(Star3, replay).expect_err("replay").to_string().contains("replay"));
    let policy = Policy::for_env(Cpu, &PolicyConfig::default(), &Star3, false, &mut stream(1, Purpose::Init, &[]))
        .expect("policy");
    let draw = Draw { seed: 1, purpose: Purpose::Backward, round: 0 };
    let tree = Star::Tree { u: [bits(-2.0); 3] };
    assert!(sample_backward(&Star3, &policy, &[tree], draw).is_err());
    // A policy without the mixture head cannot sample the environment.
    let plain = Policy::new(Cpu, &PolicyConfig::default(), 9, 7, false, &mut stream(1, Purpose::Init, &[])).expect("p");
    let draw = Draw { seed: 1, purpose: Purpose::Forward, round: 0 };
    assert!(sample_forward(&Star3, &plain, 2, Exploration::default(), draw).is_err());
}

#[test]
fn hybrid_training_is_deterministic_across_thread_counts() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(|| {
            let config = TrainConfig {
                batch_size: 16,
                policy: PolicyConfig { hidden: vec![16], ..PolicyConfig::default() },
                ..TrainConfig::default()
            };
            let mut trainer = Trainer::new(Star3, config).expect("trainer");
            let losses: Vec<u64> = (0..20).map(|_| trainer.step().expect("step").loss.to_bits()).collect();
            let params: Vec<u32> =
                trainer.policy().params().iter().flat_map(|(_, p)| p.value.iter().map(|v| v.to_bits())).collect();
            (losses, params, trainer.log_z().expect("log z").to_bits())
        })
    };
    assert_eq!(run(1), run(3));
}
