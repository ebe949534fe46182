//! What the trainer supports for hybrid environments ([`crate::env::continuous`]).

use super::config::{ObjectiveKind, TrainConfig};
use crate::env::Environment;
use crate::{Error, Result};

/// Rejects the options a hybrid environment cannot train with: flow matching (its edge flows
/// enumerate discrete parents), the divergence objectives (untested with continuous steps), and
/// replay buffers and target samples (which rebuild states from discrete action paths).
/// Annealing works: the best object is stored with its drawn values and rescored from its state.
pub(super) fn check_supported<E: Environment>(env: &E, config: &TrainConfig) -> Result<()> {
    if env.continuous().is_none() {
        return Ok(());
    }
    let kind = config.objective.kind;
    if kind == ObjectiveKind::Fm || kind.is_divergence() || config.objective.needs_targets() {
        return Err(Error::config(
            "objective",
            kind,
            format!("{} has continuous steps: use tb, db, moddb, subtb, vargrad, cb or cbf", env.name()),
        ));
    }
    if config.replay.capacity > 0 {
        return Err(Error::config(
            "replay",
            config.replay.capacity,
            format!("{} has continuous steps, which replay buffers (discrete action paths) cannot store", env.name()),
        ));
    }
    Ok(())
}
