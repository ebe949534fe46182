//! Benchmark groups, one module per subsystem.

pub(crate) mod mlp;
pub(crate) mod per_sample;
