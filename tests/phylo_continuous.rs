//! Continuous branch lengths in the phylogenetics environment (`BranchLengths::Continuous`):
//! trained with TB and with VarGrad on three taxa, the learned `log Z` and the importance-sampled
//! marginal likelihood match a 3-D quadrature over the log-lengths of the single unrooted
//! topology; the CLI trains and samples Newick trees with real lengths, and rejects bin options.

use gfn::envs::phylo::alignment::Alignment;
use gfn::envs::phylo::config::{BranchLengths, PhyloConfig, PhyloReward};
use gfn::envs::phylo::env::PhyloEnv;
use gfn::envs::phylo::io::read_alignment;
use gfn::envs::phylo::metrics::{MllOptions, marginal_log_likelihood};
use gfn::envs::phylo::newick::parse_newick_trees;
use gfn::prelude::*;
use gfn::train::ObjectiveConfig;

/// The Exponential prior rate.
const RATE: f64 = 10.0;

/// Twenty sites of three taxa (nucleotides 0..4 = A, C, G, T).
const SITES: [[u8; 3]; 20] = [
    [0, 0, 0],
    [1, 1, 1],
    [2, 2, 2],
    [3, 3, 3],
    [0, 0, 0],
    [1, 1, 1],
    [2, 2, 2],
    [3, 3, 3],
    [0, 0, 0],
    [2, 2, 2],
    [0, 0, 1],
    [1, 1, 3],
    [2, 2, 0],
    [3, 3, 1],
    [0, 2, 0],
    [1, 0, 0],
    [0, 1, 1],
    [2, 2, 1],
    [3, 1, 2],
    [1, 1, 1],
];

fn alignment() -> Alignment {
    let rows = (0..3).map(|t| SITES.iter().map(|s| b"ACGT"[usize::from(s[t])]).collect()).collect();
    Alignment::new(vec!["a".into(), "b".into(), "c".into()], rows).expect("valid")
}

/// `log Z = log ∫ P(Y | b) P(b) Π b_i du` over `u = log b` by the midpoint rule on a 3-D grid of
/// `points` cells of width `step` from `lo` per coordinate; the star-tree likelihood is written
/// out directly (`Σ_a ¼ Π_i P(a → y_i; b_i)` per site).
fn quadrature(lo: f64, step: f64, points: usize) -> f64 {
    let u = |i: usize| lo + (i as f64 + 0.5) * step;
    let tables: Vec<(f64, f64)> = (0..points)
        .map(|i| {
            let e = (-4.0 / 3.0 * u(i).exp()).exp();
            (0.25 + 0.75 * e, 0.25 - 0.25 * e)
        })
        .collect();
    let log_prior: Vec<f64> = (0..points).map(|i| RATE.ln() - RATE * u(i).exp() + u(i)).collect();
    let log_joint = |idx: [usize; 3]| -> f64 {
        let sites: f64 = SITES
            .iter()
            .map(|y| {
                let p: f64 = (0..4u8)
                    .map(|a| {
                        idx.iter()
                            .zip(y)
                            .map(|(&i, &yi)| if yi == a { tables[i].0 } else { tables[i].1 })
                            .product::<f64>()
                    })
                    .sum();
                (0.25 * p).ln()
            })
            .sum();
        sites + idx.iter().map(|&i| log_prior[i]).sum::<f64>()
    };
    // A reference value keeps the sums in range.
    let reference = log_joint([points / 2; 3]);
    let mut total = 0.0;
    for a in 0..points {
        for b in 0..points {
            for c in 0..points {
                total += (log_joint([a, b, c]) - reference).exp();
            }
        }
    }
    reference + (total * step.powi(3)).ln()
}

