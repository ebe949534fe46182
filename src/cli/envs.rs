//! The built-in environments the CLI can build, and their options.

use gfn_core::env::Enumerable;
use gfn_envs::bitseq::{BitSequence, BitSequenceConfig};
use gfn_envs::dag::{DagConfig, DagEnv, DataSource};
use gfn_envs::hypergrid::{Hypergrid, HypergridConfig};
use gfn_envs::phylo::config::{BranchActions, BranchLengths, PhyloConfig, PhyloReward};
use gfn_envs::phylo::env::PhyloEnv;
use gfn_envs::phylo::io::read_alignment;
use gfn_envs::sequences::{SequenceConfig, SequenceGeneration};
use gfn_envs::sets::{SetConfig, SetGeneration};
use serde::{Deserialize, Serialize};

use super::args::{EnvArgs, EnvName};
use super::{CliError, CliResult};

/// An environment and its parameters, as stored in config files and checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum EnvRecord {
    Hypergrid(HypergridConfig),
    Bitseq(BitSequenceConfig),
    Sets(SetConfig),
    Sequences(SequenceConfig),
    Dag(DagConfig),
    Phylo(PhyloRecord),
}

/// The phylogenetics environment: where its alignment lives and its reward settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhyloRecord {
    /// The alignment file (made absolute when given on the command line).
    #[serde(default)]
    pub(crate) alignment: String,
    #[serde(default)]
    pub(crate) config: PhyloConfig,
}

/// Something to do with a concrete environment.
pub(crate) trait EnvJob {
    type Output;
    fn run<E: Enumerable + 'static>(self, env: E) -> CliResult<Self::Output>;
    /// Runs on the DAG environment (jobs with DAG-specific outputs override it).
    fn run_dag(self, env: DagEnv) -> CliResult<Self::Output>
    where
        Self: Sized,
    {
        self.run(env)
    }
    /// Runs on the phylogenetics environment (jobs with phylo-specific outputs override it).
    fn run_phylo(self, env: PhyloEnv) -> CliResult<Self::Output>
    where
        Self: Sized,
    {
        self.run(env)
    }
}

/// Sets `target` from `value` if given, or rejects an option that does not apply.
fn set<T: Copy>(target: Option<&mut T>, value: Option<T>, flag: &str, env: &str) -> CliResult<()> {
    match (target, value) {
        (Some(t), Some(v)) => {
            *t = v;
            Ok(())
        }
        (None, Some(_)) => Err(CliError::Usage(format!("option --{flag} does not apply to environment {env}"))),
        _ => Ok(()),
    }
}

impl EnvRecord {
    /// The default parameters of `name`.
    pub(crate) fn default_for(name: EnvName) -> Self {
        match name {
            EnvName::Hypergrid => EnvRecord::Hypergrid(HypergridConfig::default()),
            EnvName::Bitseq => EnvRecord::Bitseq(BitSequenceConfig::default()),
            EnvName::Sets => EnvRecord::Sets(SetConfig::default()),
            EnvName::Sequences => EnvRecord::Sequences(SequenceConfig::default()),
            EnvName::Dag => EnvRecord::Dag(DagConfig::default()),
            EnvName::Phylo => EnvRecord::Phylo(PhyloRecord::default()),
        }
    }

