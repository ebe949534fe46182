//! Built-in environments of the `gfn` framework, declared with the environment DSL of
//! `gfn-macros` (`#[derive(State)]`, `#[derive(Action)]`, `#[environment]`).
//!
//! | module | environment | config | objects |
//! |---|---|---|---|
//! | [`hypergrid`] | [`hypergrid::Hypergrid`] | [`hypergrid::HypergridConfig`] | points of `{0..H-1}^D` |
//! | [`bitseq`] | [`bitseq::BitSequence`] | [`bitseq::BitSequenceConfig`] | bit strings built in `k`-bit words |
//! | [`sets`] | [`sets::SetGeneration`] | [`sets::SetConfig`] | subsets of a fixed size |
//! | [`sequences`] | [`sequences::SequenceGeneration`] | [`sequences::SequenceConfig`] | token sequences of a fixed length |
//! | [`dag`] | [`dag::DagEnv`] (hand-written `Environment`) | [`dag::DagConfig`] | DAGs scored by BGe / linear-Gaussian marginal likelihoods |
//!
//! Every environment validates its config in `new` (returning `Error::InvalidConfig`), implements
//! `Enumerable` (exact evaluation for small sizes) and passes `gfn_core::check::check_environment`.
//! The DAG environment is written by hand rather than with the DSL: its state carries a transitive
//! closure that keeps the acyclicity mask incremental.

pub mod bitseq;
pub mod dag;
pub mod hypergrid;
pub mod sequences;
pub mod sets;
