//! Command-line parsing and dispatch.

mod args;
mod commands;
mod dag;
mod envs;
mod ep;
#[cfg(feature = "mpi")]
mod ep_mpi;
mod phylo;

use clap::Parser;

pub(crate) use args::Cli;

/// Errors of the command-line tool.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Core(#[from] gfn_core::Error),
    #[error("config file {path}: {reason}")]
    Config { path: String, reason: String },
    #[error("{0}")]
    Usage(String),
}

pub(crate) type CliResult<T> = Result<T, CliError>;

/// Parses the command line and runs the command.
pub(crate) fn run() -> CliResult<()> {
    let cli = Cli::parse();
    commands::dispatch(cli)
}
