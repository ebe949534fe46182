//! Validated training configuration (serde; mirrored by the CLI flags and TOML files).

use serde::{Deserialize, Serialize};

use super::anneal::AnnealConfig;
use super::condition::ConditionConfig;
use crate::eval::{DEFAULT_FEATURE_BUDGET, MonteCarloEvaluator};
use crate::objective::Residual;
use crate::optim::AdamConfig;
use crate::policy::{Exploration, PolicyConfig};
use crate::replay::ReplayConfig;
use crate::{Error, Result};

/// The training objectives the trainer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectiveKind {
    /// Trajectory balance.
    #[default]
    Tb,
    /// Detailed balance.
    Db,
    /// Modified detailed balance (every state terminating).
    Moddb,
    /// Sub-trajectory balance SubTB(λ).
    Subtb,
    /// Flow matching.
    Fm,
    /// VarGrad / log-partition variance.
    Vargrad,
    /// Contrastive balance, half-batch pairs.
    Cb,
    /// Contrastive balance, all pairs.
    Cbf,
    /// Reverse KL `KL(P_F ‖ P_B R/Z)` (score-function estimator, on-policy).
    Rkl,
    /// Forward KL `KL(P_B R/Z ‖ P_F)` with self-normalised importance weights (on-policy).
    Fkl,
    /// Rényi-α divergence (on-policy).
    Renyi,
    /// Tsallis-α divergence (on-policy).
    Tsallis,
    /// α-KL: `(1−α)` reverse KL on forward trajectories + `α` forward KL on backward trajectories
    /// from target samples.
    Akl,
    /// α-TB: trajectory balance on forward trajectories (weight `1−α`) and on backward
    /// trajectories from target samples (weight `α`).
    Atb,
}

impl ObjectiveKind {
    /// Every kind, in CLI order.
    pub const ALL: [ObjectiveKind; 14] = [
        ObjectiveKind::Tb,
        ObjectiveKind::Db,
        ObjectiveKind::Moddb,
        ObjectiveKind::Subtb,
        ObjectiveKind::Fm,
        ObjectiveKind::Vargrad,
        ObjectiveKind::Cb,
        ObjectiveKind::Cbf,
        ObjectiveKind::Rkl,
        ObjectiveKind::Fkl,
        ObjectiveKind::Renyi,
        ObjectiveKind::Tsallis,
        ObjectiveKind::Akl,
        ObjectiveKind::Atb,
    ];

    /// The CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectiveKind::Tb => "tb",
            ObjectiveKind::Db => "db",
            ObjectiveKind::Moddb => "moddb",
            ObjectiveKind::Subtb => "subtb",
            ObjectiveKind::Fm => "fm",
            ObjectiveKind::Vargrad => "vargrad",
            ObjectiveKind::Cb => "cb",
            ObjectiveKind::Cbf => "cbf",
            ObjectiveKind::Rkl => "rkl",
            ObjectiveKind::Fkl => "fkl",
            ObjectiveKind::Renyi => "renyi",
            ObjectiveKind::Tsallis => "tsallis",
            ObjectiveKind::Akl => "akl",
            ObjectiveKind::Atb => "atb",
        }
    }

    /// Whether this is a divergence objective (score-function estimator on on-policy batches).
    pub fn is_divergence(self) -> bool {
        matches!(
            self,
            ObjectiveKind::Rkl
                | ObjectiveKind::Fkl
                | ObjectiveKind::Renyi
                | ObjectiveKind::Tsallis
                | ObjectiveKind::Akl
                | ObjectiveKind::Atb
        )
    }

    /// Whether each batch also needs backward trajectories from target samples `x ~ R/Z`.
    pub fn needs_targets(self) -> bool {
        matches!(self, ObjectiveKind::Akl | ObjectiveKind::Atb)
    }

    /// Whether its on-policy estimator has a score signal, which the per-parameter (opt-vector)
    /// control variate needs: rkl, fkl, renyi and tsallis.
    pub fn has_score_signal(self) -> bool {
        matches!(self, ObjectiveKind::Rkl | ObjectiveKind::Fkl | ObjectiveKind::Renyi | ObjectiveKind::Tsallis)
    }
}

/// Control variates of the divergence objectives (ALGORITHMS §2.1, §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlVariateKind {
    /// No baseline.
    None,
    /// A learned scalar baseline (trained like `log Z`, with `lr_log_z`).
    Learned,
    /// Leave-one-out mean of the other trajectories' signals (RLOO).
    Loo,
    /// Leave-one-out log-mean-exp estimate of `log Z`.
    Logz,
    /// Leave-one-out optimal scalar from per-sample score norms.
    OptScalar,
    /// Optimal per-parameter baseline.
    OptVector,
}