/// Trains a continuous-length sampler on the three-taxon alignment with `objective` and checks the
/// importance-sampled marginal likelihood and the trainer's `log Z` against the quadrature.
fn learns_the_continuous_three_taxon_posterior(objective: ObjectiveKind, log_z_tolerance: f64) {
    // The posterior of each log-length lies well inside [-13, 1.5]; 220 cells of 0.066.
    let exact = quadrature(-13.0, 14.5 / 220.0, 220);
    let config = PhyloConfig {
        reward: PhyloReward::Jc69,
        branch_lengths: BranchLengths::Continuous,
        prior_rate: RATE,
        ..PhyloConfig::default()
    };
    let env = PhyloEnv::new(alignment(), config).expect("valid env");
    let train = TrainConfig {
        seed: 3,
        iterations: 1500,
        batch_size: 64,
        objective: ObjectiveConfig { kind: objective, ..ObjectiveConfig::default() },
        policy: PolicyConfig { hidden: vec![64, 64], log_z_init: -60.0, ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(env, train).expect("trainer");
    for _ in 0..1500 {
        trainer.step().expect("step");
    }
    let learned = trainer.log_z().expect("log z");
    // (2n − 5)!! = 1 for three taxa: the MLL is log Z itself.
    let options = MllOptions { samples: 8192, seed: 5, jitter: false };
    let mll = marginal_log_likelihood(trainer.env(), trainer.policy(), options).expect("mll");
    eprintln!("{objective:?}: quadrature log Z {exact:.4}; learned {learned:.4}; importance-sampled MLL {mll:.4}");
    // IS standard error with a trained proposal is ~0.005 at 8192 samples; the trainer's log Z
    // carries the residual training noise.
    assert!((mll - exact).abs() < 0.02, "MLL {mll} vs quadrature {exact}");
    assert!((learned - exact).abs() < log_z_tolerance, "log Z {learned} vs quadrature {exact}");
    let jittered = MllOptions { jitter: true, ..options };
    let err = marginal_log_likelihood(trainer.env(), trainer.policy(), jittered).expect_err("no bins to jitter");
    assert!(err.to_string().contains("jitter"), "{err}");
}

#[test]
fn trajectory_balance_learns_the_continuous_three_taxon_posterior() {
    learns_the_continuous_three_taxon_posterior(ObjectiveKind::Tb, 0.05);
}

/// VarGrad is the more forgiving objective for continuous lengths on larger trees
/// (`docs/results/phylo_mrbayes/RESULTS.md`). Its `log Z` is the last batch's
/// `mean(log R + log P_B − log P_F)`, an ELBO of 64 trajectories: below `log Z` by the KL
/// divergence and noisy by `sd(δ)/8`, hence the wider tolerance; the MLL check is the same.
#[test]
fn vargrad_learns_the_continuous_three_taxon_posterior() {
    learns_the_continuous_three_taxon_posterior(ObjectiveKind::Vargrad, 0.1);
}

fn gfn(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gfn")).args(args).output().expect("gfn runs")
}

#[test]
fn cli_trains_samples_and_rejects_bin_options() {
    let dir = std::env::temp_dir().join(format!("gfn-phylo-continuous-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let fasta = dir.join("five.fasta");
    let out =
        gfn(&["phylo", "simulate", "--taxa", "5", "--sites", "60", "--seed", "2", "--out", fasta.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ckpt = dir.join("c.safetensors");
    let base = ["train", "phylo", "--alignment", fasta.to_str().unwrap(), "--iterations", "20"];
    let run = |extra: &[&str]| {
        let reward = if extra.contains(&"--reward") { &[][..] } else { &["--reward", "jc69"][..] };
        gfn(&[&base[..], reward, extra].concat())
    };
    for architecture in ["mlp", "pairs"] {
        let out = run(&[
            "--branch-lengths",
            "continuous",
            "--architecture",
            architecture,
            "--json",
            "--checkpoint",
            ckpt.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{architecture}: {}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON summary");
        assert_eq!(summary["env_config"]["config"]["branch_lengths"], "continuous");
        assert_eq!(summary["iterations"], 20);
        assert!(summary["log_z_estimate"].as_f64().is_some_and(f64::is_finite), "{summary}");
        // The best tree is stored with its drawn lengths and reported as Newick.
        let best = summary["phylo"]["best_tree"].as_str().expect("a best tree");
        assert_eq!(parse_newick_trees("best", best).expect("Newick").len(), 1);
        assert!(summary["phylo"]["best_log_likelihood"].as_f64().is_some_and(f64::is_finite), "{summary}");
    }
    let out = gfn(&["sample", "--checkpoint", ckpt.to_str().unwrap(), "--n", "4", "--format", "newick"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let trees = parse_newick_trees("sample", &String::from_utf8(out.stdout).expect("utf-8")).expect("Newick");
    assert_eq!(trees.len(), 4);
    for tree in &trees {
        let lengths = tree.unrooted_edge_lengths().expect("every edge has a length");
        assert_eq!(lengths.len(), 7);
        // Real lengths, not multiples of a bin width.
        assert!(
            lengths.iter().all(|(_, l)| *l > 0.0 && ((l / 0.001).round() * 0.001 - l).abs() > 1e-12),
            "{lengths:?}"
        );
    }
    // `gfn phylo mll` is the library's importance-sampled marginal likelihood of the checkpoint.
    let out =
        gfn(&["phylo", "mll", "--checkpoint", ckpt.to_str().unwrap(), "--samples", "300", "--seed", "3", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let config =
        PhyloConfig { reward: PhyloReward::Jc69, branch_lengths: BranchLengths::Continuous, ..Default::default() };
    let env = PhyloEnv::new(read_alignment(&fasta).expect("alignment"), config).expect("env");
    let trainer = Trainer::from_checkpoint(env, gfn::backend::Cpu, &ckpt).expect("checkpoint");
    let options = MllOptions { samples: 300, seed: 3, jitter: false };
    let mll = marginal_log_likelihood(trainer.env(), trainer.policy(), options).expect("mll");
    let from_cli = cli["marginal_log_likelihood"].as_f64().expect("a number");
    assert!((from_cli - mll).abs() < 1e-9 * mll.abs(), "CLI {from_cli} vs library {mll}");
    let out = gfn(&["phylo", "mll", "--checkpoint", ckpt.to_str().unwrap(), "--jitter"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("nothing to jitter"), "{stderr}");
    let grid = dir.join("grid.safetensors");
    let out = gfn(&["train", "hypergrid", "--iterations", "2", "--checkpoint", grid.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = gfn(&["phylo", "mll", "--checkpoint", grid.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("needs a phylo checkpoint, not hypergrid"), "{stderr}");
    let cases: [(&[&str], &str); 5] = [
        (&["--branch-lengths", "continuous", "--bins", "4"], "`bins` = 4"),
        (&["--branch-lengths", "continuous", "--bin-size", "0.01"], "`bin_size` = 0.01"),
        (&["--branch-lengths", "continuous", "--branch-actions", "joint"], "`branch_actions` = joint"),
        (&["--branch-lengths", "continuous", "--reward", "parsimony"], "`branch_lengths` = continuous"),
        (&["--branch-lengths", "continuous", "--eval", "exact"], "not enumerable"),
    ];
    for (extra, message) in cases {
        let out = run(extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(message), "{extra:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
