//! A DNA alignment with compressed site patterns and per-taxon state codes.
//!
//! Identical columns are merged into one *pattern* with a weight (the number of sites it stands
//! for), because both the Fitch score and the log-likelihood are sums over sites. Each taxon's
//! character in a pattern is stored as a [`StateCode`] byte, from which the likelihood mask (4 bits
//! A, C, G, T) and the parsimony mask (5 bits A, C, G, T, gap) are derived (DOMAINS §4.1):
//!
//! | characters | likelihood mask | parsimony mask |
//! |---|---|---|
//! | `A C G T/U` | one-hot | one-hot |
//! | IUPAC ambiguity `R Y S W K M B D H V` | the subset | the subset |
//! | `-` (gap) | all four (missing data) | the gap state |
//! | `?`, `N` (missing) | all four | all five ([`MissingCoding::AllStates`]) or ACGT ([`MissingCoding::Nucleotides`]) |
//!
//! Characters are case-insensitive.

use std::collections::HashMap;

use gfn_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// A per-taxon per-pattern character code: bits 0–3 are the nucleotide subset (A = 1, C = 2,
/// G = 4, T = 8), bit 4 ([`GAP`]) marks a gap and bit 5 ([`MISSING`]) marks `?`/`N`.
pub type StateCode = u8;

/// The gap flag of a [`StateCode`].
pub const GAP: StateCode = 1 << 4;
/// The missing-data flag of a [`StateCode`] (`?` or `N`).
pub const MISSING: StateCode = 1 << 5;
/// The four nucleotide bits of a [`StateCode`].
pub const NUCLEOTIDES: StateCode = 0b1111;

/// How parsimony treats missing data (`?` and `N`); gaps are always the fifth state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingCoding {
    /// `?`/`N` may be any of the five states (A, C, G, T, gap); matches PAUP* on DS1/DS3/DS5.
    #[default]
    AllStates,
    /// `?`/`N` may be any nucleotide but not a gap (PhyloGFN's choice).
    Nucleotides,
}

impl MissingCoding {
    /// The 5-bit parsimony state set (A, C, G, T, gap = bits 0–4) of `code`.
    #[inline]
    pub fn parsimony_mask(self, code: StateCode) -> u8 {
        if code & MISSING != 0 {
            match self {
                MissingCoding::AllStates => 0b1_1111,
                MissingCoding::Nucleotides => NUCLEOTIDES,
            }
        } else if code & GAP != 0 {
            GAP
        } else {
            code & NUCLEOTIDES
        }
    }
}

/// The 4-bit likelihood mask (A, C, G, T = bits 0–3) of `code`: gaps and missing data are all ones.
#[inline]
pub fn likelihood_mask(code: StateCode) -> u8 {
    if code & (GAP | MISSING) != 0 { NUCLEOTIDES } else { code & NUCLEOTIDES }
}

/// The [`StateCode`] of an alignment character, or `None` if it is not an IUPAC nucleotide code,
/// a gap `-` or missing data `?`.
pub fn state_code(byte: u8) -> Option<StateCode> {
    const A: u8 = 1;
    const C: u8 = 2;
    const G: u8 = 4;
    const T: u8 = 8;
    Some(match byte.to_ascii_uppercase() {
        b'A' => A,
        b'C' => C,
        b'G' => G,
        b'T' | b'U' => T,
        b'R' => A | G,
        b'Y' => C | T,
        b'S' => C | G,
        b'W' => A | T,
        b'K' => G | T,
        b'M' => A | C,
        b'B' => C | G | T,
        b'D' => A | G | T,
        b'H' => A | C | T,
        b'V' => A | C | G,
        b'N' | b'?' => MISSING | NUCLEOTIDES,
        b'-' => GAP,
        _ => return None,
    })
}

/// A validated DNA alignment with compressed site patterns; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    taxa: Vec<String>,
    /// Taxon-major codes: `codes[taxon * pattern_count + pattern]`.
    codes: Vec<StateCode>,
    weights: Vec<f64>,
    /// The pattern of each original site.
    site_patterns: Vec<usize>,
}