impl ControlVariateKind {
    /// Every kind, in CLI order.
    pub const ALL: [ControlVariateKind; 6] = [
        ControlVariateKind::None,
        ControlVariateKind::Learned,
        ControlVariateKind::Loo,
        ControlVariateKind::Logz,
        ControlVariateKind::OptScalar,
        ControlVariateKind::OptVector,
    ];

    /// The CLI name (`"opt-scalar"`).
    pub fn name(self) -> &'static str {
        match self {
            ControlVariateKind::None => "none",
            ControlVariateKind::Learned => "learned",
            ControlVariateKind::Loo => "loo",
            ControlVariateKind::Logz => "logz",
            ControlVariateKind::OptScalar => "opt-scalar",
            ControlVariateKind::OptVector => "opt-vector",
        }
    }

    /// Whether the control variate needs per-trajectory parameter gradients (the optimal ones).
    pub fn needs_per_sample_gradients(self) -> bool {
        matches!(self, ControlVariateKind::OptScalar | ControlVariateKind::OptVector)
    }

    /// The objective-level control variate.
    pub fn control_variate(self) -> crate::objective::ControlVariate {
        use crate::objective::ControlVariate as Cv;
        match self {
            ControlVariateKind::None => Cv::None,
            ControlVariateKind::Learned => Cv::Learned,
            ControlVariateKind::Loo => Cv::LeaveOneOut,
            ControlVariateKind::Logz => Cv::LogZ,
            ControlVariateKind::OptScalar => Cv::OptScalar,
            ControlVariateKind::OptVector => Cv::OptVector,
        }
    }
}

impl std::str::FromStr for ControlVariateKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let key = s.replace('_', "-");
        ControlVariateKind::ALL.into_iter().find(|k| k.name() == key).ok_or_else(|| {
            let names: Vec<&str> = ControlVariateKind::ALL.iter().map(|k| k.name()).collect();
            Error::config("cv", s, format!("unknown control variate; expected one of {}", names.join(", ")))
        })
    }
}

impl std::fmt::Display for ObjectiveKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ObjectiveKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ObjectiveKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = ObjectiveKind::ALL.iter().map(|k| k.as_str()).collect();
            Error::config("objective", s, format!("unknown objective; expected one of {}", names.join(", ")))
        })
    }
}

/// Objective settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectiveConfig {
    /// Which objective.
    pub kind: ObjectiveKind,
    /// SubTB's λ.
    pub lambda: f64,
    /// Residual penalty.
    pub residual: Residual,
    /// The order α of Rényi-α and Tsallis-α.
    pub alpha: f64,
    /// The control variate of a divergence objective (default: leave-one-out).
    pub control_variate: Option<ControlVariateKind>,
    /// Forward KL only: train on backward trajectories `τ ~ P_B(·|x)` from target samples `x`
    /// (data, via `Trainer::set_target_sampler`) instead of on-policy importance weights.
    pub from_targets: bool,
}

impl Default for ObjectiveConfig {
    fn default() -> Self {
        ObjectiveConfig {
            kind: ObjectiveKind::Tb,
            lambda: 0.9,
            residual: Residual::Squared,
            alpha: crate::objective::DEFAULT_ALPHA,
            control_variate: None,
            from_targets: false,
        }
    }
}

impl ObjectiveConfig {
    /// The control variate in effect (leave-one-out unless chosen).
    pub fn control_variate(&self) -> ControlVariateKind {
        self.control_variate.unwrap_or(ControlVariateKind::Loo)
    }

    /// Whether each batch needs backward trajectories from target samples `x ~ R/Z`: α-KL, α-TB,
    /// and forward KL with [`ObjectiveConfig::from_targets`].
    pub fn needs_targets(&self) -> bool {
        self.kind.needs_targets() || self.from_targets
    }

    /// Whether a batch is made only of backward trajectories from target samples (no on-policy
    /// trajectories): forward KL with [`ObjectiveConfig::from_targets`].
    pub fn targets_only(&self) -> bool {
        self.from_targets
    }

    /// The control variate if it needs per-trajectory score gradients (opt-scalar, opt-vector).
    pub fn per_sample_control_variate(&self) -> Option<ControlVariateKind> {
        let cv = self.control_variate();
        (self.kind.is_divergence() && matches!(cv, ControlVariateKind::OptScalar | ControlVariateKind::OptVector))
            .then_some(cv)
    }

