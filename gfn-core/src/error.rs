//! The error type of `gfn-core`.

/// Everything that can go wrong in the engine. Messages name the offending value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An action index outside the action space, or masked out in the given state.
    #[error("invalid action {action} in state {state}: {reason}")]
    InvalidAction {
        /// The action index.
        action: usize,
        /// Debug rendering of the state.
        state: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A log-reward that is NaN or +inf (or -inf where a finite value is required).
    #[error("invalid log-reward {value} at state {state}: {reason}")]
    InvalidReward {
        /// The log-reward.
        value: f64,
        /// Debug rendering of the state.
        state: String,
        /// Why it is rejected.
        reason: String,
    },
    /// An environment whose masks, steps and inverses disagree.
    #[error("inconsistent environment: {0}")]
    InconsistentEnvironment(String),
    /// A configuration value out of range.
    #[error("invalid configuration: `{field}` = {value}: {reason}")]
    InvalidConfig {
        /// The configuration field.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// Two matrices whose shapes do not fit.
    #[error("shape mismatch in {op}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Expected (rows, cols).
        expected: (usize, usize),
        /// Actual (rows, cols).
        got: (usize, usize),
    },
    /// The state space is larger than the enumeration limit.
    #[error("state space exceeds the enumeration limit of {limit} states")]
    TooManyStates {
        /// The limit that was hit.
        limit: usize,
    },
    /// A non-finite loss or gradient appeared during training.
    #[error("non-finite value in {what}: {value}")]
    NonFinite {
        /// Which quantity.
        what: String,
        /// Its value.
        value: f64,
    },
    /// A checkpoint that cannot be read or does not match the run.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint path.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A data file that cannot be parsed.
    #[error("malformed input {source_name}: {reason}")]
    Parse {
        /// File name or description of the input.
        source_name: String,
        /// What is wrong, with line numbers where known.
        reason: String,
    },
    /// An I/O error, with the path it concerns.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An error reported by a compute backend.
    #[error("backend error: {0}")]
    Backend(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::InvalidConfig`].
    pub fn config(field: &'static str, value: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        Error::InvalidConfig { field, value: value.to_string(), reason: reason.into() }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().display().to_string(), source }
    }
}
