//! Local scores against independent, straightforward computations.

use nalgebra::{DMatrix, DVector};

use super::*;
use crate::dag::simulate::SimulationConfig;

fn data(nodes: usize, samples: usize, seed: u64) -> Dataset {
    SimulationConfig { nodes, samples, seed, ..SimulationConfig::default() }.simulate().unwrap().data
}

fn log_gamma_multi(l: usize, a: f64) -> f64 {
    let pi = std::f64::consts::PI;
    (l * l.saturating_sub(1)) as f64 / 4.0 * pi.ln()
        + (1..=l).map(|i| libm::lgamma(a + (1.0 - i as f64) / 2.0)).sum::<f64>()
}

/// `ln p(D_S)` of the columns `S` under the normal-Wishart model (Kuipers et al. 2014, eq. 2):
/// dimension `l = |S|`, degrees `α_w − d + l`, prior precision `t I_l`; determinants by LU.
fn bge_marginal(data: &Dataset, columns: &[usize], alpha_mu: f64, alpha_w: f64) -> f64 {
    let (n, d, l) = (data.samples(), data.variables() as f64, columns.len());
    if l == 0 {
        return 0.0;
    }
    let nf = n as f64;
    let t = alpha_mu * (alpha_w - d - 1.0) / (alpha_mu + 1.0);
    let alpha_l = alpha_w - d + l as f64;
    let x = DMatrix::from_fn(n, l, |i, k| data.get(i, columns[k]));
    let mean = x.row_mean();
    let mut centred = x.clone();
    for mut row in centred.row_iter_mut() {
        row -= &mean;
    }
    let scatter = centred.transpose() * &centred;
    let r = DMatrix::identity(l, l) * t + scatter + mean.transpose() * &mean * (nf * alpha_mu / (nf + alpha_mu));
    let pi = std::f64::consts::PI;
    0.5 * l as f64 * (alpha_mu / (nf + alpha_mu)).ln() - 0.5 * nf * l as f64 * pi.ln()
        + log_gamma_multi(l, (nf + alpha_l) / 2.0)
        - log_gamma_multi(l, alpha_l / 2.0)
        + 0.5 * alpha_l * l as f64 * t.ln()
        - 0.5 * (nf + alpha_l) * r.determinant().ln()
}

#[test]
fn bge_matches_the_ratio_of_normal_wishart_marginals() {
    let data = data(4, 40, 1);
    for (alpha_mu, alpha_w) in [(1.0, None), (2.5, Some(9.0))] {
        let params = BgeParams { alpha_mu, alpha_w };
        let bge = Bge::new(&data, &params).unwrap();
        let aw = alpha_w.unwrap_or(6.0);
        assert_eq!(bge.alpha_w(), aw);
        for j in 0..4 {
            for parents in 0u32..16 {
                if parents >> j & 1 == 1 {
                    continue;
                }
                let pa = members(parents);
                let mut family = pa.clone();
                family.push(j);
                let direct = bge_marginal(&data, &family, alpha_mu, aw) - bge_marginal(&data, &pa, alpha_mu, aw);
                let score = bge.local_score(j, parents);
                assert!(
                    (score - direct).abs() < 1e-8 * direct.abs().max(1.0),
                    "j={j} pa={parents:#b}: {score} vs {direct}"
                );
            }
        }
        // The complete DAG 0→1→2→3 (all forward edges) scores the joint marginal of all columns.
        let full: f64 = (0..4).map(|j| bge.local_score(j, (1 << j) - 1)).sum();
        let joint = bge_marginal(&data, &[0, 1, 2, 3], alpha_mu, aw);
        assert!((full - joint).abs() < 1e-8 * joint.abs(), "{full} vs {joint}");
    }
}

#[test]
fn bge_is_score_equivalent() {
    let data = data(3, 30, 2);
    let scorer = Scorer::new(&data, &ScoreConfig::default(), &GraphPrior::Uniform).unwrap();
    let score = |parents: &[u32]| scorer.log_score(&Dag::from_parents(parents).unwrap());
    // 0→1→2, 0←1←2 and 0←1→2 are Markov equivalent; the collider 0→1←2 is not.
    let chain = score(&[0, 0b001, 0b010]);
    assert!((chain - score(&[0b010, 0b100, 0])).abs() < 1e-9);
    assert!((chain - score(&[0b010, 0, 0b010])).abs() < 1e-9);
    assert!((chain - score(&[0, 0b101, 0])).abs() > 1e-6);
}

