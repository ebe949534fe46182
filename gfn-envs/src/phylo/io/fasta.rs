//! Aligned FASTA: `>name [description]` header lines, each followed by sequence lines (wrapped at
//! any width; whitespace inside them is ignored). Lines starting with `;` are comments. The taxon
//! name is the first whitespace-separated word of the header.

use gfn_core::Result;

use super::records::{RawAlignment, Record, check_plain_names, parse_error, push_sequence, validate};

/// Parses aligned FASTA text; `source` names the input in errors.
pub fn parse_fasta(source: &str, text: &str) -> Result<RawAlignment> {
    let mut records: Vec<Record> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim_end_matches('\r');
        if let Some(header) = trimmed.strip_prefix('>') {
            if let Some(last) = records.last() {
                ensure_nonempty(source, last)?;
            }
            let name = header
                .split_whitespace()
                .next()
                .ok_or_else(|| parse_error(source, line_no, "header '>' without a taxon name"))?;
            records.push(Record { name: name.to_string(), sequence: Vec::new(), line: line_no });
        } else if trimmed.starts_with(';') || trimmed.trim().is_empty() {
            continue;
        } else {
            let Some(record) = records.last_mut() else {
                return Err(parse_error(source, line_no, "sequence data before the first '>' header (is this FASTA?)"));
            };
            push_sequence(source, line_no, 1, trimmed, &record.name, &mut record.sequence)?;
        }
    }
    if let Some(last) = records.last() {
        ensure_nonempty(source, last)?;
    }
    let raw = RawAlignment { records };
    validate(source, &raw)?;
    Ok(raw)
}

fn ensure_nonempty(source: &str, r: &Record) -> Result<()> {
    if r.sequence.is_empty() {
        return Err(parse_error(source, r.line, format!("taxon '{}' has no sequence", r.name)));
    }
    Ok(())
}

/// Writes aligned FASTA, wrapping sequences at 60 columns. Names must not contain whitespace.
pub fn write_fasta(taxa: &[String], sequences: &[Vec<u8>]) -> Result<String> {
    check_plain_names(taxa, "FASTA")?;
    let mut out = String::new();
    for (name, seq) in taxa.iter().zip(sequences) {
        out.push('>');
        out.push_str(name);
        out.push('\n');
        for chunk in seq.chunks(60) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
    }
    Ok(out)
}
