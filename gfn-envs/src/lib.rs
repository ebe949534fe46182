//! Built-in environments of the `gfn` framework, declared with the environment DSL of
//! `gfn-macros` (`#[derive(State)]`, `#[derive(Action)]`, `#[environment]`), except [`phylo`],
//! which implements `gfn_core::env::Environment` by hand (its forests of trees and edge-numbered
//! final merges do not fit a fixed state struct).
//!
//! | module | environment | config | objects |
//! |---|---|---|---|
//! | [`hypergrid`] | [`hypergrid::Hypergrid`] | [`hypergrid::HypergridConfig`] | points of `{0..H-1}^D` |
//! | [`bitseq`] | [`bitseq::BitSequence`] | [`bitseq::BitSequenceConfig`] | bit strings built in `k`-bit words |
//! | [`sets`] | [`sets::SetGeneration`] | [`sets::SetConfig`] | subsets of a fixed size |
//! | [`sequences`] | [`sequences::SequenceGeneration`] | [`sequences::SequenceConfig`] | token sequences of a fixed length |
//! | [`phylo`] | [`phylo::env::PhyloEnv`] | [`phylo::config::PhyloConfig`] + an alignment | unrooted phylogenetic trees (with branch-length bins for JC69) |
//!
//! Every environment validates its config in `new` (returning `Error::InvalidConfig`), implements
//! `Enumerable` (exact evaluation for small sizes) and passes `gfn_core::check::check_environment`.

pub mod bitseq;
pub mod hypergrid;
pub mod phylo;
pub mod sequences;
pub mod sets;