/// `ln N(x_j; μ0 X_Pa 1, σ² I_N + σ0² X_Pa X_Paᵀ)` with the full `N × N` covariance.
fn lingauss_direct(data: &Dataset, j: usize, pa: &[usize], p: &LinGaussParams) -> f64 {
    let n = data.samples();
    let x = DMatrix::from_fn(n, pa.len(), |i, k| data.get(i, pa[k]));
    let target = DVector::from_fn(n, |i, _| data.get(i, j));
    let mean = &x * DVector::from_element(pa.len(), p.prior_mean);
    let cov = DMatrix::identity(n, n) * p.obs_std.powi(2) + &x * x.transpose() * p.prior_std.powi(2);
    let r = target - mean;
    let quad = (r.transpose() * cov.clone().try_inverse().unwrap() * &r)[(0, 0)];
    -0.5 * (quad + cov.determinant().ln() + n as f64 * (2.0 * std::f64::consts::PI).ln())
}

#[test]
fn lingauss_matches_the_full_covariance_likelihood() {
    let data = data(4, 25, 3);
    for params in [LinGaussParams::default(), LinGaussParams { prior_mean: 0.3, prior_std: 0.7, obs_std: 0.5 }] {
        let score = LinGauss::new(&data, &params).unwrap();
        for j in 0..4 {
            for parents in 0u32..16 {
                if parents >> j & 1 == 1 {
                    continue;
                }
                let direct = lingauss_direct(&data, j, &members(parents), &params);
                let fast = score.local_score(j, parents);
                assert!(
                    (fast - direct).abs() < 1e-7 * direct.abs().max(1.0),
                    "j={j} pa={parents:#b}: {fast} vs {direct}"
                );
            }
        }
    }
}

#[test]
fn scorer_caches_node_terms_and_deltas_are_one_difference() {
    let data = data(4, 30, 4);
    let prior = GraphPrior::ErdosRenyi { expected_edges: Some(2.0) };
    let scorer = Scorer::new(&data, &"lingauss".parse().unwrap(), &prior).unwrap();
    let node_prior = NodePrior::new(&prior, 4).unwrap();
    let dag = Dag::from_parents(&[0, 0b0001, 0b0011, 0]).unwrap();
    let direct: f64 = (0..4)
        .map(|j| {
            scorer.local().local_score(j, dag.parents(j)) + node_prior.log_prior(dag.parents(j).count_ones() as usize)
        })
        .sum();
    assert!((scorer.log_score(&dag) - direct).abs() < 1e-12);
    let stats = scorer.cache().stats();
    assert_eq!((stats.hits, stats.misses, stats.entries), (0, 4, 4));
    let mut next = dag;
    next.add_edge(3, 2);
    let delta = scorer.delta_log_score(&dag, 3, 2);
    assert!((scorer.log_score(&next) - scorer.log_score(&dag) - delta).abs() < 1e-9);
    let stats = scorer.cache().stats();
    assert_eq!(stats.entries, 5, "the delta computed one new node term");
    assert!(stats.hits >= 7);
}

#[test]
fn invalid_hyper_parameters_are_errors() {
    let data = data(3, 10, 5);
    let bad = [
        ScoreConfig::Bge(BgeParams { alpha_mu: 0.0, alpha_w: None }),
        ScoreConfig::Bge(BgeParams { alpha_mu: 1.0, alpha_w: Some(4.0) }),
        ScoreConfig::Lingauss(LinGaussParams { obs_std: 0.0, ..LinGaussParams::default() }),
        ScoreConfig::Lingauss(LinGaussParams { prior_std: f64::NAN, ..LinGaussParams::default() }),
    ];
    for config in bad {
        let err = LocalScore::new(&data, &config).expect_err("invalid");
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    }
    assert!("bdeu".parse::<ScoreConfig>().is_err());
}