impl Alignment {
    /// Validates and compresses an alignment: at least 3 taxa, unique non-empty names, sequences of
    /// one common non-zero length, characters that are IUPAC nucleotide codes, `-` or `?`
    /// (case-insensitive). Errors name the taxon and the (1-based) column.
    pub fn new(taxa: Vec<String>, sequences: Vec<Vec<u8>>) -> Result<Alignment> {
        if taxa.len() != sequences.len() {
            return Err(Error::config(
                "sequences",
                sequences.len(),
                format!("expected one sequence per taxon ({} taxa)", taxa.len()),
            ));
        }
        if taxa.len() < 3 {
            return Err(Error::config("taxa", taxa.len(), "an alignment needs at least 3 taxa"));
        }
        let mut seen = HashMap::new();
        for (i, name) in taxa.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(Error::config("taxa", format!("#{}", i + 1), "taxon names must not be empty"));
            }
            if let Some(first) = seen.insert(name.as_str(), i) {
                return Err(Error::config(
                    "taxa",
                    name,
                    format!("duplicate taxon name (taxa #{} and #{})", first + 1, i + 1),
                ));
            }
        }
        let sites = sequences[0].len();
        if sites == 0 {
            return Err(Error::config("sequences", &taxa[0], "the sequence is empty"));
        }
        let mut codes = vec![0u8; taxa.len() * sites];
        for (t, (name, seq)) in taxa.iter().zip(&sequences).enumerate() {
            if seq.len() != sites {
                return Err(Error::config(
                    "sequences",
                    name,
                    format!("has {} sites but taxon {} has {sites}", seq.len(), taxa[0]),
                ));
            }
            for (s, &byte) in seq.iter().enumerate() {
                codes[t * sites + s] = state_code(byte).ok_or_else(|| {
                    Error::config(
                        "sequences",
                        name,
                        format!(
                            "invalid character {:?} at column {}: expected an IUPAC nucleotide code, '-' or '?'",
                            char::from(byte),
                            s + 1
                        ),
                    )
                })?;
            }
        }
        let n = taxa.len();
        let columns = (0..sites).map(|s| ((0..n).map(|t| codes[t * sites + s]).collect::<Vec<_>>(), 1.0));
        Ok(Self::compress(taxa, columns))
    }

    /// Merges identical columns (in order of first occurrence), summing their weights.
    fn compress(taxa: Vec<String>, columns: impl Iterator<Item = (Vec<StateCode>, f64)>) -> Alignment {
        let mut index: HashMap<Vec<StateCode>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<StateCode>> = Vec::new();
        let mut weights = Vec::new();
        let mut site_patterns = Vec::new();
        for (column, weight) in columns {
            let p = *index.entry(column.clone()).or_insert_with(|| {
                patterns.push(column);
                weights.push(0.0);
                patterns.len() - 1
            });
            weights[p] += weight;
            site_patterns.push(p);
        }
        let m = patterns.len();
        let mut codes = vec![0u8; taxa.len() * m];
        for (p, column) in patterns.iter().enumerate() {
            for (t, &c) in column.iter().enumerate() {
                codes[t * m + p] = c;
            }
        }
        Alignment { taxa, codes, weights, site_patterns }
    }

    /// The taxon names, in input order.
    pub fn taxa(&self) -> &[String] {
        &self.taxa
    }

    /// The number of taxa.
    pub fn taxon_count(&self) -> usize {
        self.taxa.len()
    }

    /// The number of sites (columns) of the original alignment.
    pub fn site_count(&self) -> usize {
        self.site_patterns.len()
    }

    /// The number of distinct site patterns.
    pub fn pattern_count(&self) -> usize {
        self.weights.len()
    }

    /// The weight of each pattern (the number of sites it stands for).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The pattern index of each original site.
    pub fn site_patterns(&self) -> &[usize] {
        &self.site_patterns
    }

    /// The state codes of taxon `taxon`, one per pattern.
    pub fn codes(&self, taxon: usize) -> &[StateCode] {
        let m = self.pattern_count();
        &self.codes[taxon * m..(taxon + 1) * m]
    }

    /// The 4-bit likelihood masks of taxon `taxon`, one per pattern.
    pub fn likelihood_masks(&self, taxon: usize) -> impl Iterator<Item = u8> + '_ {
        self.codes(taxon).iter().map(|&c| likelihood_mask(c))
    }

    /// The 5-bit parsimony masks of taxon `taxon`, one per pattern.
    pub fn parsimony_masks(&self, taxon: usize, missing: MissingCoding) -> impl Iterator<Item = u8> + '_ {
        self.codes(taxon).iter().map(move |&c| missing.parsimony_mask(c))
    }

    /// The alignment of the first `k` taxa (`3 <= k <= taxon_count()`), recompressed.
    pub fn subset(&self, k: usize) -> Result<Alignment> {
        if !(3..=self.taxon_count()).contains(&k) {
            return Err(Error::config("taxa", k, format!("a subset must have 3..={} taxa", self.taxon_count())));
        }
        let m = self.pattern_count();
        let columns =
            self.site_patterns.iter().map(|&p| ((0..k).map(|t| self.codes[t * m + p]).collect::<Vec<_>>(), 1.0));
        Ok(Self::compress(self.taxa[..k].to_vec(), columns))
    }

    /// The alignment of the given original sites (0-based, in the given order), recompressed; for
    /// splitting the data by sites.
    pub fn select_sites(&self, sites: &[usize]) -> Result<Alignment> {
        if sites.is_empty() {
            return Err(Error::config("sites", "[]", "select at least one site"));
        }
        if let Some(&bad) = sites.iter().find(|&&s| s >= self.site_count()) {
            return Err(Error::config("sites", bad, format!("sites are 0..{}", self.site_count())));
        }
        let m = self.pattern_count();
        let n = self.taxon_count();
        let columns = sites.iter().map(|&s| {
            let p = self.site_patterns[s];
            ((0..n).map(|t| self.codes[t * m + p]).collect::<Vec<_>>(), 1.0)
        });
        Ok(Self::compress(self.taxa.clone(), columns))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds an alignment from `(name, sequence)` pairs.
    pub(crate) fn alignment(rows: &[(&str, &str)]) -> Alignment {
        Alignment::new(
            rows.iter().map(|(n, _)| (*n).to_string()).collect(),
            rows.iter().map(|(_, s)| s.as_bytes().to_vec()).collect(),
        )
        .unwrap()
    }

    #[test]
    fn patterns_are_compressed_with_weights() {
        let a = alignment(&[("a", "AACGA"), ("b", "AACGA"), ("c", "TTcGT")]);
        assert_eq!((a.taxon_count(), a.site_count(), a.pattern_count()), (3, 5, 3));
        assert_eq!(a.weights(), &[3.0, 1.0, 1.0]);
        assert_eq!(a.site_patterns(), &[0, 0, 1, 2, 0]);
        assert_eq!(a.codes(2), &[8, 2, 4]);
    }

    #[test]
    fn masks_follow_the_missing_data_conventions() {
        let a = alignment(&[("a", "A-?NR"), ("b", "ACGTA"), ("c", "GGGGG")]);
        assert_eq!(a.likelihood_masks(0).collect::<Vec<_>>(), [1, 15, 15, 15, 5]);
        assert_eq!(a.parsimony_masks(0, MissingCoding::AllStates).collect::<Vec<_>>(), [1, 16, 31, 31, 5]);
        assert_eq!(a.parsimony_masks(0, MissingCoding::Nucleotides).collect::<Vec<_>>(), [1, 16, 15, 15, 5]);
    }

    #[test]
    fn subsets_and_site_selections_recompress() {
        let a = alignment(&[("a", "ACGT"), ("b", "ACGT"), ("c", "AAAA"), ("d", "ACTT")]);
        assert_eq!(a.pattern_count(), 4);
        let sub = a.subset(3).unwrap();
        assert_eq!(sub.taxa(), &["a", "b", "c"]);
        assert_eq!((sub.pattern_count(), sub.weights()), (4, &[1.0, 1.0, 1.0, 1.0][..]));
        let sites = a.select_sites(&[3, 3, 0]).unwrap();
        assert_eq!((sites.site_count(), sites.weights()), (3, &[2.0, 1.0][..]));
        assert_eq!(sites.codes(3), &[8, 1]);
        assert!(a.subset(2).is_err() && a.subset(5).is_err());
        assert!(a.select_sites(&[4]).is_err() && a.select_sites(&[]).is_err());
    }

    #[test]
    fn invalid_alignments_name_the_taxon_and_column() {
        let new = |names: &[&str], seqs: &[&str]| {
            Alignment::new(
                names.iter().map(|s| (*s).to_string()).collect(),
                seqs.iter().map(|s| s.as_bytes().to_vec()).collect(),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(new(&["a", "b"], &["A", "A"]).contains("at least 3 taxa"));
        let msg = new(&["a", "b", "c"], &["AC", "AC", "AX"]);
        assert!(msg.contains("`sequences` = c") && msg.contains("'X'") && msg.contains("column 2"), "{msg}");
        assert!(new(&["a", "b", "c"], &["AC", "A", "AC"]).contains("`sequences` = b"));
        assert!(new(&["a", "b", "a"], &["A", "A", "A"]).contains("duplicate taxon name"));
        assert!(new(&["a", "b", "c"], &["", "", ""]).contains("empty"));
        assert!(new(&["a", "b", "c"], &["A", "A"]).contains("one sequence per taxon"));
    }
}
