//! Built-in environments of the `gfn` framework, all declared with the environment DSL of
//! `gfn-macros` (`#[derive(State)]`, `#[derive(Action)]`, `#[environment]`).
//!
//! | module | environment | config | objects |
//! |---|---|---|---|
//! | [`hypergrid`] | [`hypergrid::Hypergrid`] | [`hypergrid::HypergridConfig`] | points of `{0..H-1}^D` |
//! | [`bitseq`] | [`bitseq::BitSequence`] | [`bitseq::BitSequenceConfig`] | bit strings built in `k`-bit words |
//! | [`sets`] | [`sets::SetGeneration`] | [`sets::SetConfig`] | subsets of a fixed size |
//! | [`multisets`] | [`multisets::Multisets`] | [`multisets::MultisetConfig`] | multisets of a fixed size |
//! | [`sequences`] | [`sequences::SequenceGeneration`] | [`sequences::SequenceConfig`] | token sequences of a fixed length |
//!
//! Every environment validates its config in `new` (returning `Error::InvalidConfig`), implements
//! `Enumerable` (exact evaluation for small sizes) and passes `gfn_core::check::check_environment`.
//! [`factored`] turns hypergrid, multisets and sequences into factored rewards `Π_n R_n` for
//! EP-GFlowNets.

pub mod bitseq;
pub mod factored;
pub mod hypergrid;
pub mod multisets;
pub mod sequences;
pub mod sets;
