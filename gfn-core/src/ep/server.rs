//! The server: aggregating balance on trajectories from its own `P_F`, against frozen clients.

use std::path::PathBuf;
use std::sync::Arc;

use super::{AggregatingBalance, ClientEnsemble, FactoredReward, PolicyFile, PolicyMeta, ServerView};
use crate::backend::Cpu;
use crate::env::Environment;
use crate::train::{TrainConfig, Trainer};
use crate::{Error, Result};

/// The server of an EP-GFlowNet run: a [`Trainer`] on the [`ServerView`] (which has no reward)
/// whose batches get `r̂(τ)` from the client ensemble in place of a log-reward, trained with
/// aggregating balance (`cb`/`cbf` on `r̂`). `config.policy.backward` chooses a fixed (uniform) or
/// learned server `P_B`.
#[derive(Debug)]
pub struct Server<D: FactoredReward + 'static> {
    trainer: Trainer<ServerView<D>>,
    ensemble: Arc<ClientEnsemble<D>>,
    loss: AggregatingBalance,
}

impl<D: FactoredReward + 'static> Server<D> {
    /// A server for the client policies `clients` (one per factor, validated by
    /// [`ClientEnsemble::from_files`]).
    pub fn new(view: ServerView<D>, clients: &[(PathBuf, PolicyFile)], config: TrainConfig) -> Result<Self> {
        let loss = AggregatingBalance::from_config(&config.objective)?;
        if config.objective.kind.needs_targets() {
            return Err(Error::config("objective", config.objective.kind, "the server has no target samples"));
        }
        let ensemble = Arc::new(ClientEnsemble::from_files(view.clone(), Cpu, clients)?);
        let mut trainer = Trainer::new(view, config)?;
        trainer.set_log_reward_override(ensemble.clone());
        Ok(Server { trainer, ensemble, loss })
    }

    /// The underlying trainer (to step, fit, or read the policy).
    pub fn trainer(&self) -> &Trainer<ServerView<D>> {
        &self.trainer
    }

    /// The underlying trainer, mutable.
    pub fn trainer_mut(&mut self) -> &mut Trainer<ServerView<D>> {
        &mut self.trainer
    }

    /// The frozen clients.
    pub fn ensemble(&self) -> &ClientEnsemble<D> {
        &self.ensemble
    }

    /// The loss the server optimises.
    pub fn loss(&self) -> AggregatingBalance {
        self.loss
    }

    /// The server's policy as a policy file (`factor: None`).
    pub fn policy_file(&self, env_record: &serde_json::Value, report: serde_json::Value) -> Result<PolicyFile> {
        let view = self.trainer.env();
        let meta = PolicyMeta {
            format: String::new(),
            env_signature: view.env_signature(),
            factor: None,
            factor_count: view.factor_count(),
            feature_dim: view.feature_dim(),
            action_count: view.action_count(),
            flow_head: false,
            policy: self.trainer.config().policy.clone(),
            env: env_record.clone(),
            report,
        };
        PolicyFile::from_policy(self.trainer.policy(), meta)
    }
}
