//! `gfn phylo`: phylogenetics tools around the PhyloGFN environment — score a given tree,
//! simulate a JC69 data set, and summarise tree samples by their split frequencies.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use gfn_core::Error;
use gfn_core::env::Enumerable;
use gfn_core::train::Trainer;
use gfn_envs::phylo::alignment::MissingCoding;
use gfn_envs::phylo::config::PhyloReward;
use gfn_envs::phylo::env::PhyloEnv;
use gfn_envs::phylo::io::{Format, read_alignment, write_alignment};
use gfn_envs::phylo::metrics::{MllOptions, marginal_log_likelihood};
use gfn_envs::phylo::newick::{parse_newick_trees, write_newick};
use gfn_envs::phylo::score::{DEFAULT_PRIOR_RATE, TreeScorer};
use gfn_envs::phylo::simulate::simulate;
use gfn_envs::phylo::splits::SplitFrequencies;
use gfn_envs::phylo::tree::Tree;
use gfn_envs::phylo::tree_file::read_trees;
use serde_json::json;

use super::commands::{checkpoint_record, load_at};
use super::envs::EnvJob;
use super::{CliError, CliResult};

/// `gfn phylo` subcommands.
#[derive(Debug, Args)]
pub(crate) struct PhyloArgs {
    #[command(subcommand)]
    command: PhyloCommand,
}

#[derive(Debug, Subcommand)]
enum PhyloCommand {
    /// Score trees on an alignment (JC69 log-likelihood and priors, or Fitch parsimony).
    Score(ScoreArgs),
    /// Simulate a random tree and a JC69 alignment on it.
    Simulate(SimulateArgs),
    /// Split frequencies and the majority-rule consensus of tree samples (Newick or NEXUS files).
    Splits(SplitsArgs),
    /// Importance-sampled marginal log-likelihood log p(Y) of a trained JC69 sampler (its policy
    /// as the proposal; DOMAINS §1.5).
    Mll(MllArgs),
}

/// The scoring model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// JC69 log-likelihood, Exponential branch prior and uniform topology prior.
    Jc69,
    /// Fitch parsimony score (gap = fifth state).
    Parsimony,
}

/// How parsimony codes `?` and `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Missing {
    /// Any of A, C, G, T, gap (PAUP*'s convention on DS1/DS3/DS5).
    All,
    /// Any nucleotide (PhyloGFN's convention).
    Nucleotides,
}

