//! The training loop: validated configuration, training steps, metrics, evaluation and
//! checkpoints that resume bit-exactly.

mod anneal;
mod batch;
mod checkpoint;
mod condition;
mod config;
mod divergence_step;
mod fit;
mod flow_step;
mod hybrid;
mod loss;
mod metrics;
mod reward_override;
mod temperature_set;
mod trainer;

pub use anneal::{AnnealConfig, AnnealKind};
pub use checkpoint::{CHECKPOINT_FORMAT, Sidecar, read_sidecar, sidecar_path};
pub(crate) use checkpoint::{checkpoint_error, from_view, to_bytes, write_atomic};
pub use condition::{ConditionConfig, ConditionSchedule};
pub use config::{
    ControlVariateKind, EvalConfig, ExplorationConfig, ObjectiveConfig, ObjectiveKind, OptimConfig, TrainConfig,
};
pub use fit::{RunOptions, RunSummary};
pub use metrics::MetricsWriter;
pub use reward_override::LogRewardOverride;
pub use trainer::{StepStats, Trainer};
