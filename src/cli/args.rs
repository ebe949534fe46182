//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Train, evaluate and sample Generative Flow Networks.
#[derive(Debug, Parser)]
#[command(name = "gfn", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Train a sampler on a built-in environment.
    Train(Box<TrainArgs>),
    /// Evaluate a checkpoint.
    Eval(EvalArgs),
    /// Draw terminal objects from a checkpoint (one JSON object per line).
    Sample(SampleArgs),
    /// Phylogenetics tools: score trees, simulate data, summarise tree samples.
    Phylo(super::phylo::PhyloArgs),
    /// Embarrassingly parallel GFlowNets: clients on reward factors, one aggregation round.
    Ep(Box<super::ep::EpArgs>),
}

/// The built-in environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvName {
    /// Hypergrid (ndim, height, r0, r1, r2).
    Hypergrid,
    /// Bit sequences built word by word (length, word-size, num-modes).
    Bitseq,
    /// Set generation (pool-size, set-size).
    Sets,
    /// Fixed-length token sequences (length, vocab).
    Sequences,
    /// Bayesian structure learning over DAGs (data or simulate, score, graph-prior).
    Dag,
    /// Phylogenetic trees over an alignment (alignment, reward, reward-temperature, reward-offset,
    /// bins, bin-size, branch-actions, branch-lengths).
    Phylo,
}

/// How to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum EvalMode {
    /// Exact when the state space enumerates within the limit, else Monte-Carlo.
    #[default]
    Auto,
    /// Exact dynamic programming over the enumerated state graph.
    Exact,
    /// Monte-Carlo estimate from samples.
    Mc,
}

/// Environment options (each applies to the environments that have it).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct EnvArgs {
    /// Hypergrid: number of dimensions.
    #[arg(long)]
    pub(crate) ndim: Option<usize>,
    /// Hypergrid: side length.
    #[arg(long)]
    pub(crate) height: Option<usize>,
    /// Hypergrid: base reward R0 (> 0).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) r0: Option<f64>,
    /// Hypergrid: R1.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) r1: Option<f64>,
    /// Hypergrid: R2.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) r2: Option<f64>,
    /// Bit sequences / sequences: length.
    #[arg(long)]
    pub(crate) length: Option<usize>,
    /// Bit sequences: bits per action.
    #[arg(long)]
    pub(crate) word_size: Option<usize>,
    /// Bit sequences: number of modes.
    #[arg(long)]
    pub(crate) num_modes: Option<usize>,
    /// Bit sequences / phylo: reward temperature.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) reward_temperature: Option<f64>,
    /// Phylo: the alignment file (FASTA, PHYLIP or NEXUS, detected from the content).
    #[arg(long)]
    pub(crate) alignment: Option<PathBuf>,
    /// Phylo: the reward, parsimony or jc69.
    #[arg(long, value_parser = ["parsimony", "jc69"])]
    pub(crate) reward: Option<String>,
    /// Phylo: the reward offset C (log R_train = (C + log R) / T).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) reward_offset: Option<f64>,
    /// Phylo (jc69): number of branch-length bins.
    #[arg(long)]
    pub(crate) bins: Option<usize>,
    /// Phylo (jc69): branch-length bin width.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) bin_size: Option<f64>,
    /// Phylo (jc69): branch-length actions, factorised (pair, then each bin: the default) or joint
    /// (one action per pair and bin pair, n(n−1)/2·B² actions).
    #[arg(long, value_parser = ["factorised", "joint"])]
    pub(crate) branch_actions: Option<String>,
    /// Phylo (jc69): branch lengths as bins (the default) or continuous (log-lengths drawn from
    /// the policy's mixture-of-Gaussians head; Monte-Carlo evaluation only; train them with
    /// `--lr 0.0003` and temperature conditioning (VarGrad or TB), see the README).
    #[arg(long, value_parser = ["bins", "continuous"])]
    pub(crate) branch_lengths: Option<String>,
    /// Sets: pool size.
    #[arg(long)]
    pub(crate) pool_size: Option<usize>,
    /// Sets: set size.
    #[arg(long)]
    pub(crate) set_size: Option<usize>,
    /// Sequences: vocabulary size.
    #[arg(long)]
    pub(crate) vocab: Option<usize>,
    /// Seed of the environment's own randomness (modes, utilities).
    #[arg(long)]
    pub(crate) env_seed: Option<u64>,
    /// DAG: CSV file of continuous observations with a header row.
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// DAG: simulated data, `d=5,n=100[,p=EDGE_PROB][,noise=STD][,seed=S]`.
    #[arg(long)]
    pub(crate) simulate: Option<String>,
    /// DAG: local score, bge or lingauss.
    #[arg(long)]
    pub(crate) score: Option<String>,
    /// DAG: graph prior, uniform, er (d expected edges) or er=EXPECTED_EDGES.
    #[arg(long)]
    pub(crate) graph_prior: Option<String>,
}

