//! The phylogenetics environment learns an exact parsimony target on the first 7 taxa of DS1; the
//! Bayesian discrete-bin environment conforms and trains without non-finite values.

use std::path::Path;

use gfn::envs::phylo::alignment::Alignment;
use gfn::envs::phylo::config::{PhyloConfig, PhyloReward};
use gfn::envs::phylo::env::{Forest, PhyloEnv};
use gfn::envs::phylo::io::read_alignment;
use gfn::envs::phylo::metrics::{ParsimonyStats, exact_log_prob_reward_correlation};
use gfn::policy::Architecture;
use gfn::prelude::*;

/// The first `taxa` taxa of DS1 (shared data).
fn ds1(taxa: usize) -> Alignment {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/phylo/DS1.fasta");
    read_alignment(Path::new(path)).expect("the shared DS1.fasta").subset(taxa).expect("enough taxa")
}

/// The largest target probability and the perplexity `exp(H)` of the exact target.
fn target_summary(evaluator: &ExactEvaluator<Forest>) -> (f64, f64) {
    let p = evaluator.target();
    let max = p.iter().copied().fold(0.0, f64::max);
    let entropy = -p.iter().filter(|x| **x > 0.0).map(|x| x * x.ln()).sum::<f64>();
    (max, entropy.exp())
}

