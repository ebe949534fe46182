//! Parsed alignment rows with their line numbers, the nucleotide alphabet, and the checks every
//! format shares (at least three taxa, no duplicate names, equal lengths).

use gfn_core::{Error, Result};

/// The fewest taxa an alignment may have (an unrooted binary tree needs three leaves).
pub const MIN_TAXA: usize = 3;

/// One row of an alignment as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The taxon name.
    pub name: String,
    /// The aligned sequence in the canonical alphabet (see [`normalize_nucleotide`]).
    pub sequence: Vec<u8>,
    /// The 1-based line where the row starts (its name).
    pub line: usize,
}

/// The rows of an alignment file, in file order, before conversion to an `Alignment`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAlignment {
    /// The rows.
    pub records: Vec<Record>,
}

impl RawAlignment {
    /// The taxon names in file order.
    pub fn taxa(&self) -> Vec<String> {
        self.records.iter().map(|r| r.name.clone()).collect()
    }

    /// The sequences in file order.
    pub fn sequences(&self) -> Vec<Vec<u8>> {
        self.records.iter().map(|r| r.sequence.clone()).collect()
    }

    /// The number of sites (the length of the first row; 0 when empty).
    pub fn num_sites(&self) -> usize {
        self.records.first().map_or(0, |r| r.sequence.len())
    }
}

/// Maps one alignment character to the canonical alphabet `ACGT`, the IUPAC ambiguity codes
/// `RYSWKMBDHVN`, gap `-` and missing `?`. Lower case is accepted and `U` is read as `T`.
/// Returns `None` for anything else.
pub fn normalize_nucleotide(c: u8) -> Option<u8> {
    match c.to_ascii_uppercase() {
        b'U' => Some(b'T'),
        u @ (b'A' | b'C' | b'G' | b'T' | b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' | b'N'
        | b'-' | b'?') => Some(u),
        _ => None,
    }
}

/// A parse error in `source` at `line` (1-based).
pub(crate) fn parse_error(source: &str, line: usize, reason: impl std::fmt::Display) -> Error {
    Error::Parse { source_name: source.to_string(), reason: format!("line {line}: {reason}") }
}

/// Renders a byte for an error message.
pub(crate) fn show_char(c: u8) -> String {
    if c.is_ascii_graphic() { format!("'{}'", c as char) } else { format!("byte 0x{c:02x}") }
}

/// Appends the sequence characters of `text` (whitespace ignored) to `out`, normalising them;
/// `column0` is the 1-based column of `text`'s first byte on `line`.
pub(crate) fn push_sequence(
    source: &str,
    line: usize,
    column0: usize,
    text: &str,
    taxon: &str,
    out: &mut Vec<u8>,
) -> Result<()> {
    for (i, &c) in text.as_bytes().iter().enumerate() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let n = normalize_nucleotide(c).ok_or_else(|| {
            parse_error(
                source,
                line,
                format!(
                    "column {}: unknown character {} in the sequence of taxon '{taxon}' \
                     (expected A C G T U, an IUPAC code R Y S W K M B D H V N, '-' or '?')",
                    column0 + i,
                    show_char(c)
                ),
            )
        })?;
        out.push(n);
    }
    Ok(())
}

/// Checks what every alignment needs: at least [`MIN_TAXA`] rows, unique names, non-empty rows of
/// equal length. Errors name the offending rows and their lines.
pub fn validate(source: &str, raw: &RawAlignment) -> Result<()> {
    let records = &raw.records;
    if records.len() < MIN_TAXA {
        return Err(Error::Parse {
            source_name: source.to_string(),
            reason: format!("{} taxa found; an alignment needs at least {MIN_TAXA}", records.len()),
        });
    }
    let mut seen = std::collections::HashMap::new();
    for r in records {
        if let Some(first) = seen.insert(r.name.as_str(), r.line) {
            return Err(parse_error(source, r.line, format!("duplicate taxon '{}' (first at line {first})", r.name)));
        }
    }
    let first = &records[0];
    if first.sequence.is_empty() {
        return Err(parse_error(source, first.line, format!("taxon '{}' has an empty sequence", first.name)));
    }
    for r in &records[1..] {
        if r.sequence.len() != first.sequence.len() {
            return Err(parse_error(
                source,
                r.line,
                format!(
                    "taxon '{}' has {} sites but taxon '{}' (line {}) has {}: rows must have equal lengths",
                    r.name,
                    r.sequence.len(),
                    first.name,
                    first.line,
                    first.sequence.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Rejects empty names and names with whitespace, which `format` cannot represent.
pub(crate) fn check_plain_names(taxa: &[String], format: &str) -> Result<()> {
    match taxa.iter().find(|n| n.is_empty() || n.chars().any(char::is_whitespace)) {
        Some(bad) => Err(Error::config(
            "taxon name",
            format!("'{bad}'"),
            format!("{format} names must be non-empty and contain no whitespace"),
        )),
        None => Ok(()),
    }
}
