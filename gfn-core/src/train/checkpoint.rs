//! Checkpoints: tensors in safetensors (readable from Python), everything else in a JSON sidecar
//! `<path>.json`. Both files are written atomically (temporary file, then rename) and carry the
//! iteration, so a torn pair is detected on load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use super::trainer::{ScalarState, Trainer};
use crate::backend::Backend;
use crate::env::Environment;
use crate::optim::AdamState;
use crate::{Error, Result};

/// The checkpoint format tag written into both files.
pub const CHECKPOINT_FORMAT: &str = "gfn-checkpoint-1";

/// The JSON sidecar of a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sidecar {
    /// [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// Iterations completed.
    pub iteration: u64,
    /// The environment's [`Environment::signature`].
    pub env_signature: String,
    /// Whatever the caller needs to rebuild the environment (the CLI stores its env options).
    pub env: serde_json::Value,
    /// The training configuration.
    pub config: TrainConfig,
    /// Adam's step counter.
    pub adam_steps: u64,
    pub(super) scalars: ScalarState,
}

pub(crate) fn checkpoint_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.display().to_string(), reason: reason.into() }
}

/// The sidecar path of a checkpoint.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Reads and validates the sidecar of the checkpoint at `path`.
pub fn read_sidecar(path: &Path) -> Result<Sidecar> {
    let side = sidecar_path(path);
    let text = std::fs::read_to_string(&side).map_err(|e| Error::io(&side, e))?;
    let sidecar: Sidecar =
        serde_json::from_str(&text).map_err(|e| checkpoint_error(&side, format!("corrupt sidecar: {e}")))?;
    if sidecar.format != CHECKPOINT_FORMAT {
        return Err(checkpoint_error(&side, format!("format {:?}, expected {CHECKPOINT_FORMAT:?}", sidecar.format)));
    }
    Ok(sidecar)
}

