//! Trained policies as files or byte buffers: what a client sends to the server.
//!
//! A policy file is a safetensors file of the policy's tensors (`policy.<name>`) with a JSON
//! sidecar `<path>.json` ([`PolicyMeta`]): which environment (by signature) and which factor it
//! was trained for, the policy architecture, and the client's report. The same content travels as
//! one byte buffer ([`PolicyFile::to_bytes`]) when clients are gathered over MPI.

use std::collections::HashMap;
use std::path::Path;

use nalgebra::DMatrix;
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::policy::{Policy, PolicyConfig};
use crate::rng::{Purpose, stream};
use crate::train::{checkpoint_error, from_view, sidecar_path, to_bytes, write_atomic};
use crate::{Error, Result};

/// The format tag of policy files.
pub const POLICY_FORMAT: &str = "gfn-ep-policy-1";

/// The sidecar of a policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyMeta {
    /// [`POLICY_FORMAT`].
    pub format: String,
    /// The signature of the factored environment (identical for every client of one run).
    pub env_signature: String,
    /// The factor the policy was trained on; `None` for the server.
    pub factor: Option<usize>,
    /// The number of factors of the environment.
    pub factor_count: usize,
    /// Input features of the policy.
    pub feature_dim: usize,
    /// Actions of the policy.
    pub action_count: usize,
    /// Whether the trunk has a state-flow head.
    pub flow_head: bool,
    /// The architecture.
    pub policy: PolicyConfig,
    /// Whatever the caller needs to rebuild the environment (the CLI stores its env options).
    pub env: serde_json::Value,
    /// The training report of the policy's owner (loss, exact L1, local-failure bound, …).
    pub report: serde_json::Value,
}

/// A serialised policy: its sidecar and its safetensors bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    /// The sidecar.
    pub meta: PolicyMeta,
    tensors: Vec<u8>,
}

impl PolicyFile {
    /// Serialises `policy`; `meta.format`, the dimensions and the architecture are taken from the
    /// policy.
    pub fn from_policy<B: Backend>(policy: &Policy<B>, mut meta: PolicyMeta) -> Result<Self> {
        let backend = policy.backend();
        let host = policy
            .params()
            .into_iter()
            .map(|(n, p)| Ok((format!("policy.{n}"), backend.download(&p.value)?)))
            .collect::<Result<Vec<(String, DMatrix<f32>)>>>()?;
        let bytes: Vec<(String, Vec<u8>, Vec<usize>)> =
            host.iter().map(|(n, m)| (n.clone(), to_bytes(m), vec![m.nrows(), m.ncols()])).collect();
        let here = Path::new("<policy>");
        let views = bytes
            .iter()
            .map(|(n, b, s)| {
                TensorView::new(Dtype::F32, s.clone(), b)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| checkpoint_error(here, e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let metadata: HashMap<String, String> = [("format".to_string(), POLICY_FORMAT.to_string())].into();
        let tensors =
            safetensors::serialize(views, Some(metadata)).map_err(|e| checkpoint_error(here, e.to_string()))?;
        let layout = policy.layout();
        meta.format = POLICY_FORMAT.into();
        meta.action_count = layout.actions;
        meta.flow_head = layout.flow_row.is_some();
        meta.policy = policy.config().clone();
        Ok(PolicyFile { meta, tensors })
    }

    /// Rebuilds the policy on `backend`, checking every tensor's name and shape. `source` names
    /// the file (or rank) in errors.
    pub fn policy<B: Backend>(&self, backend: B, source: &Path) -> Result<Policy<B>> {
        let m = &self.meta;
        let mut rng = stream(0, Purpose::Init, &[]);
        let mut policy = Policy::new(backend.clone(), &m.policy, m.feature_dim, m.action_count, m.flow_head, &mut rng)?;
        let tensors = SafeTensors::deserialize(&self.tensors)
            .map_err(|e| checkpoint_error(source, format!("corrupt tensors: {e}")))?;
        for (name, p) in policy.params_mut() {
            let key = format!("policy.{name}");
            let view = tensors.tensor(&key).map_err(|_| checkpoint_error(source, format!("missing tensor {key}")))?;
            let value = from_view(source, &key, &view, backend.shape(&p.value))?;
            p.value = backend.upload(&value)?;
        }
        Ok(policy)
    }

    /// Writes the tensors to `path` and the sidecar to `<path>.json`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.meta).map_err(|e| checkpoint_error(path, e.to_string()))?;
        write_atomic(path, &self.tensors)?;
        write_atomic(&sidecar_path(path), &json)
    }

    /// Reads a policy file written by [`PolicyFile::write`].
    pub fn read(path: &Path) -> Result<Self> {
        let side = sidecar_path(path);
        let text = std::fs::read(&side).map_err(|e| Error::io(&side, e))?;
        let tensors = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::assemble(&text, tensors, path)
    }

    /// One buffer: the sidecar length (8 bytes, little-endian), the sidecar JSON, the tensors.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(&self.meta)
            .map_err(|e| Error::Parse { source_name: "policy sidecar".into(), reason: e.to_string() })?;
        let mut out = Vec::with_capacity(8 + json.len() + self.tensors.len());
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(&self.tensors);
        Ok(out)
    }

    /// Parses a buffer written by [`PolicyFile::to_bytes`]; `source` names its origin in errors.
    pub fn from_bytes(bytes: &[u8], source: &Path) -> Result<Self> {
        let corrupt = || checkpoint_error(source, format!("truncated policy buffer of {} bytes", bytes.len()));
        let head: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(corrupt)?;
        let n = usize::try_from(u64::from_le_bytes(head)).map_err(|_| corrupt())?;
        let json = bytes.get(8..8usize.saturating_add(n)).ok_or_else(corrupt)?;
        Self::assemble(json, bytes[8 + n..].to_vec(), source)
    }

    fn assemble(json: &[u8], tensors: Vec<u8>, source: &Path) -> Result<Self> {
        let meta: PolicyMeta = serde_json::from_slice(json)
            .map_err(|e| checkpoint_error(source, format!("corrupt policy sidecar: {e}")))?;
        if meta.format != POLICY_FORMAT {
            return Err(checkpoint_error(source, format!("format {:?}, expected {POLICY_FORMAT:?}", meta.format)));
        }
        Ok(PolicyFile { meta, tensors })
    }
}