    /// Checks the divergence-specific settings against the rest of the run.
    fn validate_divergence(&self, config: &TrainConfig) -> Result<()> {
        let cv = self.control_variate();
        if self.from_targets
            && (self.kind != ObjectiveKind::Fkl || !matches!(cv, ControlVariateKind::None | ControlVariateKind::Loo))
        {
            return Err(Error::config(
                "from_targets",
                format!("{} with cv {}", self.kind, cv.name()),
                "training on target samples alone is forward KL (fkl) with the none or loo control variate",
            ));
        }
        if !self.kind.is_divergence() {
            return match self.control_variate {
                Some(cv) => Err(Error::config(
                    "cv",
                    cv.name(),
                    format!(
                        "control variates apply to divergence objectives (rkl, fkl, renyi, tsallis), not {}",
                        self.kind
                    ),
                )),
                None => Ok(()),
            };
        }
        if config.exploration.epsilon != 0.0 || config.exploration.temperature != 1.0 {
            return Err(Error::config(
                "epsilon/temperature",
                format!("{}/{}", config.exploration.epsilon, config.exploration.temperature),
                format!(
                    "{} is a score-function estimator and needs exactly on-policy batches (epsilon 0, temperature 1)",
                    self.kind
                ),
            ));
        }
        if config.replay.capacity != 0 {
            return Err(Error::config(
                "replay",
                config.replay.capacity,
                format!("{} needs exactly on-policy batches; disable the replay buffer", self.kind),
            ));
        }
        if cv == ControlVariateKind::OptVector && !self.kind.has_score_signal() {
            return Err(Error::config(
                "cv",
                "opt-vector",
                format!("the per-parameter baseline applies to rkl, fkl, renyi and tsallis, not {}", self.kind),
            ));
        }
        if matches!(self.kind, ObjectiveKind::Renyi | ObjectiveKind::Tsallis) {
            if self.alpha == 0.0 || self.alpha == 1.0 || !self.alpha.is_finite() {
                return Err(Error::config(
                    "alpha",
                    self.alpha,
                    "alpha must be finite and not 0 or 1 (the limits are the KL divergences: use rkl or fkl)",
                ));
            }
            if matches!(cv, ControlVariateKind::Learned | ControlVariateKind::Logz) {
                return Err(Error::config(
                    "cv",
                    cv.name(),
                    format!("{} supports the none, loo, opt-scalar and opt-vector control variates", self.kind),
                ));
            }
        }
        if self.kind.needs_targets() && !(0.0..=1.0).contains(&self.alpha) {
            return Err(Error::config(
                "alpha",
                self.alpha,
                format!("the backward ratio of {} must be in [0, 1]", self.kind),
            ));
        }
        if self.kind == ObjectiveKind::Atb && self.control_variate.is_some() {
            return Err(Error::config("cv", cv.name(), "atb uses log Z as its baseline; no --cv"));
        }
        if self.kind == ObjectiveKind::Fkl && matches!(cv, ControlVariateKind::Learned | ControlVariateKind::Logz) {
            return Err(Error::config(
                "cv",
                cv.name(),
                "fkl supports the none, loo, opt-scalar and opt-vector control variates",
            ));
        }
        Ok(())
    }
}

/// Optimiser settings: Adam for the networks, a separate Adam group for `log Z`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Adam for the network parameters.
    pub adam: AdamConfig,
    /// Learning rate of `log Z`.
    pub lr_log_z: f64,
    /// Global gradient-norm clipping threshold (`None`: no clipping).
    pub clip_grad_norm: Option<f64>,
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig { adam: AdamConfig::default(), lr_log_z: 0.1, clip_grad_norm: None }
    }
}

/// Exploration during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExplorationConfig {
    /// Probability of a uniformly random allowed action.
    pub epsilon: f64,
    /// Logit temperature.
    pub temperature: f64,
}

impl Default for ExplorationConfig {
    fn default() -> Self {
        ExplorationConfig { epsilon: 0.0, temperature: 1.0 }
    }
}

impl ExplorationConfig {
    /// The sampler's view.
    pub fn exploration(&self) -> Exploration {
        Exploration { epsilon: self.epsilon, temperature: self.temperature }
    }
}

/// Evaluation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Evaluate every this many iterations (0: only at the end).
    pub every: u64,
    /// Forward samples of a Monte-Carlo evaluation.
    pub samples: usize,
    /// Backward samples per object in a Monte-Carlo evaluation.
    pub backward_samples: usize,
    /// The most feature values (states × feature dimension) a Monte-Carlo evaluation encodes
    /// (0: no limit); it samples fewer trajectories rather than exceed it
    /// ([`MonteCarloEvaluator`](crate::eval::MonteCarloEvaluator)).
    pub feature_budget: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig { every: 0, samples: 512, backward_samples: 16, feature_budget: DEFAULT_FEATURE_BUDGET }
    }
}

