//! Felsenstein pruning under JC69, and the branch-length and topology priors (DOMAINS §1.4).
//!
//! A node's [`Partials`] hold, per site pattern, the four conditional likelihoods
//! `L_v(s)[a] = P(data below v | state a at v)`, stored rescaled: the true partials are
//! `values · exp(log_scales)`, with one log scale factor per pattern that grows whenever the
//! largest partial of a pattern falls below [`RESCALE_BELOW`]. This keeps trees of any size far
//! from underflow while skipping a `ln` per pattern at most merges.

use super::alignment::Alignment;

/// The number of nucleotide states.
pub const NUCLEOTIDE_STATES: usize = 4;

/// Patterns whose largest partial falls below this value are rescaled to a maximum of 1.
pub const RESCALE_BELOW: f64 = 1.0 / (1u128 << 100) as f64;

/// The JC69 transition probabilities `(P_ii(t), P_ij(t))` for a branch of length `t` (expected
/// substitutions per site): `¼ + ¾ e^{−4t/3}` and `¼ − ¼ e^{−4t/3}`.
#[inline]
pub fn jc69_transition(t: f64) -> (f64, f64) {
    // `e^{−4t/3} − 1` without cancellation, so that `P_ij(t) ≈ t/3` stays positive for tiny `t`
    // (with `exp`, every length below ~1e-16 would give `P_ij = 0` and a log-likelihood of −∞).
    let decay_m1 = (-4.0 * t / 3.0).exp_m1();
    (1.0 + 0.75 * decay_m1, -0.25 * decay_m1)
}

/// The log-density of i.i.d. Exponential(`rate`) branch lengths: `Σ_e (log rate − rate · t_e)`.
pub fn log_exponential_prior(lengths: &[f64], rate: f64) -> f64 {
    lengths.iter().map(|t| rate.ln() - rate * t).sum()
}

/// The log of the uniform prior over the `(2n − 5)!!` unrooted binary topologies of `n ≥ 3` taxa:
/// `−log((2n − 5)!!)`.
pub fn log_topology_prior(n: usize) -> f64 {
    -(3..=(2 * n).saturating_sub(5)).step_by(2).map(|k| (k as f64).ln()).sum::<f64>()
}

/// Rescaled per-pattern partial likelihoods of one node; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Partials {
    /// `values[4 * pattern + state]`.
    values: Vec<f64>,
    /// The log scale factor of each pattern.
    log_scales: Vec<f64>,
}

impl Partials {
    /// The partials of leaf `taxon`: one for every state compatible with its character.
    pub fn leaf(alignment: &Alignment, taxon: usize) -> Partials {
        let values = alignment
            .likelihood_masks(taxon)
            .flat_map(|mask| (0..NUCLEOTIDE_STATES).map(move |a| f64::from(mask >> a & 1)))
            .collect();
        Partials { values, log_scales: vec![0.0; alignment.pattern_count()] }
    }

    /// The partials of a parent with children `left` and `right` at branch lengths `t_left` and
    /// `t_right`: `L_u[a] = (Σ_b P_ab(t_l) L_l[b]) · (Σ_b P_ab(t_r) L_r[b])`.
    pub fn combine(left: &Partials, t_left: f64, right: &Partials, t_right: f64) -> Partials {
        debug_assert_eq!(left.values.len(), right.values.len());
        let (same_l, diff_l) = jc69_transition(t_left);
        let (same_r, diff_r) = jc69_transition(t_right);
        let mut values = vec![0.0; left.values.len()];
        let mut log_scales = Vec::with_capacity(left.log_scales.len());
        for (p, ((l, r), out)) in left
            .values
            .chunks_exact(NUCLEOTIDE_STATES)
            .zip(right.values.chunks_exact(NUCLEOTIDE_STATES))
            .zip(values.chunks_exact_mut(NUCLEOTIDE_STATES))
            .enumerate()
        {
            // Σ_b P_ab L[b] = P_ij Σ_b L[b] + (P_ii − P_ij) L[a].
            let (sum_l, sum_r) = (l.iter().sum::<f64>() * diff_l, r.iter().sum::<f64>() * diff_r);
            let mut max = 0.0f64;
            for a in 0..NUCLEOTIDE_STATES {
                out[a] = (sum_l + (same_l - diff_l) * l[a]) * (sum_r + (same_r - diff_r) * r[a]);
                max = max.max(out[a]);
            }
            let mut log_scale = left.log_scales[p] + right.log_scales[p];
            if max > 0.0 && max < RESCALE_BELOW {
                out.iter_mut().for_each(|v| *v /= max);
                log_scale += max.ln();
            }
            log_scales.push(log_scale);
        }
        Partials { values, log_scales }
    }