/// DS1's first 6 taxa: 105 unrooted trees with Fitch scores 1216..=1378. At T = 16 the target is
/// neither flat nor a point mass (best tree p = 0.32, perplexity 8.8; T = 8 gives p = 0.54). The
/// offset C = 1216 keeps log R_train in [−10.2, 0], as PhyloGFN's per-data-set constant does: with
/// C = 0, log R ≈ −80 and log Z (starting at 0) cannot catch up in a short run. (7 taxa, 945 trees,
/// T = 8: exact L1 0.32 after 2000 iterations, so longer runs are needed there; 6 taxa reach 0.103
/// after 2000.)
#[test]
fn parsimony_target_on_six_ds1_taxa_is_learned_exactly() {
    let config = PhyloConfig { temperature: 16.0, offset: 1216.0, ..PhyloConfig::default() };
    let env = PhyloEnv::new(ds1(6), config).expect("valid env");
    let evaluator = ExactEvaluator::new(&env).expect("enumerable");
    assert_eq!(evaluator.target().len(), 105);
    let stats = ParsimonyStats::of_trees(&env, evaluator.terminal_states()).expect("trees");
    assert_eq!((stats.min, stats.max), (1216.0, 1378.0));
    let (max, perplexity) = target_summary(&evaluator);
    assert!(max < 0.5 && perplexity > 5.0, "target: max p {max}, perplexity {perplexity}");
    let config = TrainConfig {
        seed: 1,
        iterations: 3000,
        batch_size: 16,
        policy: PolicyConfig { hidden: vec![128, 128], ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(env, config).expect("valid config");
    let summary = trainer.fit(Some(&evaluator), &RunOptions::default()).expect("training runs");
    let l1 = summary.eval.and_then(|e| e.l1).expect("exact l1");
    let correlation = exact_log_prob_reward_correlation(trainer.env(), &evaluator, trainer.policy())
        .expect("exact distribution")
        .expect("a correlation");
    eprintln!("parsimony, 6 DS1 taxa, T = 16: exact L1 {l1:.4}, corr(log P, log R) {correlation:.4}");
    assert!(l1 < 0.1, "exact L1 {l1} >= 0.1");
    assert!(correlation > 0.9, "corr(log P, log R) = {correlation}");
}

/// The permutation-equivariant pair policy (one slot per tree, merges scored per unordered pair of
/// trees) learns the exact parsimony target on DS1's first 5 taxa (15 unrooted trees) at T = 32,
/// with the offset C at the best score.
#[test]
fn pair_policy_learns_the_parsimony_target_on_five_ds1_taxa() {
    let scores = PhyloEnv::new(ds1(5), PhyloConfig::default()).expect("valid env");
    let evaluator = ExactEvaluator::new(&scores).expect("enumerable");
    let stats = ParsimonyStats::of_trees(&scores, evaluator.terminal_states()).expect("trees");
    let config = PhyloConfig { temperature: 32.0, offset: stats.min, ..PhyloConfig::default() };
    let env = PhyloEnv::new(ds1(5), config).expect("valid env");
    let report = check_environment(&env, &CheckOptions::default()).expect("conforms, slot layout included");
    assert_eq!(report.terminals, 15);
    let evaluator = ExactEvaluator::new(&env).expect("enumerable");
    let (max, perplexity) = target_summary(&evaluator);
    let config = TrainConfig {
        seed: 1,
        iterations: 1000,
        batch_size: 16,
        policy: PolicyConfig { hidden: vec![64], architecture: Architecture::Pairs, ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(env, config).expect("valid config");
    let summary = trainer.fit(Some(&evaluator), &RunOptions::default()).expect("training runs");
    let l1 = summary.eval.and_then(|e| e.l1).expect("exact l1");
    eprintln!(
        "pair policy, parsimony, 5 DS1 taxa ({}..={}), T = 32 (max p {max:.3}, perplexity {perplexity:.2}): exact L1 \
         {l1:.4}",
        stats.min, stats.max
    );
    assert!(max < 0.8 && perplexity > 2.0, "target: max p {max}, perplexity {perplexity}");
    assert!(l1 < 0.15, "exact L1 {l1} >= 0.15");
}

#[test]
fn jc69_bins_conform_and_train_finitely() {
    let config = PhyloConfig {
        reward: PhyloReward::Jc69,
        bins: 2,
        bin_size: 0.02,
        offset: 2100.0,
        temperature: 4.0,
        ..PhyloConfig::default()
    };
    let env = PhyloEnv::new(ds1(4), config).expect("valid env");
    let report = check_environment(&env, &CheckOptions::default()).expect("conforms");
    assert!(report.exhaustive);
    // 3 topologies × 2^5 branch-length assignments.
    assert_eq!(report.terminals, 3 * 2usize.pow(5));
    let config = TrainConfig { seed: 2, iterations: 200, batch_size: 16, ..TrainConfig::default() };
    let mut trainer = Trainer::new(env, config).expect("valid config");
    let summary = trainer.fit(None, &RunOptions::default()).expect("training runs without NaN");
    assert!(summary.final_loss.is_finite() && summary.log_z.is_finite());
}

fn gfn(args: &[&str], cwd: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gfn")).args(args).current_dir(cwd).output().expect("gfn runs")
}

#[test]
fn cli_trains_samples_and_rejects_bad_phylo_input() {
    let dir = std::env::temp_dir().join(format!("gfn-phylo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fasta = ">a\nACGTACGTAA\n>b\nACGTACGTTA\n>c\nACGAACGTTC\n>d\nTCGAACCTTC\n>e\nTCGAAC-TTC\n";
    std::fs::write(dir.join("five.fasta"), fasta).expect("write");
    let ckpt = dir.join("phylo.safetensors");
    let ckpt_s = ckpt.to_str().expect("utf-8");
    let args = ["train", "phylo", "--alignment", "five.fasta", "--reward", "jc69", "--bins", "2", "--bin-size", "0.05"];
    let out = gfn(&[&args[..], &["--iterations", "20", "--json", "--checkpoint", ckpt_s]].concat(), &dir);
    assert!(out.status.success(), "train failed: {}", String::from_utf8_lossy(&out.stderr));
    // The checkpoint stores the absolute alignment path, so sampling works from any directory.
    let out = gfn(&["sample", "--checkpoint", ckpt_s, "-n", "3"], &std::env::temp_dir());
    assert!(out.status.success(), "sample failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 3);
    assert!(stdout.contains("(0,"), "unrooted trees rooted on taxon 0: {stdout}");
    let errors: [(&[&str], &str); 4] = [
        (&["train", "phylo", "--iterations", "1"], "--alignment"),
        (&["train", "hypergrid", "--alignment", "five.fasta"], "does not apply"),
        (&["train", "phylo", "--alignment", "missing.fasta"], "missing.fasta"),
        (&["train", "phylo", "--alignment", "five.fasta", "--reward-temperature", "0"], "temperature"),
    ];
    for (args, needle) in errors {
        let out = gfn(args, &dir);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle) && !err.contains("panicked"), "{args:?}: {err}");
    }
    std::fs::write(dir.join("bad.fasta"), ">a\nACGT\n>b\nACXT\n>c\nACGT\n").expect("write");
    let out = gfn(&["train", "phylo", "--alignment", "bad.fasta"], &dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && err.contains('X'), "{err}");
}
