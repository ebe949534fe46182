//! `gfn ep run --mpi`: clients on MPI ranks, policies gathered to rank 0, which aggregates.
//!
//! Factor `n` is trained by rank `n mod K` (`K` ranks); every rank serialises its policy files
//! into one byte buffer (each file as [`PolicyFile::to_bytes`] behind an 8-byte length), rank 0
//! gathers the buffers (`MPI_Gatherv` on bytes), rebuilds the files and trains the server.

use std::path::PathBuf;
use std::sync::Arc;

use gfn_core::env::Enumerable;
use gfn_core::ep::{FactoredReward, PolicyFile, train_clients};
use gfn_core::train::TrainConfig;
use mpi::datatype::PartitionMut;
use mpi::traits::{Communicator, Root};

use super::ep::{EXACT_LIMIT, serve};
use super::{CliError, CliResult};

/// Frames `files` into one buffer: for each file, its length (u64, little-endian) and its bytes.
fn frame(files: &[PolicyFile]) -> CliResult<Vec<u8>> {
    let mut out = Vec::new();
    for f in files {
        let bytes = f.to_bytes()?;
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Splits a buffer written by [`frame`]; `rank` names its origin in errors.
fn unframe(mut bytes: &[u8], rank: usize) -> CliResult<Vec<(PathBuf, PolicyFile)>> {
    let source = PathBuf::from(format!("MPI rank {rank}"));
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let truncated = || CliError::Usage(format!("truncated policy buffer from MPI rank {rank}"));
        let head: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(truncated)?;
        let n = usize::try_from(u64::from_le_bytes(head)).map_err(|_| truncated())?;
        let body = bytes.get(8..8usize.saturating_add(n)).ok_or_else(truncated)?;
        out.push((source.clone(), PolicyFile::from_bytes(body, &source)?));
        bytes = &bytes[8 + n..];
    }
    Ok(out)
}

/// Runs the protocol over MPI; returns the summary on rank 0 and `None` elsewhere.
pub(crate) fn run_mpi<D: FactoredReward + Enumerable + 'static>(
    env: D,
    client: &TrainConfig,
    server: TrainConfig,
    record: &serde_json::Value,
) -> CliResult<Option<serde_json::Value>> {
    let universe = mpi::initialize().ok_or_else(|| CliError::Usage("MPI is already initialised".into()))?;
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let env = Arc::new(env);
    let mine: Vec<usize> = (0..env.factor_count()).filter(|n| n % size == rank).collect();
    let outcomes = train_clients(env.clone(), &mine, client, EXACT_LIMIT, record)?;
    let files: Vec<PolicyFile> = outcomes.into_iter().map(|o| o.file).collect();
    let buffer = frame(&files)?;
    let length = i32::try_from(buffer.len())
        .map_err(|_| CliError::Usage(format!("policy buffer of {} bytes exceeds MPI's count limit", buffer.len())))?;
    let root = world.process_at_rank(0);
    if rank != 0 {
        root.gather_into(&length);
        root.gather_varcount_into(&buffer[..]);
        return Ok(None);
    }
    let mut lengths = vec![0i32; size];
    root.gather_into_root(&length, &mut lengths[..]);
    let displs: Vec<i32> = lengths
        .iter()
        .scan(0i32, |acc, &n| {
            let at = *acc;
            *acc += n;
            Some(at)
        })
        .collect();
    let total: usize = lengths.iter().map(|&n| n as usize).sum();
    let mut all = vec![0u8; total];
    {
        let mut partition = PartitionMut::new(&mut all[..], &lengths[..], &displs[..]);
        root.gather_varcount_into_root(&buffer[..], &mut partition);
    }
    let mut gathered = Vec::new();
    for (r, (&at, &n)) in displs.iter().zip(&lengths).enumerate() {
        gathered.extend(unframe(&all[at as usize..(at + n) as usize], r)?);
    }
    let (_, mut line) = serve(env, &gathered, server, None)?;
    line["ranks"] = serde_json::json!(size);
    Ok(Some(line))
}