    /// The CLI name.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            EnvRecord::Hypergrid(_) => "hypergrid",
            EnvRecord::Bitseq(_) => "bitseq",
            EnvRecord::Sets(_) => "sets",
            EnvRecord::Sequences(_) => "sequences",
            EnvRecord::Dag(_) => "dag",
            EnvRecord::Phylo(_) => "phylo",
        }
    }

    /// Applies command-line overrides, rejecting options of other environments.
    pub(crate) fn apply(&mut self, a: &EnvArgs) -> CliResult<()> {
        let name = self.name();
        let (mut ndim, mut height, mut r0, mut r1, mut r2) = (None, None, None, None, None);
        let (mut length, mut word, mut modes, mut temp) = (None, None, None, None);
        let (mut pool, mut size, mut vocab, mut seed) = (None, None, None, None);
        if !matches!(self, EnvRecord::Dag(_)) {
            let dag_options = [
                ("data", a.data.is_some()),
                ("simulate", a.simulate.is_some()),
                ("score", a.score.is_some()),
                ("graph-prior", a.graph_prior.is_some()),
            ];
            if let Some((flag, _)) = dag_options.into_iter().find(|(_, given)| *given) {
                return Err(CliError::Usage(format!("option --{flag} does not apply to environment {name}")));
            }
        }
        let (mut offset, mut bins, mut bin_size) = (None, None, None);
        let is_phylo = matches!(self, EnvRecord::Phylo(_));
        match self {
            EnvRecord::Hypergrid(c) => {
                (ndim, height) = (Some(&mut c.ndim), Some(&mut c.height));
                (r0, r1, r2) = (Some(&mut c.r0), Some(&mut c.r1), Some(&mut c.r2));
            }
            EnvRecord::Bitseq(c) => {
                (length, word, modes) = (Some(&mut c.length), Some(&mut c.word_size), Some(&mut c.num_modes));
                (temp, seed) = (Some(&mut c.temperature), Some(&mut c.seed));
            }
            EnvRecord::Sets(c) => {
                (pool, size, seed) = (Some(&mut c.pool_size), Some(&mut c.set_size), Some(&mut c.seed));
            }
            EnvRecord::Sequences(c) => {
                (length, vocab, seed) = (Some(&mut c.length), Some(&mut c.vocab), Some(&mut c.seed));
            }
            EnvRecord::Dag(c) => apply_dag(c, a)?,
            EnvRecord::Phylo(r) => {
                apply_phylo(r, a)?;
                let c = &mut r.config;
                (temp, offset) = (Some(&mut c.temperature), Some(&mut c.offset));
                (bins, bin_size) = (Some(&mut c.bins), Some(&mut c.bin_size));
            }
        }
        if !is_phylo {
            let phylo_options = [
                ("alignment", a.alignment.is_some()),
                ("reward", a.reward.is_some()),
                ("branch-actions", a.branch_actions.is_some()),
                ("branch-lengths", a.branch_lengths.is_some()),
            ];
            for (flag, given) in phylo_options {
                if given {
                    return Err(CliError::Usage(format!("option --{flag} does not apply to environment {name}")));
                }
            }
        }
        set(ndim, a.ndim, "ndim", name)?;
        set(height, a.height, "height", name)?;
        set(r0, a.r0, "r0", name)?;
        set(r1, a.r1, "r1", name)?;
        set(r2, a.r2, "r2", name)?;
        set(length, a.length, "length", name)?;
        set(word, a.word_size, "word-size", name)?;
        set(modes, a.num_modes, "num-modes", name)?;
        set(temp, a.reward_temperature, "reward-temperature", name)?;
        set(pool, a.pool_size, "pool-size", name)?;
        set(size, a.set_size, "set-size", name)?;
        set(vocab, a.vocab, "vocab", name)?;
        set(offset, a.reward_offset, "reward-offset", name)?;
        set(bins, a.bins, "bins", name)?;
        set(bin_size, a.bin_size, "bin-size", name)?;
        set(seed, a.env_seed, "env-seed", name)
    }

    /// Sets up temperature-conditioned training at reference (lowest) temperature `reference`: the
    /// environment encodes its temperature and starts there. Only phylo encodes its temperature;
    /// `--reward-temperature` (`given`) must then be left out or equal `reference`.
    pub(crate) fn condition_on(&mut self, reference: f64, given: Option<f64>) -> CliResult<()> {
        let EnvRecord::Phylo(r) = self else {
            return Err(CliError::Usage(format!(
                "temperature conditioning needs an environment that encodes its reward temperature (phylo), not {}",
                self.name()
            )));
        };
        if let Some(t) = given.filter(|t| *t != reference) {
            return Err(CliError::Usage(format!(
                "--reward-temperature {t} conflicts with the conditioning temperatures, whose lowest ({reference}) \
                 is the run's reference temperature; leave it out"
            )));
        }
        r.config.temperature = reference;
        r.config.temperature_feature = true;
        Ok(())
    }

    /// Builds the environment (validating its parameters) and runs `job` on it.
    pub(crate) fn with_env<J: EnvJob>(&self, job: J) -> CliResult<J::Output> {
        match self {
            EnvRecord::Hypergrid(c) => job.run(Hypergrid::new(c.clone())?),
            EnvRecord::Bitseq(c) => job.run(BitSequence::new(c.clone())?),
            EnvRecord::Sets(c) => job.run(SetGeneration::new(c.clone())?),
            EnvRecord::Sequences(c) => job.run(SequenceGeneration::new(c.clone())?),
            EnvRecord::Dag(c) => job.run_dag(DagEnv::new(c.clone())?),
            EnvRecord::Phylo(r) => {
                if r.alignment.is_empty() {
                    return Err(CliError::Usage("environment phylo needs --alignment FILE".into()));
                }
                let alignment = read_alignment(std::path::Path::new(&r.alignment))?;
                job.run_phylo(PhyloEnv::new(alignment, r.config.clone())?)
            }
        }
    }
}

