//! Helpers shared by integration tests.

use std::path::Path;

use gfn::envs::phylo::alignment::Alignment;
use gfn::envs::phylo::io::read_alignment;

/// The first `taxa` taxa of DS1 (shared data).
pub(crate) fn ds1(taxa: usize) -> Alignment {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/phylo/DS1.fasta");
    read_alignment(Path::new(path)).expect("the shared DS1.fasta").subset(taxa).expect("enough taxa")
}