#[derive(Debug, Args)]
struct ScoreArgs {
    /// The alignment (FASTA, PHYLIP or NEXUS; the format is detected).
    #[arg(long)]
    alignment: PathBuf,
    /// A tree file (Newick or NEXUS, every tree is scored) or a literal Newick string.
    #[arg(long)]
    newick: String,
    /// The score.
    #[arg(long, value_enum, default_value_t = Model::Jc69)]
    model: Model,
    /// Rate λ of the Exponential branch-length prior (jc69).
    #[arg(long, default_value_t = DEFAULT_PRIOR_RATE, allow_negative_numbers = true)]
    prior_rate: f64,
    /// Coding of `?`/`N` for parsimony.
    #[arg(long, value_enum, default_value_t = Missing::All)]
    missing: Missing,
    /// Print one JSON object per tree.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// Number of taxa (named t1 … tN).
    #[arg(long)]
    taxa: usize,
    /// Number of sites.
    #[arg(long)]
    sites: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Rate λ of the Exponential branch lengths.
    #[arg(long, default_value_t = DEFAULT_PRIOR_RATE, allow_negative_numbers = true)]
    rate: f64,
    /// Alignment output; the format follows the extension (.fasta, .phy, .nex).
    #[arg(long)]
    out: PathBuf,
    /// Also write the true tree (Newick) here; it is always printed to stdout.
    #[arg(long)]
    tree_out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SplitsArgs {
    /// Tree files of the sample (Newick, or NEXUS such as MrBayes `.t`); several are pooled.
    #[arg(long, required = true, num_args = 1..)]
    trees: Vec<PathBuf>,
    /// Fraction of each file's trees to discard first.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    burnin: f64,
    /// Tree files of a second sample to compare with (same burn-in).
    #[arg(long, num_args = 1..)]
    compare: Vec<PathBuf>,
    /// Splits below this frequency in both samples are left out of the ASDSF.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    min_freq: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct MllArgs {
    /// A checkpoint of `gfn train phylo --reward jc69`.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Importance samples K.
    #[arg(long, default_value_t = 10_000)]
    samples: usize,
    /// Seed of the samples (and of the jitter).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Binned lengths only: jitter each length uniformly within its bin, estimating the marginal
    /// likelihood of the continuous model (without it: the sum over binned trees).
    #[arg(long)]
    jitter: bool,
    /// A temperature-conditioned checkpoint: draw the importance samples from the policy at this
    /// temperature of its set (default: the lowest). The estimate is always of the untempered
    /// marginal likelihood; only the proposal changes.
    #[arg(long)]
    reward_temperature: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs a `gfn phylo` subcommand.
pub(crate) fn run(args: PhyloArgs) -> CliResult<()> {
    match args.command {
        PhyloCommand::Score(a) => score(&a),
        PhyloCommand::Simulate(a) => simulate_command(&a),
        PhyloCommand::Splits(a) => splits(&a),
        PhyloCommand::Mll(a) => mll(&a),
    }
}

/// The phylo part of the `gfn train --json` summary: the best tree of the fresh training batches
/// (Newick with taxon names, branch lengths for jc69), and its parsimony score (parsimony) or its
/// JC69 log-likelihood and log branch-length prior (jc69).
pub(crate) fn train_results(trainer: &Trainer<PhyloEnv>) -> CliResult<serde_json::Value> {
    let env = trainer.env();
    let Some(best) = trainer.best_terminal()? else {
        return Ok(json!({ "best_tree": null }));
    };
    let tree = &best.trees[0];
    let newick = write_newick(&env.unrooted_tree(&best)?);
    Ok(match env.config().reward {
        PhyloReward::Parsimony => json!({ "best_tree": newick, "best_parsimony": env.fitch_tree(tree).1 }),
        PhyloReward::Jc69 => {
            let (partials, log_branch_prior) = env.partials_tree(tree);
            let log_likelihood = partials.log_likelihood(env.alignment().weights());
            json!({ "best_tree": newick, "best_log_likelihood": log_likelihood, "best_log_branch_prior": log_branch_prior })
        }
    })
}

/// The trees of `spec`: a file if one exists there, else a Newick string.
fn trees_from(spec: &str) -> CliResult<Vec<Tree>> {
    let path = Path::new(spec);
    if path.is_file() {
        Ok(read_trees(path)?)
    } else if spec.trim_start().starts_with('(') {
        Ok(parse_newick_trees("--newick", spec)?)
    } else {
        Err(CliError::Usage(format!("--newick '{spec}' is neither an existing file nor a Newick string")))
    }
}

fn score(a: &ScoreArgs) -> CliResult<()> {
    let alignment = read_alignment(&a.alignment)?;
    let missing = match a.missing {
        Missing::All => MissingCoding::AllStates,
        Missing::Nucleotides => MissingCoding::Nucleotides,
    };
    let scorer = TreeScorer::new(&alignment, missing);
    for (i, tree) in trees_from(&a.newick)?.iter().enumerate() {
        let number = i + 1;
        match a.model {
            Model::Jc69 => {
                let s = scorer.jc69(tree, a.prior_rate)?;
                if a.json {
                    println!(
                        "{}",
                        json!({ "tree": number, "model": "jc69", "prior_rate": a.prior_rate,
                                "log_likelihood": s.log_likelihood, "log_branch_prior": s.log_branch_prior,
                                "log_topology_prior": s.log_topology_prior, "log_joint": s.log_joint })
                    );
                } else {
                    println!(
                        "tree {number}: log-likelihood {:.6}  log branch prior {:.6}  log topology prior {:.6}  log joint {:.6}",
                        s.log_likelihood, s.log_branch_prior, s.log_topology_prior, s.log_joint
                    );
                }
            }
            Model::Parsimony => {
                let m = scorer.fitch(tree)?;
                if a.json {
                    println!("{}", json!({ "tree": number, "model": "parsimony", "parsimony": m }));
                } else {
                    println!("tree {number}: parsimony {m}");
                }
            }
        }
    }
    Ok(())
}

fn simulate_command(a: &SimulateArgs) -> CliResult<()> {
    let format = Format::from_extension(&a.out)
        .ok_or_else(|| CliError::Usage(format!("--out {}: use a .fasta, .phy or .nex extension", a.out.display())))?;
    let sim = simulate(a.taxa, a.sites, a.rate, a.seed)?;
    let text = write_alignment(&sim.taxa, &sim.sequences, format)?;
    std::fs::write(&a.out, text).map_err(|e| Error::io(&a.out, e))?;
    let newick = write_newick(&sim.tree);
    if let Some(path) = &a.tree_out {
        std::fs::write(path, format!("{newick}\n")).map_err(|e| Error::io(path, e))?;
    }
    println!("{newick}");
    Ok(())
}

/// Reads and pools the trees of `files`, dropping the first `burnin` fraction of each.
fn sample(files: &[PathBuf], burnin: f64) -> CliResult<SplitFrequencies> {
    if !(0.0..1.0).contains(&burnin) {
        return Err(Error::config("burnin", burnin, "must be in [0, 1)").into());
    }
    let mut pooled = Vec::new();
    for file in files {
        let trees = read_trees(file)?;
        // Truncation intended: the burn-in is a whole number of trees.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "0 <= burnin < 1")]
        let skip = (burnin * trees.len() as f64).floor() as usize;
        pooled.extend(trees.into_iter().skip(skip));
    }
    Ok(SplitFrequencies::from_trees(&pooled)?)
}

fn splits(a: &SplitsArgs) -> CliResult<()> {
    let first = sample(&a.trees, a.burnin)?;
    let consensus = write_newick(&first.majority_consensus()?);
    let comparison =
        if a.compare.is_empty() { None } else { Some(first.compare(&sample(&a.compare, a.burnin)?, a.min_freq)?) };
    if a.json {
        println!(
            "{}",
            json!({ "trees": first.tree_count(), "taxa": first.taxa(), "splits": first.records(),
                    "consensus": consensus, "comparison": comparison })
        );
        return Ok(());
    }
    println!("{} trees, {} taxa ({})", first.tree_count(), first.taxa().len(), first.taxa().join(" "));
    println!("frequency  split");
    for r in first.records() {
        println!("{:9.4}  {}  {{{}}}", r.frequency, r.pattern, r.taxa.join(", "));
    }
    println!("majority-rule consensus: {consensus}");
    if let Some(c) = comparison {
        let files: Vec<String> = a.compare.iter().map(|f| f.display().to_string()).collect();
        println!("compared with {} (splits with frequency >= {} in either sample):", files.join(" "), a.min_freq);
        println!("  first    second   split");
        for p in &c.splits {
            println!("  {:.4}   {:.4}   {}", p.first, p.second, p.split.pattern);
        }
        println!("ASDSF {:.4}, max |difference| {:.4}", c.asdsf, c.max_abs_difference);
    }
    Ok(())
}

/// Estimates the marginal likelihood with a checkpoint's policy.
struct MllJob<'a>(&'a MllArgs);

impl EnvJob for MllJob<'_> {
    type Output = (f64, u64);
    fn run<E: Enumerable + 'static>(self, env: E) -> CliResult<Self::Output> {
        Err(CliError::Usage(format!("the marginal likelihood needs a phylo checkpoint, not {}", env.name())))
    }

    fn run_phylo(self, env: PhyloEnv) -> CliResult<Self::Output> {
        let a = self.0;
        let trainer = load_at(env, &a.checkpoint, a.reward_temperature)?;
        let options = MllOptions { samples: a.samples, seed: a.seed, jitter: a.jitter };
        Ok((marginal_log_likelihood(trainer.env(), trainer.policy(), options)?, trainer.iteration()))
    }
}

fn mll(a: &MllArgs) -> CliResult<()> {
    let (mll, iteration) = checkpoint_record(&a.checkpoint)?.with_env(MllJob(a))?;
    if a.json {
        println!(
            "{}",
            json!({ "marginal_log_likelihood": mll, "samples": a.samples, "seed": a.seed,
                    "jitter": a.jitter, "iteration": iteration, "proposal_temperature": a.reward_temperature })
        );
    } else {
        println!("marginal log-likelihood {mll:.4} ({} importance samples, iteration {iteration})", a.samples);
    }
    Ok(())
}
