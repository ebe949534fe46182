//! Readers and writers for DNA alignments in FASTA, PHYLIP (sequential or interleaved, relaxed
//! names) and NEXUS (`DATA` / `CHARACTERS` blocks).
//!
//! Every reader returns a [`RawAlignment`]: the rows in file order with their line numbers, the
//! characters normalised to `ACGT`, the IUPAC codes `RYSWKMBDHVN`, `-` (gap) and `?` (missing).
//! Malformed input — unknown characters, ragged rows, duplicate taxa, fewer than three taxa,
//! truncated files, a wrong `NTAX`/`NCHAR` — is an [`Error::Parse`] that
//! names the file, the line and the offending value. [`read_alignment`] and [`read_raw_alignment`] detect the format
//! from the content (`>` → FASTA, `#NEXUS` → NEXUS, `ntax nchar` → PHYLIP) and falls back on the
//! file extension to report a precise error when the content matches none of them.

mod fasta;
mod nexus;
pub(crate) mod nexus_tokens;
mod phylip;
mod records;

use std::path::Path;

use gfn_core::{Error, Result};

use super::alignment::Alignment;

pub use fasta::{parse_fasta, write_fasta};
pub use nexus::{nexus_word, parse_nexus, write_nexus};
pub use phylip::{parse_phylip, write_phylip};
pub use records::{MIN_TAXA, RawAlignment, Record, normalize_nucleotide, validate};

/// An alignment file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// FASTA (`>name` headers).
    Fasta,
    /// Relaxed PHYLIP, sequential or interleaved.
    Phylip,
    /// NEXUS with a `DATA` or `CHARACTERS` block.
    Nexus,
}

impl Format {
    /// The format that the file extension names (`.fa .fas .fasta .fna .afa`, `.phy .phylip`,
    /// `.nex .nexus .nxs`), if any.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "fa" | "fas" | "fasta" | "fna" | "afa" => Some(Format::Fasta),
            "phy" | "phylip" => Some(Format::Phylip),
            "nex" | "nexus" | "nxs" => Some(Format::Nexus),
            _ => None,
        }
    }

    /// The format that the text's first non-blank line announces, if any.
    pub fn sniff(text: &str) -> Option<Format> {
        let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
        if first.starts_with('>') {
            Some(Format::Fasta)
        } else if first.len() >= 6 && first[..6].eq_ignore_ascii_case("#NEXUS") {
            Some(Format::Nexus)
        } else {
            let words: Vec<&str> = first.split_whitespace().collect();
            let numeric = words.len() >= 2 && words[..2].iter().all(|w| w.parse::<usize>().is_ok());
            numeric.then_some(Format::Phylip)
        }
    }
}

/// Parses `text` as `format`; `source` names the input in errors.
pub fn parse_alignment(source: &str, text: &str, format: Format) -> Result<RawAlignment> {
    match format {
        Format::Fasta => parse_fasta(source, text),
        Format::Phylip => parse_phylip(source, text),
        Format::Nexus => parse_nexus(source, text),
    }
}

/// Detects the format of `text` (content first, then the extension of `source`) and parses it.
pub fn parse_detected(source: &str, text: &str) -> Result<RawAlignment> {
    let format =
        Format::sniff(text).or_else(|| Format::from_extension(Path::new(source))).ok_or_else(|| Error::Parse {
            source_name: source.to_string(),
            reason: "unknown alignment format: expected FASTA ('>' headers), NEXUS ('#NEXUS') or PHYLIP \
                     ('ntax nchar' header), or a .fasta/.phy/.nex extension"
                .into(),
        })?;
    parse_alignment(source, text, format)
}

/// Reads an alignment file, detecting its format.
pub fn read_raw_alignment(path: &Path) -> Result<RawAlignment> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_detected(&path.display().to_string(), &text)
}

/// Reads an alignment file (format detected) into a validated, pattern-compressed [`Alignment`].
pub fn read_alignment(path: &Path) -> Result<Alignment> {
    let raw = read_raw_alignment(path)?;
    Alignment::new(raw.taxa(), raw.sequences())
}

/// Writes `taxa`/`sequences` in `format` (FASTA and PHYLIP reject names with whitespace).
pub fn write_alignment(taxa: &[String], sequences: &[Vec<u8>], format: Format) -> Result<String> {
    match format {
        Format::Fasta => write_fasta(taxa, sequences),
        Format::Phylip => write_phylip(taxa, sequences),
        Format::Nexus => Ok(write_nexus(taxa, sequences)),
    }
}

#[cfg(test)]
mod tests;