impl EvalConfig {
    /// The Monte-Carlo evaluator these settings describe, for a run seeded with `seed`.
    pub fn monte_carlo(&self, seed: u64) -> Result<MonteCarloEvaluator> {
        let mc = MonteCarloEvaluator::new(self.samples, self.backward_samples, seed)?;
        Ok(MonteCarloEvaluator { feature_budget: (self.feature_budget > 0).then_some(self.feature_budget), ..mc })
    }
}

/// Everything that defines a training run, apart from the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Seed of every random stream.
    pub seed: u64,
    /// Training iterations.
    pub iterations: u64,
    /// On-policy trajectories per iteration.
    pub batch_size: usize,
    /// The objective.
    pub objective: ObjectiveConfig,
    /// The policy architecture.
    pub policy: PolicyConfig,
    /// Optimisers.
    pub optim: OptimConfig,
    /// Exploration.
    pub exploration: ExplorationConfig,
    /// Replay buffer.
    pub replay: ReplayConfig,
    /// Evaluation.
    pub eval: EvalConfig,
    /// Write a metrics line every this many iterations.
    pub log_every: u64,
    /// Reward-temperature annealing (off by default).
    pub anneal: AnnealConfig,
    /// Temperature conditioning (off by default).
    pub condition: ConditionConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 0,
            iterations: 2000,
            batch_size: 16,
            objective: ObjectiveConfig::default(),
            policy: PolicyConfig::default(),
            optim: OptimConfig::default(),
            exploration: ExplorationConfig::default(),
            replay: ReplayConfig::default(),
            eval: EvalConfig::default(),
            log_every: 100,
            anneal: AnnealConfig::default(),
            condition: ConditionConfig::default(),
        }
    }
}

fn positive(field: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(Error::config(field, v, "must be a positive finite number")) }
}

impl TrainConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::config("batch_size", self.batch_size, "must be positive"));
        }
        if self.log_every == 0 {
            return Err(Error::config("log_every", self.log_every, "must be positive"));
        }
        self.policy.validate()?;
        self.optim.adam.validate()?;
        positive("lr_log_z", self.optim.lr_log_z)?;
        if let Some(c) = self.optim.clip_grad_norm {
            positive("clip_grad_norm", c)?;
        }
        if !(0.0..=1.0).contains(&self.exploration.epsilon) {
            return Err(Error::config("epsilon", self.exploration.epsilon, "must be in [0, 1]"));
        }
        positive("temperature", self.exploration.temperature)?;
        self.replay.validate()?;
        if self.objective.kind == ObjectiveKind::Subtb {
            positive("lambda", self.objective.lambda)?;
        }
        if let Residual::Huber { delta } = self.objective.residual {
            positive("huber_delta", delta)?;
        }
        let total = self.batch_size + self.replay.draws(self.batch_size);
        if self.objective.kind == ObjectiveKind::Cb && total % 2 == 1 {
            return Err(Error::config(
                "batch_size",
                total,
                "contrastive balance pairs trajectories: the batch (replayed objects included) must be even",
            ));
        }
        if self.objective.kind == ObjectiveKind::Fm && self.policy.backward != crate::policy::BackwardPolicy::Uniform {
            return Err(Error::config("pb", "learned", "flow matching has no backward policy; use the uniform one"));
        }
        self.objective.validate_divergence(self)?;
        self.anneal.validate()?;
        if self.anneal.is_active() && self.objective.needs_targets() {
            return Err(Error::config(
                "anneal",
                self.anneal.kind,
                format!("{} trains on target samples drawn at a fixed temperature; no annealing", self.objective.kind),
            ));
        }
        self.condition.validate()?;
        if self.condition.is_active() {
            if self.anneal.is_active() {
                return Err(Error::config(
                    "anneal",
                    self.anneal.kind,
                    "temperature-conditioned training draws its own temperatures; use condition.schedule = \"annealed\" instead",
                ));
            }
            if self.objective.kind.is_divergence() {
                return Err(Error::config(
                    "objective",
                    self.objective.kind,
                    "temperature conditioning applies to the balance objectives (tb, db, subtb, vargrad, cb, fm)",
                ));
            }
        }
        if self.eval.samples == 0 {
            return Err(Error::config("eval.samples", 0, "evaluation sample counts must be positive"));
        }
        if self.eval.backward_samples == 0 {
            return Err(Error::config("eval.backward_samples", 0, "evaluation sample counts must be positive"));
        }
        Ok(())
    }
}
