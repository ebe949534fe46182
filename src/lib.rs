//! gfn: Generative Flow Networks in Rust.
pub use gfn_core::*;
pub use gfn_envs as envs;
