//! Phylogenetic scoring on DS1 (27 taxa, 1949 sites, compressed to its distinct site patterns):
//! full-tree Felsenstein JC69 log-likelihood and Fitch parsimony evaluations per second, and the
//! single-merge primitives they are made of. The `_cached_leaves` variants reuse one
//! `TreeScorer` (leaf Fitch sets and partials built once); the others build the leaves per call.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group};
use gfn::envs::phylo::alignment::MissingCoding;
use gfn::envs::phylo::fitch::FitchSet;
use gfn::envs::phylo::io::read_alignment;
use gfn::envs::phylo::likelihood::Partials;
use gfn::envs::phylo::score::{TreeScorer, fitch_score, log_likelihood};
use gfn::envs::phylo::simulate::random_tree;
use gfn::rng::{Purpose, stream};

fn phylo(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/phylo/DS1.fasta");
    let alignment = read_alignment(Path::new(path)).expect("DS1.fasta");
    let tree = random_tree(alignment.taxa().to_vec(), 10.0, &mut stream(0, Purpose::User, &[0])).expect("a tree");
    let mut g = c.benchmark_group(format!("phylo_ds1_{}_patterns", alignment.pattern_count()));
    g.throughput(Throughput::Elements(1));
    g.bench_function("jc69_log_likelihood_full_tree", |b| {
        b.iter(|| log_likelihood(black_box(&tree), &alignment).expect("scored"))
    });
    g.bench_function("fitch_full_tree", |b| {
        b.iter(|| fitch_score(black_box(&tree), &alignment, MissingCoding::AllStates).expect("scored"))
    });
    let scorer = TreeScorer::new(&alignment, MissingCoding::AllStates);
    g.bench_function("jc69_log_likelihood_full_tree_cached_leaves", |b| {
        b.iter(|| scorer.log_likelihood(black_box(&tree)).expect("scored"))
    });
    g.bench_function("fitch_full_tree_cached_leaves", |b| b.iter(|| scorer.fitch(black_box(&tree)).expect("scored")));
    let (p0, p1) = (Partials::leaf(&alignment, 0), Partials::leaf(&alignment, 1));
    g.bench_function("partials_combine", |b| b.iter(|| Partials::combine(black_box(&p0), 0.1, black_box(&p1), 0.2)));
    let (f0, f1) = (
        FitchSet::leaf(&alignment, 0, MissingCoding::AllStates),
        FitchSet::leaf(&alignment, 1, MissingCoding::AllStates),
    );
    g.bench_function("fitch_merge", |b| {
        b.iter(|| FitchSet::merge(black_box(&f0), black_box(&f1), alignment.weights()))
    });
    g.finish();
}

criterion_group!(benches, phylo);
