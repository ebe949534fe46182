//! Bayesian phylogenetic inference and maximum parsimony (PhyloGFN; DOMAINS §1).
//!
//! The scoring core works on a validated, pattern-compressed [`alignment::Alignment`]:
//!
//! - [`fitch`]: bit-parallel Fitch parsimony (gap as a fifth state);
//! - [`likelihood`]: Felsenstein pruning under JC69 with per-pattern rescaling, the Exponential
//!   branch-length prior and the uniform topology prior.
//!
//! The GFlowNet environment [`env::PhyloEnv`] ([`config::PhyloConfig`]) builds trees by merging
//! the trees of a forest ([`forest`]); [`metrics`] has the PhyloGFN evaluation metrics. Its
//! reward temperature can be annealed during training with PhyloGFN's cascading schedule
//! ([`gfn_core::train::AnnealConfig`]).
//!
//! Input, output and tools around it:
//!
//! - [`io`]: FASTA, PHYLIP and NEXUS alignment readers ([`io::read_alignment`]) and writers;
//! - [`tree`] and [`newick`]: an arena tree, Newick reading and writing, NEXUS tree files
//!   ([`tree_file`]);
//! - [`score`]: the Fitch score and the JC69 log-likelihood and priors of a given tree;
//! - [`simulate`]: random trees and JC69 alignments;
//! - [`splits`]: split frequencies of tree samples and the majority-rule consensus tree.

mod actions;
pub mod alignment;
pub mod config;
pub mod continuous;
pub mod env;
mod export;
mod factorised;
mod features;
pub mod fitch;
pub mod forest;
pub mod io;
mod joint;
pub mod likelihood;
pub mod metrics;
pub mod newick;
pub mod score;
pub mod simulate;
pub mod splits;
pub mod tree;
pub mod tree_file;

#[cfg(test)]
mod continuous_tests;
#[cfg(test)]
mod env_tests;
#[cfg(test)]
mod factorised_tests;
#[cfg(test)]
mod test_data;

#[cfg(test)]
mod ds1_tests {
    //! The DS1 test vectors of DOMAINS §1.4.
    use super::alignment::MissingCoding;
    use super::fitch::FitchSet;
    use super::likelihood::{Partials, log_exponential_prior, log_topology_prior};
    use super::test_data::ds1;

    #[test]
    fn caterpillar_scores_match_the_test_vectors() {
        let a = ds1();
        assert_eq!((a.taxon_count(), a.site_count()), (27, 1949));
        // ((((t0,t1),t2),…),t26), all 51 unrooted branches 0.1: the root's two child edges are one
        // unrooted edge, so the last merge splits 0.1 as 0.05 + 0.05.
        let mut fitch = FitchSet::leaf(&a, 0, MissingCoding::AllStates);
        let mut partials = Partials::leaf(&a, 0);
        let mut score = 0.0;
        for t in 1..27 {
            let (merged, cost) = FitchSet::merge(&fitch, &FitchSet::leaf(&a, t, MissingCoding::AllStates), a.weights());
            (fitch, score) = (merged, score + cost);
            let t_child = if t == 26 { 0.05 } else { 0.1 };
            partials = Partials::combine(&partials, t_child, &Partials::leaf(&a, t), t_child);
        }
        assert_eq!(score, 6675.0);
        let log_lik = partials.log_likelihood(a.weights());
        assert!((log_lik + 14_637.021_077).abs() < 1e-5, "{log_lik}");
        assert!((log_exponential_prior(&[0.1; 51], 10.0) - 66.431_840).abs() < 1e-5);
        assert!((log_topology_prior(27) + 73.145_482).abs() < 1e-6);
    }
}
