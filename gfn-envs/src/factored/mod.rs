//! Factored rewards `R(x) = Π_n R_n(x)` for EP-GFlowNets (`ALGORITHMS.md` §3, §6.5).
//!
//! Each environment keeps its dynamics; the reward becomes a product of `factors` factors, one
//! per client, built by [`gfn_core::ep::Factored`]:
//!
//! | environment | factor `n` | product |
//! |---|---|---|
//! | [`FactoredHypergrid`] | `R_n(x) = r0 + Σ_m exp(−‖x/(H−1) − c_{n,m}‖² / (2w²))`: `modes` Gaussian bumps at centres `c_{n,m} ~ U[0,1]^D` (seeded) | modes where bumps of every client overlap |
//! | [`FactoredMultisets`] | the [`Multisets`](crate::multisets::Multisets) reward with its own utilities `u^(n) ~ U[-1,1]` (seed derived from the factor seed and `n`): `log R_n(S) = Σ_i c_i u^(n)_i` | `log R = Σ_i c_i Σ_n u^(n)_i` |
//! | [`FactoredSequences`] | the [`SequenceGeneration`](crate::sequences::SequenceGeneration) reward with its own position and bigram tables (derived seed): `log R_n(x) = Σ_t u^(n)[t][x_t] + Σ_t b^(n)[x_t][x_{t+1}]` | sums of the tables |
//!
//! The derived seed of factor `n` is [`factor_seed`]`(seed, n)`.

mod envs;
mod grid;

pub use envs::{EnvFactors, FactoredMultisets, FactoredSequences, factored_multisets, factored_sequences};
pub use grid::{FactoredHypergrid, GridBumps, GridBumpsConfig, factored_hypergrid};

use gfn_core::rng::{Purpose, stream};
use rand::Rng as _;

/// The seed of factor `n` of a family seeded with `seed`.
pub fn factor_seed(seed: u64, n: usize) -> u64 {
    stream(seed, Purpose::User, &[0x6661_6374, n as u64]).random()
}
