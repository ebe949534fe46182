//! The phylogenetics environment learns exact parsimony targets; the Bayesian one trains finitely.

use gfn::envs::phylo::alignment::Alignment;
use gfn::envs::phylo::config::{PhyloConfig, PhyloReward};
use gfn::envs::phylo::env::PhyloEnv;
use gfn::prelude::*;

/// The first `taxa` taxa of DS1 (shared data), read with a minimal test-only FASTA reader.
fn ds1(taxa: usize) -> Alignment {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/phylo/DS1.fasta");
    let text = std::fs::read_to_string(path).expect("the shared DS1.fasta");
    let (mut names, mut seqs) = (Vec::new(), Vec::<Vec<u8>>::new());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix('>') {
            names.push(name.to_string());
            seqs.push(Vec::new());
        } else {
            seqs.last_mut().expect("a header first").extend_from_slice(line.as_bytes());
        }
    }
    Alignment::new(names, seqs).expect("DS1 is valid").subset(taxa).expect("enough taxa")
}

fn target_summary(evaluator: &ExactEvaluator<gfn::envs::phylo::env::Forest>) -> (f64, f64) {
    let p = evaluator.target();
    let max = p.iter().copied().fold(0.0, f64::max);
    let entropy = -p.iter().filter(|x| **x > 0.0).map(|x| x * x.ln()).sum::<f64>();
    (max, entropy.exp())
}

#[test]
fn parsimony_target_is_learned_exactly() {
    let taxa = 7;
    let temperature: f64 = std::env::var("PHYLO_T").ok().and_then(|s| s.parse().ok()).unwrap_or(4.0);
    let config = PhyloConfig { temperature, ..PhyloConfig::default() };
    let env = PhyloEnv::new(ds1(taxa), config).expect("valid env");
    let evaluator = ExactEvaluator::new(&env).expect("enumerable");
    let (max, perplexity) = target_summary(&evaluator);
    eprintln!("target over {} trees: max p {max:.4}, perplexity {perplexity:.1}", evaluator.target().len());
    let iterations = std::env::var("PHYLO_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let config = TrainConfig {
        seed: 1,
        iterations,
        batch_size: 16,
        policy: PolicyConfig { hidden: vec![128, 128], ..PolicyConfig::default() },
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(env, config).expect("valid config");
    let summary = trainer.fit(Some(&evaluator), &RunOptions::default()).expect("training runs");
    let l1 = summary.eval.and_then(|e| e.l1).expect("exact l1");
    eprintln!("parsimony {taxa} taxa T={temperature}: exact L1 {l1:.4}");
    assert!(l1 < 0.1, "exact L1 {l1} >= 0.1");
}