    /// The log-likelihood `Σ_p w_p log(Σ_a ¼ L_root(p)[a])` of a root with these partials under the
    /// stationary distribution, with pattern weights `weights`; `-inf` if a pattern is impossible.
    pub fn log_likelihood(&self, weights: &[f64]) -> f64 {
        self.values
            .chunks_exact(NUCLEOTIDE_STATES)
            .zip(&self.log_scales)
            .zip(weights)
            .map(|((v, log_scale), w)| w * ((0.25 * v.iter().sum::<f64>()).ln() + log_scale))
            .sum()
    }

    /// The number of site patterns.
    pub fn pattern_count(&self) -> usize {
        self.log_scales.len()
    }

    /// The (rescaled) partials of pattern `pattern`.
    pub fn pattern(&self, pattern: usize) -> &[f64] {
        &self.values[pattern * NUCLEOTIDE_STATES..(pattern + 1) * NUCLEOTIDE_STATES]
    }

    /// Writes the partials normalised to sum to one per pattern (uniform `¼` where all are zero),
    /// the PhyloGFN features; `out.len() == 4 * pattern_count()`.
    pub fn write_normalised(&self, out: &mut [f32]) {
        for (v, o) in self.values.chunks_exact(NUCLEOTIDE_STATES).zip(out.chunks_exact_mut(NUCLEOTIDE_STATES)) {
            let sum: f64 = v.iter().sum();
            for (x, y) in v.iter().zip(o) {
                // Features are f32 by design; the narrowing is intended.
                #[allow(clippy::cast_possible_truncation, reason = "features are f32")]
                let value = if sum > 0.0 { (x / sum) as f32 } else { 0.25 };
                *y = value;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop, reason = "4×4 matrix algebra reads best with indices")]
mod tests {
    use super::*;
    use crate::phylo::alignment::tests::alignment;

    /// exp(tQ) for the JC69 rate matrix by scaling and squaring of a Taylor series: an independent
    /// route to the transition matrix.
    fn expm_jc69(t: f64) -> [[f64; 4]; 4] {
        let q = |i: usize, j: usize| if i == j { -1.0 } else { 1.0 / 3.0 };
        let squarings = 10;
        let h = t / f64::from(1 << squarings);
        let mut term = [[0.0; 4]; 4];
        let mut sum = [[0.0; 4]; 4];
        for i in 0..4 {
            term[i][i] = 1.0;
            sum[i][i] = 1.0;
        }
        for k in 1..20 {
            let mut next = [[0.0; 4]; 4];
            for i in 0..4 {
                for j in 0..4 {
                    next[i][j] = (0..4).map(|m| term[i][m] * q(m, j) * h).sum::<f64>() / f64::from(k);
                }
            }
            term = next;
            for i in 0..4 {
                for j in 0..4 {
                    sum[i][j] += term[i][j];
                }
            }
        }
        for _ in 0..squarings {
            let mut sq = [[0.0; 4]; 4];
            for i in 0..4 {
                for j in 0..4 {
                    sq[i][j] = (0..4).map(|m| sum[i][m] * sum[m][j]).sum();
                }
            }
            sum = sq;
        }
        sum
    }

    #[test]
    fn transition_probabilities_match_the_matrix_exponential() {
        for t in [0.0, 0.01, 0.3, 2.0] {
            let p = expm_jc69(t);
            let (same, diff) = jc69_transition(t);
            assert!((p[0][0] - same).abs() < 1e-12 && (p[1][2] - diff).abs() < 1e-12, "t = {t}");
        }
        // Tiny lengths keep a positive change probability t/3 + O(t²) (no cancellation).
        for t in [1e-10, 1e-20, 1e-300] {
            let (same, diff) = jc69_transition(t);
            assert!(
                ((diff / (t / 3.0)) - 1.0).abs() < 1e-9 && (same + 3.0 * diff - 1.0).abs() < 1e-15,
                "t = {t}: {diff}"
            );
        }
    }

    #[test]
    fn three_taxa_likelihood_matches_brute_force() {
        // Tree ((a:0.1, b:0.2):0.05, c:0.3) rooted at the top node; sites with ambiguity and gaps.
        let a = alignment(&[("a", "ACGTAR-"), ("b", "ACCTAAN"), ("c", "AGGTTA?")]);
        let (ta, tb, tu, tc) = (0.1, 0.2, 0.05, 0.3);
        let (pa, pb, pu, pc) = (expm_jc69(ta), expm_jc69(tb), expm_jc69(tu), expm_jc69(tc));
        let mut expected = 0.0;
        for p in 0..a.pattern_count() {
            let m = |t: usize| a.likelihood_masks(t).nth(p).unwrap();
            let leaf = |mask: u8, prob: &[[f64; 4]; 4], x: usize| {
                (0..4).filter(|b| mask >> b & 1 == 1).map(|b| prob[x][b]).sum::<f64>()
            };
            let mut site = 0.0;
            for x in 0..4 {
                for y in 0..4 {
                    site += 0.25 * pu[x][y] * leaf(m(0), &pa, y) * leaf(m(1), &pb, y) * leaf(m(2), &pc, x);
                }
            }
            expected += a.weights()[p] * site.ln();
        }
        let leaf = |t| Partials::leaf(&a, t);
        let u = Partials::combine(&leaf(0), ta, &leaf(1), tb);
        let root = Partials::combine(&u, tu, &leaf(2), tc);
        let got = root.log_likelihood(a.weights());
        assert!((got - expected).abs() < 1e-10, "{got} vs {expected}");
        // Pulley principle: rerooting on the branch to c gives the same likelihood.
        let other = Partials::combine(&Partials::combine(&leaf(0), ta, &leaf(1), tb), tu + tc, &leaf(2), 0.0);
        assert!((other.log_likelihood(a.weights()) - expected).abs() < 1e-10);
    }

    #[test]
    fn rescaling_keeps_deep_trees_finite_and_exact() {
        // A caterpillar of 600 taxa (about e^-830 per site) underflows without rescaling.
        let rows: Vec<(String, String)> =
            (0..600).map(|i| (format!("t{i}"), ["ACGT", "CGTA", "GTAC"][i % 3].into())).collect();
        let refs: Vec<(&str, &str)> = rows.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
        let a = alignment(&refs);
        let mut node = Partials::leaf(&a, 0);
        for t in 1..600 {
            node = Partials::combine(&node, 50.0, &Partials::leaf(&a, t), 50.0);
        }
        let log_lik = node.log_likelihood(a.weights());
        assert!(log_lik.is_finite());
        assert!(node.log_scales.iter().all(|s| *s < -200.0), "the patterns were rescaled");
        // With branches this long (P_ab = ¼ ± 1e-29) every leaf and site contributes exactly log ¼.
        let independent = 600.0 * 4.0 * 0.25f64.ln();
        assert!((log_lik - independent).abs() < 1e-9 * independent.abs(), "{log_lik} vs {independent}");
    }

    #[test]
    fn priors() {
        assert!((log_exponential_prior(&[0.1, 0.2], 10.0) - (2.0 * 10f64.ln() - 3.0)).abs() < 1e-12);
        assert_eq!(log_topology_prior(3), 0.0);
        assert!((log_topology_prior(4) + 3f64.ln()).abs() < 1e-12);
        assert!((log_topology_prior(7) + 945f64.ln()).abs() < 1e-12);
        // DOMAINS §1.4 test vector: −log(49!!) for 27 taxa.
        assert!((log_topology_prior(27) + 73.145_482).abs() < 1e-6);
    }

    #[test]
    fn normalised_features() {
        let a = alignment(&[("a", "A-"), ("b", "AC"), ("c", "AC")]);
        let mut out = [0.0f32; 8];
        Partials::leaf(&a, 0).write_normalised(&mut out);
        assert_eq!(out, [1.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.25, 0.25]);
    }
}
