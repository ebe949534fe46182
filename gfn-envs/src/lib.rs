//! Built-in environments of the `gfn` framework.

pub mod bitseq;
pub mod hypergrid;
mod sequence_core;
pub mod sequences;
pub mod sets;