/// `gfn train` options; each overrides the config file.
#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// The environment (defaults to the config file's, else hypergrid).
    pub(crate) env: Option<EnvName>,
    #[command(flatten)]
    pub(crate) env_args: EnvArgs,
    /// Objective: tb, db, moddb, subtb, fm, vargrad, cb (half-batch pairs), cbf (all pairs), or a
    /// divergence: rkl, fkl, renyi, tsallis, akl, atb (the last two also train on backward
    /// trajectories from exact target samples, so the environment must enumerate).
    #[arg(long)]
    pub(crate) objective: Option<String>,
    /// Training iterations.
    #[arg(long)]
    pub(crate) iterations: Option<u64>,
    /// Trajectories per iteration.
    #[arg(long)]
    pub(crate) batch_size: Option<usize>,
    /// Learning rate of the networks.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) lr: Option<f64>,
    /// Learning rate of log Z.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) lr_logz: Option<f64>,
    /// Probability of a uniformly random action while training.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) epsilon: Option<f64>,
    /// Logit temperature while training.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) temperature: Option<f64>,
    /// Replay-buffer capacity (0: off).
    #[arg(long)]
    pub(crate) replay: Option<usize>,
    /// Replay buffer kind: uniform or prioritized.
    #[arg(long)]
    pub(crate) replay_kind: Option<String>,
    /// SubTB lambda.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) lambda: Option<f64>,
    /// Order α of renyi and tsallis (not 0 or 1); backward ratio of akl and atb (in [0, 1]).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) alpha: Option<f64>,
    /// Control variate of a divergence objective: none, learned, loo (default), logz, opt-scalar,
    /// opt-vector.
    #[arg(long)]
    pub(crate) cv: Option<String>,
    /// Target samples (JSON lines as `gfn sample` writes them): fkl trains on backward
    /// trajectories from them (forward KL on data); akl and atb use them instead of exact samples.
    #[arg(long)]
    pub(crate) target_samples: Option<PathBuf>,
    /// Use a Huber residual with this threshold.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) huber_delta: Option<f64>,
    /// Hidden layer widths, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) hidden: Option<Vec<usize>>,
    /// Hidden activation: relu, leaky_relu, elu, silu, tanh.
    #[arg(long)]
    pub(crate) activation: Option<String>,
    /// Backward policy: uniform, learned, learned_shared.
    #[arg(long)]
    pub(crate) pb: Option<String>,
    /// Policy network: mlp, or pairs (permutation-equivariant slot / pair encoder, for
    /// environments with a slot layout such as forests of trees or graphs).
    #[arg(long)]
    pub(crate) architecture: Option<String>,
    /// Reward-temperature schedule: none, or cascading (PhyloGFN: every --anneal-interval
    /// iterations, halve the temperature while the model's probability of the best object seen,
    /// exp(log R_best − log Z), is below --anneal-threshold and the temperature above
    /// --anneal-min-temperature). Needs an environment with a reward temperature (phylo).
    #[arg(long)]
    pub(crate) anneal: Option<String>,
    /// Annealing: probability threshold in (0, 1] (default 1e-4).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) anneal_threshold: Option<f64>,
    /// Annealing: temperature floor (default 0.25).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) anneal_min_temperature: Option<f64>,
    /// Annealing: iterations between checks (default max(30, iterations / 5); one epoch = one
    /// iteration).
    #[arg(long)]
    pub(crate) anneal_interval: Option<u64>,
    /// Temperature-conditioned training (PhyloGFN's conditional variant): comma-separated reward
    /// temperatures (e.g. 4,2,1); each batch draws one, the policy sees ln T and scales its logits
    /// by a learned factor per temperature, and log Z is learned per temperature. The run reports
    /// and evaluates at the lowest one; `gfn sample --reward-temperature T` samples at another.
    /// Phylo only (the environment then encodes its temperature).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    pub(crate) condition_temperatures: Option<Vec<f64>>,
    /// Conditioning: how each batch draws its temperature, uniform or annealed (centred on a
    /// temperature moving from the highest to the lowest over the run).
    #[arg(long)]
    pub(crate) condition_schedule: Option<String>,
    /// Conditioning, annealed schedule: spread of the draw in log2 T (default 0.5).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) condition_spread: Option<f64>,
    /// Clip the global gradient norm.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) clip_grad_norm: Option<f64>,
    /// Seed.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Worker threads (results do not depend on it).
    #[arg(long, default_value_t = 1)]
    pub(crate) threads: usize,
    /// Evaluate every K iterations (0: only at the end).
    #[arg(long)]
    pub(crate) eval_every: Option<u64>,
    /// Evaluation method.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) eval: EvalMode,
    /// Monte-Carlo evaluation: forward samples (default 512).
    #[arg(long)]
    pub(crate) eval_samples: Option<usize>,
    /// Monte-Carlo evaluation: backward samples per sampled object for the L1 estimate (default 16).
    #[arg(long)]
    pub(crate) eval_backward_samples: Option<usize>,
    /// Monte-Carlo evaluation: the most feature values (states × feature dimension) it encodes,
    /// 0 for no limit (default 2^29); it samples fewer trajectories rather than exceed it.
    #[arg(long)]
    pub(crate) eval_feature_budget: Option<usize>,
    /// Write JSON-lines metrics to this file.
    #[arg(long)]
    pub(crate) metrics_out: Option<PathBuf>,
    /// Write a checkpoint here (and `FILE.json`).
    #[arg(long)]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Checkpoint every K iterations (0: only at the end).
    #[arg(long, default_value_t = 0)]
    pub(crate) checkpoint_every: u64,
    /// Resume from this checkpoint (training continues to --iterations).
    #[arg(long)]
    pub(crate) resume: Option<PathBuf>,
    /// TOML config file with `[env]` and `[train]` tables.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Print a one-line JSON summary as the last stdout line.
    #[arg(long)]
    pub(crate) json: bool,
    /// DAG: write the edge marginals (from samples, exact model and exact posterior where d ≤ 5,
    /// true edges for simulated data) to this CSV file.
    #[arg(long)]
    pub(crate) edge_marginals: Option<PathBuf>,
    /// DAG: write the graphs sampled from the trained policy to this CSV file.
    #[arg(long)]
    pub(crate) samples_out: Option<PathBuf>,
    /// DAG: number of graphs sampled after training for the metrics and exports.
    #[arg(long, default_value_t = 1000)]
    pub(crate) export_samples: usize,
}

/// `gfn eval` options.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The checkpoint to evaluate.
    #[arg(long)]
    pub(crate) checkpoint: PathBuf,
    /// Evaluation method.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) eval: EvalMode,
    /// A temperature-conditioned checkpoint: evaluate at this conditioning temperature (default:
    /// the lowest).
    #[arg(long)]
    pub(crate) reward_temperature: Option<f64>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `gfn sample` options.
#[derive(Debug, Args)]
pub(crate) struct SampleArgs {
    /// The checkpoint to sample from.
    #[arg(long)]
    pub(crate) checkpoint: PathBuf,
    /// Number of objects.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub(crate) n: usize,
    /// Seed of the sampling streams.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Output: JSON lines (object, log-reward, actions), or for phylo one Newick tree per line
    /// (taxon names, bin lengths as branch lengths) for `gfn phylo splits` and other tree tools.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: SampleFormat,
    /// A temperature-conditioned checkpoint: sample at this conditioning temperature (default:
    /// the lowest).
    #[arg(long)]
    pub(crate) reward_temperature: Option<f64>,
}

/// `gfn sample --format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum SampleFormat {
    /// One JSON object per sample.
    #[default]
    Json,
    /// Phylo: one unrooted Newick tree per line.
    Newick,
}
