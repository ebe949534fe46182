//! Built-in environments of the `gfn` framework, declared with the environment DSL of
//! `gfn-macros` (`#[derive(State)]`, `#[derive(Action)]`, `#[environment]`), except [`phylo`] and
//! [`dag`], which implement `gfn_core::env::Environment` by hand (forests of trees with
//! edge-numbered final merges, and DAGs carrying a transitive closure, do not fit a fixed state
//! struct).
//!
//! | module | environment | config | objects |
//! |---|---|---|---|
//! | [`hypergrid`] | [`hypergrid::Hypergrid`] | [`hypergrid::HypergridConfig`] | points of `{0..H-1}^D` |
//! | [`bitseq`] | [`bitseq::BitSequence`] | [`bitseq::BitSequenceConfig`] | bit strings built in `k`-bit words |
//! | [`sets`] | [`sets::SetGeneration`] | [`sets::SetConfig`] | subsets of a fixed size |
//! | [`multisets`] | [`multisets::Multisets`] | [`multisets::MultisetConfig`] | multisets of a fixed size |
//! | [`sequences`] | [`sequences::SequenceGeneration`] | [`sequences::SequenceConfig`] | token sequences of a fixed length |
//! | [`dag`] | [`dag::DagEnv`] (hand-written `Environment`) | [`dag::DagConfig`] | DAGs scored by BGe / linear-Gaussian marginal likelihoods |
//! | [`phylo`] | [`phylo::env::PhyloEnv`] | [`phylo::config::PhyloConfig`] + an alignment | unrooted phylogenetic trees (with branch-length bins for JC69) |
//!
//! Every environment validates its config in `new` (returning `Error::InvalidConfig`), implements
//! `Enumerable` (exact evaluation for small sizes) and passes `gfn_core::check::check_environment`.
//! [`factored`] turns hypergrid, multisets and sequences into factored rewards `Π_n R_n` for
//! EP-GFlowNets.

pub mod bitseq;
pub mod dag;
pub mod factored;
pub mod hypergrid;
pub mod multisets;
pub mod phylo;
pub mod sequences;
pub mod sets;
