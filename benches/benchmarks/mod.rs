//! Benchmark groups, one module per subsystem.

pub(crate) mod dag;
pub(crate) mod handwritten_grid;
pub(crate) mod mlp;
pub(crate) mod pair_encoder;
pub(crate) mod per_sample;
pub(crate) mod phylo;
pub(crate) mod training;