/// Applies the DAG options: `--data` (stored as an absolute path, so checkpoints rebuild the same
/// environment from another directory) or `--simulate`, `--score`, `--graph-prior`.
fn apply_dag(c: &mut DagConfig, a: &EnvArgs) -> CliResult<()> {
    match (&a.data, &a.simulate) {
        (Some(_), Some(_)) => return Err(CliError::Usage("--data and --simulate exclude each other".into())),
        (Some(path), None) => {
            let path = std::fs::canonicalize(path).map_err(|e| gfn_core::Error::io(path, e))?;
            c.data = DataSource::Csv { path };
        }
        (None, Some(text)) => c.data = DataSource::Simulate(text.parse()?),
        (None, None) => {}
    }
    if let Some(score) = &a.score {
        c.score = score.parse()?;
    }
    if let Some(prior) = &a.graph_prior {
        c.prior = prior.parse()?;
    }
    Ok(())
}

/// Applies `--alignment` (made absolute, so checkpoints rebuild the environment from anywhere),
/// `--reward`, `--branch-actions` and `--branch-lengths`.
fn apply_phylo(record: &mut PhyloRecord, a: &EnvArgs) -> CliResult<()> {
    if let Some(path) = &a.alignment {
        let absolute = std::path::absolute(path).map_err(|e| gfn_core::Error::io(path, e))?;
        record.alignment = absolute.display().to_string();
    }
    match a.reward.as_deref() {
        Some("parsimony") => record.config.reward = PhyloReward::Parsimony,
        Some("jc69") => record.config.reward = PhyloReward::Jc69,
        Some(other) => return Err(CliError::Usage(format!("unknown reward {other:?}: expected parsimony or jc69"))),
        None => {}
    }
    match a.branch_actions.as_deref() {
        Some("factorised") => record.config.branch_actions = BranchActions::Factorised,
        Some("joint") => record.config.branch_actions = BranchActions::Joint,
        Some(other) => {
            return Err(CliError::Usage(format!("unknown branch actions {other:?}: expected factorised or joint")));
        }
        None => {}
    }
    match a.branch_lengths.as_deref() {
        Some("bins") => record.config.branch_lengths = BranchLengths::Bins,
        Some("continuous") => record.config.branch_lengths = BranchLengths::Continuous,
        Some(other) => {
            return Err(CliError::Usage(format!("unknown branch lengths {other:?}: expected bins or continuous")));
        }
        None => {}
    }
    if record.config.branch_lengths == BranchLengths::Continuous {
        // Bin options have no meaning with real lengths.
        let binned = [
            ("bins", a.bins.map(|b| b.to_string())),
            ("bin_size", a.bin_size.map(|s| s.to_string())),
            ("branch_actions", a.branch_actions.clone()),
        ];
        if let Some((field, Some(value))) = binned.into_iter().find(|(_, v)| v.is_some()) {
            return Err(gfn_core::Error::config(field, value, "does not apply with branch_lengths = continuous").into());
        }
    }
    Ok(())
}
