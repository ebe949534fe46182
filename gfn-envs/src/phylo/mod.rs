//! Bayesian phylogenetic inference and maximum parsimony (PhyloGFN; DOMAINS §1).
//!
//! The scoring core works on a validated, pattern-compressed [`alignment::Alignment`]:
//!
//! - [`fitch`]: bit-parallel Fitch parsimony (gap as a fifth state);
//! - [`likelihood`]: Felsenstein pruning under JC69 with per-pattern rescaling, the Exponential
//!   branch-length prior and the uniform topology prior.

pub mod alignment;
pub mod fitch;
pub mod likelihood;