/// Row-major little-endian bytes of a matrix (safetensors layout `[rows, cols]`).
pub(crate) fn to_bytes(m: &DMatrix<f32>) -> Vec<u8> {
    m.transpose().as_slice().iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub(crate) fn from_view(path: &Path, name: &str, view: &TensorView<'_>, shape: (usize, usize)) -> Result<DMatrix<f32>> {
    if view.dtype() != Dtype::F32 || view.shape() != [shape.0, shape.1] {
        return Err(checkpoint_error(
            path,
            format!("tensor {name}: {:?} {:?}, expected F32 {:?}", view.dtype(), view.shape(), [shape.0, shape.1]),
        ));
    }
    let values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(DMatrix::from_row_slice(shape.0, shape.1, &values))
}

impl<E: Environment, B: Backend> Trainer<E, B> {
    /// Saves a checkpoint at `path` (tensors) and `<path>.json` (sidecar). `env` is stored
    /// verbatim for whoever needs to rebuild the environment.
    pub fn save_checkpoint(&self, path: &Path, env: &serde_json::Value) -> Result<()> {
        let adam = self.adam.state(&self.backend)?;
        let mut host: Vec<(String, DMatrix<f32>)> = Vec::new();
        for (name, p) in self.policy.params() {
            host.push((format!("policy.{name}"), self.backend.download(&p.value)?));
        }
        let names: Vec<String> = self.policy.params().into_iter().map(|(n, _)| n).collect();
        for (k, name) in names.iter().enumerate() {
            if let (Some(m), Some(v)) = (adam.m.get(k), adam.v.get(k)) {
                host.push((format!("adam.m.{name}"), m.clone()));
                host.push((format!("adam.v.{name}"), v.clone()));
            }
        }
        let bytes: Vec<(String, Vec<u8>, Vec<usize>)> =
            host.iter().map(|(n, m)| (n.clone(), to_bytes(m), vec![m.nrows(), m.ncols()])).collect();
        let views = bytes
            .iter()
            .map(|(n, b, s)| {
                TensorView::new(Dtype::F32, s.clone(), b)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| checkpoint_error(path, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let metadata: HashMap<String, String> = [
            ("format".to_string(), CHECKPOINT_FORMAT.to_string()),
            ("iteration".to_string(), self.scalars.iteration.to_string()),
            ("env_signature".to_string(), self.reference_env().signature()),
        ]
        .into();
        let tensors =
            safetensors::serialize(views, Some(metadata)).map_err(|e| checkpoint_error(path, e.to_string()))?;
        let sidecar = Sidecar {
            format: CHECKPOINT_FORMAT.into(),
            iteration: self.scalars.iteration,
            env_signature: self.reference_env().signature(),
            env: env.clone(),
            config: self.config.clone(),
            adam_steps: adam.t,
            scalars: self.scalars.clone(),
        };
        let json = serde_json::to_vec_pretty(&sidecar).map_err(|e| checkpoint_error(path, e.to_string()))?;
        write_atomic(path, &tensors)?;
        write_atomic(&sidecar_path(path), &json)
    }

    /// Restores a trainer from a checkpoint, on `env` (which must match the one it was saved
    /// with). Training continues exactly as if it had never stopped.
    pub fn from_checkpoint(env: E, backend: B, path: &Path) -> Result<Self> {
        let sidecar = read_sidecar(path)?;
        // An annealed run was saved at the temperature it had reached.
        let env = match sidecar.scalars.reward_temperature {
            Some(t) if env.reward_temperature() != Some(t) => env.with_reward_temperature(t)?,
            _ => env,
        };
        if sidecar.env_signature != env.signature() {
            return Err(checkpoint_error(
                path,
                format!("saved for environment {:?}, not {:?}", sidecar.env_signature, env.signature()),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let tensors =
            SafeTensors::deserialize(&bytes).map_err(|e| checkpoint_error(path, format!("corrupt tensors: {e}")))?;
        let (_, meta) =
            SafeTensors::read_metadata(&bytes).map_err(|e| checkpoint_error(path, format!("corrupt tensors: {e}")))?;
        let iteration = meta.metadata().as_ref().and_then(|m| m.get("iteration")).cloned().unwrap_or_default();
        if iteration != sidecar.iteration.to_string() {
            return Err(checkpoint_error(
                path,
                format!("tensors are from iteration {iteration:?} but the sidecar from {}", sidecar.iteration),
            ));
        }
        let mut trainer = Trainer::with_backend(env, sidecar.config.clone(), backend)?;
        let mut m = Vec::new();
        let mut v = Vec::new();
        let backend = trainer.backend.clone();
        for (name, p) in trainer.policy.params_mut() {
            let shape = backend.shape(&p.value);
            let get = |key: String| {
                let view = tensors.tensor(&key).map_err(|_| checkpoint_error(path, format!("missing tensor {key}")))?;
                from_view(path, &key, &view, shape)
            };
            p.value = backend.upload(&get(format!("policy.{name}"))?)?;
            if sidecar.adam_steps > 0 {
                m.push(get(format!("adam.m.{name}"))?);
                v.push(get(format!("adam.v.{name}"))?);
            }
        }
        if sidecar.adam_steps > 0 {
            trainer.adam.load_state(&backend, AdamState { t: sidecar.adam_steps, m, v })?;
        }
        trainer.scalars = sidecar.scalars;
        trainer.policy.log_z = trainer.scalars.log_z;
        let table = trainer.scalars.condition_scalars.len();
        let temperatures = trainer.config.condition.temperatures.len();
        if table != temperatures {
            return Err(checkpoint_error(
                path,
                format!("{temperatures} conditioning temperatures but {table} saved log Z values"),
            ));
        }
        // Saved between steps, at the reference temperature, which the loaded trainer is at.
        trainer.load_temperature_scalars();
        trainer.restore_mode_set()?;
        Ok(trainer)
    }
}
