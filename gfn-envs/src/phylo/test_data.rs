//! Alignments for the tests: a deterministic JC69-like toy alignment and DS1.

use super::alignment::Alignment;

/// A toy alignment of `taxa` taxa and `sites` sites: a random root sequence mutated along a
/// caterpillar, each taxon copying its predecessor with about 15% of sites changed (xorshift with
/// a fixed seed), so nearby taxa are similar and the parsimony landscape is informative.
pub(crate) fn toy_alignment(taxa: usize, sites: usize) -> Alignment {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut seq: Vec<u8> = (0..sites).map(|_| b"ACGT"[(next() % 4) as usize]).collect();
    let mut rows = Vec::new();
    for _ in 0..taxa {
        for c in seq.iter_mut() {
            if next() % 100 < 15 {
                *c = b"ACGT"[(next() % 4) as usize];
            }
        }
        rows.push(seq.clone());
    }
    Alignment::new((0..taxa).map(|t| format!("t{t}")).collect(), rows).expect("a valid toy alignment")
}

/// DS1 (27 taxa, 1949 sites) from the shared data, read with a minimal test-only FASTA reader.
pub(crate) fn ds1() -> Alignment {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/phylo/DS1.fasta");
    let text = std::fs::read_to_string(path).expect("the shared DS1.fasta");
    let (mut taxa, mut seqs) = (Vec::new(), Vec::<Vec<u8>>::new());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix('>') {
            taxa.push(name.trim().to_string());
            seqs.push(Vec::new());
        } else {
            seqs.last_mut().expect("a header first").extend_from_slice(line.as_bytes());
        }
    }
    Alignment::new(taxa, seqs).expect("DS1 is valid")
}
