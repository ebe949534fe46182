//! Benchmark groups, one module per subsystem.

pub(crate) mod mlp;
