//! Seeded random streams.
//!
//! Every random draw in gfn comes from a stream derived from the run's seed and a *path* that
//! names what the draws are for (iteration, trajectory index, purpose). Streams never depend on
//! which thread uses them, so a run is bit-for-bit reproducible whatever the thread count, and a
//! resumed run needs no RNG state beyond the iteration counter.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random generator used everywhere in gfn.
pub type Rng = ChaCha8Rng;

/// What a stream's draws are used for; part of the stream's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Parameter initialisation.
    Init = 1,
    /// Forward sampling of trajectories.
    Forward = 2,
    /// Backward sampling of trajectories from terminal objects.
    Backward = 3,
    /// Replay-buffer draws.
    Replay = 4,
    /// Evaluation draws.
    Eval = 5,
    /// Anything user code needs (simulated data sets, mode sets).
    User = 6,
    /// Draws of target samples `x ~ R/Z` (objectives that train on them).
    Target = 7,
    /// The reward temperature of each batch of temperature-conditioned training.
    Condition = 8,
}

/// SplitMix64 finaliser: a bijective mixer with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for `(seed, purpose, path…)`.
///
/// ```
/// use gfn_core::rng::{stream, Purpose};
/// use rand::Rng as _;
/// let a: u64 = stream(7, Purpose::Forward, &[3, 1]).random();
/// let b: u64 = stream(7, Purpose::Forward, &[3, 1]).random();
/// let c: u64 = stream(7, Purpose::Forward, &[3, 2]).random();
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
pub fn stream(seed: u64, purpose: Purpose, path: &[u64]) -> Rng {
    let mut h = mix(seed ^ mix(purpose as u64));
    for &p in path {
        h = mix(h ^ mix(p.wrapping_add(0x632B_E59B_D9B4_E019)));
    }
    Rng::seed_from_u64(h)
}
