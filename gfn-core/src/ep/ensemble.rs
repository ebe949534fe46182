//! The frozen client policies the server aggregates.

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;

use super::{FactoredReward, PolicyFile, ServerView};
use crate::backend::{Backend, Cpu};
use crate::env::Environment;
use crate::objective::Requirements;
use crate::policy::Policy;
use crate::terms::{StepTerms, feature_matrix};
use crate::train::LogRewardOverride;
use crate::trajectory::Trajectories;
use crate::{Error, Result};

/// One frozen policy per factor, evaluated on the server's trajectories.
#[derive(Debug)]
pub struct ClientEnsemble<D, B: Backend = Cpu> {
    view: ServerView<D>,
    policies: Vec<Policy<B>>,
}

fn mismatch(source: &Path, reason: String) -> Error {
    Error::Checkpoint { path: source.display().to_string(), reason }
}

impl<D: FactoredReward, B: Backend> ClientEnsemble<D, B> {
    /// Loads one client policy per factor. Every file must be for the server's environment (same
    /// signature, dimensions and number of factors), and the files must cover each factor exactly
    /// once; the error names the offending file.
    pub fn from_files(view: ServerView<D>, backend: B, files: &[(PathBuf, PolicyFile)]) -> Result<Self> {
        let n = view.factor_count();
        let mut slots: Vec<Option<Policy<B>>> = (0..n).map(|_| None).collect();
        for (path, file) in files {
            let m = &file.meta;
            if m.env_signature != view.env_signature() {
                return Err(mismatch(
                    path,
                    format!(
                        "trained on environment {:?}, but the clients are aggregated on {:?}",
                        m.env_signature,
                        view.env_signature()
                    ),
                ));
            }
            if m.feature_dim != view.feature_dim() || m.action_count != view.action_count() {
                return Err(mismatch(
                    path,
                    format!(
                        "policy for {} features and {} actions, the environment has {} and {}",
                        m.feature_dim,
                        m.action_count,
                        view.feature_dim(),
                        view.action_count()
                    ),
                ));
            }
            let factor = m.factor.ok_or_else(|| mismatch(path, "a server policy, not a client policy".into()))?;
            if m.factor_count != n || factor >= n {
                return Err(mismatch(
                    path,
                    format!("client {factor} of {}, the environment has {n} factors", m.factor_count),
                ));
            }
            if slots[factor].is_some() {
                return Err(mismatch(path, format!("a second policy for factor {factor}")));
            }
            slots[factor] = Some(file.policy(backend.clone(), path)?);
        }
        let missing: Vec<String> =
            slots.iter().enumerate().filter(|(_, p)| p.is_none()).map(|(i, _)| i.to_string()).collect();
        if !missing.is_empty() {
            return Err(Error::config(
                "clients",
                files.len(),
                format!("no policy for factor(s) {} of the {n}", missing.join(", ")),
            ));
        }
        Ok(ClientEnsemble { view, policies: slots.into_iter().flatten().collect() })
    }

    /// The client policies, by factor.
    pub fn policies(&self) -> &[Policy<B>] {
        &self.policies
    }

    /// `r̂(τ_i) = Σ_n Σ_t log P_F^(n)(a_t|s_t) − log P_B^(n)(s_t|s_{t+1})` for every trajectory, with
    /// every client evaluated on the same transitions.
    pub fn client_log_ratios(&self, traj: &Trajectories<D::State>) -> Result<Vec<f64>> {
        let features: DMatrix<f32> = feature_matrix(traj);
        let mut out = vec![0.0; traj.len()];
        for policy in &self.policies {
            let output = policy.infer(&features)?;
            let terms = StepTerms::compute(&self.view, traj, &output, &Requirements::default())?;
            for (i, r) in out.iter_mut().enumerate() {
                *r += traj.steps(i).map(|t| terms.log_pf[t] - terms.log_pb[t]).sum::<f64>();
            }
        }
        Ok(out)
    }
}

impl<D: FactoredReward, B: Backend> LogRewardOverride<D::State> for ClientEnsemble<D, B>
where
    Policy<B>: Send + Sync,
{
    fn log_rewards(&self, traj: &Trajectories<D::State>) -> Result<Vec<f64>> {
        self.client_log_ratios(traj)
    }
}
