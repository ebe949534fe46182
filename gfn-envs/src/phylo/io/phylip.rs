//! PHYLIP alignments with relaxed names: a header line `ntax nchar`, then the rows.
//!
//! - **Sequential:** each row starts with its name (the first whitespace-separated word), and its
//!   sequence may continue over further lines until `nchar` characters are read.
//! - **Interleaved:** the first block has `ntax` lines `name sequence-part`; later blocks (blank
//!   lines between blocks are optional) have `ntax` lines of sequence only, in the same order.
//!
//! The layout is detected: the text is read as interleaved (PHYLIP's default) and, if that fails,
//! as sequential; if both fail, the error of the reading that got further is reported. Spaces
//! inside sequences are ignored. Strict PHYLIP with 10-character names glued to the sequence is
//! not supported.

use gfn_core::{Error, Result};

use super::records::{RawAlignment, Record, check_plain_names, normalize_nucleotide, show_char, validate};

/// A failure at a line: (line, reason).
type LineError = (usize, String);

/// Parses relaxed PHYLIP (sequential or interleaved); `source` names the input in errors.
pub fn parse_phylip(source: &str, text: &str) -> Result<RawAlignment> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let fail = |(line, reason): LineError| Error::Parse {
        source_name: source.to_string(),
        reason: format!("line {line}: {reason}"),
    };
    let Some(&(header_line, header)) = lines.first() else {
        return Err(Error::Parse { source_name: source.to_string(), reason: "empty file (no PHYLIP header)".into() });
    };
    let (ntax, nchar) = parse_header(header_line, header).map_err(fail)?;
    let body = &lines[1..];
    let raw = match interleaved(body, ntax, nchar, header_line) {
        Ok(raw) => raw,
        Err(e_inter) => match sequential(body, ntax, nchar, header_line) {
            Ok(raw) => raw,
            Err(e_seq) => {
                let (line, reason, layout) = if e_seq.0 >= e_inter.0 {
                    (e_seq.0, e_seq.1, "sequential")
                } else {
                    (e_inter.0, e_inter.1, "interleaved")
                };
                return Err(fail((line, format!("{reason} (read as {layout} PHYLIP)"))));
            }
        },
    };
    validate(source, &raw)?;
    Ok(raw)
}

fn parse_header(line: usize, header: &str) -> Result<(usize, usize), LineError> {
    let mut words = header.split_whitespace();
    let mut number = |what: &str| -> Result<usize, LineError> {
        let w = words.next().ok_or_else(|| (line, format!("PHYLIP header needs `ntax nchar`, found '{header}'")))?;
        w.parse::<usize>().map_err(|_| (line, format!("PHYLIP header: {what} '{w}' is not a non-negative integer")))
    };
    let ntax = number("the number of taxa")?;
    let nchar = number("the number of sites")?;
    if nchar == 0 {
        return Err((line, "PHYLIP header: the number of sites is 0".into()));
    }
    Ok((ntax, nchar))
}

/// Appends the sequence characters of `text` to `seq`, failing past `nchar` characters.
fn push(line: usize, text: &str, name: &str, nchar: usize, seq: &mut Vec<u8>) -> Result<(), LineError> {
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let n = normalize_nucleotide(c)
            .ok_or_else(|| (line, format!("unknown character {} in the sequence of taxon '{name}'", show_char(c))))?;
        if seq.len() == nchar {
            return Err((line, format!("taxon '{name}' has more than the {nchar} sites declared in the header")));
        }
        seq.push(n);
    }
    Ok(())
}

/// Splits `name rest` at the first whitespace.
fn split_name(line: &str) -> (&str, &str) {
    let line = line.trim_start();
    match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    }
}

fn interleaved(
    body: &[(usize, &str)],
    ntax: usize,
    nchar: usize,
    header_line: usize,
) -> Result<RawAlignment, LineError> {
    let last_line = body.last().map_or(header_line, |l| l.0);
    if body.len() < ntax {
        return Err((last_line, format!("the header declares {ntax} taxa but only {} rows follow", body.len())));
    }
    let mut records = Vec::with_capacity(ntax);
    for &(line, text) in &body[..ntax] {
        let (name, rest) = split_name(text);
        if rest.trim().is_empty() {
            return Err((line, format!("row '{name}' has a name but no sequence")));
        }
        let mut sequence = Vec::with_capacity(nchar);
        push(line, rest, name, nchar, &mut sequence)?;
        records.push(Record { name: name.to_string(), sequence, line });
    }
    for (k, &(line, text)) in body[ntax..].iter().enumerate() {
        let r = &mut records[k % ntax];
        push(line, text, &r.name, nchar, &mut r.sequence)?;
    }
    finish(records, nchar, last_line)
}

fn sequential(
    body: &[(usize, &str)],
    ntax: usize,
    nchar: usize,
    header_line: usize,
) -> Result<RawAlignment, LineError> {
    let last_line = body.last().map_or(header_line, |l| l.0);
    let mut records: Vec<Record> = Vec::with_capacity(ntax);
    let mut rows = body.iter();
    while let Some(&(line, text)) = rows.next() {
        if records.len() == ntax {
            return Err((line, format!("data after the {ntax} taxa declared in the header")));
        }
        let (name, rest) = split_name(text);
        let mut sequence = Vec::with_capacity(nchar);
        push(line, rest, name, nchar, &mut sequence)?;
        while sequence.len() < nchar {
            let Some(&(l, t)) = rows.next() else { break };
            push(l, t, name, nchar, &mut sequence)?;
        }
        records.push(Record { name: name.to_string(), sequence, line });
    }
    if records.len() < ntax {
        return Err((last_line, format!("the header declares {ntax} taxa but the file ends after {}", records.len())));
    }
    finish(records, nchar, last_line)
}

fn finish(records: Vec<Record>, nchar: usize, last_line: usize) -> Result<RawAlignment, LineError> {
    if let Some(r) = records.iter().find(|r| r.sequence.len() != nchar) {
        return Err((
            last_line,
            format!(
                "taxon '{}' (line {}) has {} sites but the header declares {nchar} (truncated file?)",
                r.name,
                r.line,
                r.sequence.len()
            ),
        ));
    }
    Ok(RawAlignment { records })
}

/// Writes sequential relaxed PHYLIP (one row per line). Names must not contain whitespace.
pub fn write_phylip(taxa: &[String], sequences: &[Vec<u8>]) -> Result<String> {
    check_plain_names(taxa, "PHYLIP")?;
    let nchar = sequences.first().map_or(0, Vec::len);
    let width = taxa.iter().map(String::len).max().unwrap_or(0);
    let mut out = format!("{} {nchar}\n", taxa.len());
    for (name, seq) in taxa.iter().zip(sequences) {
        out.push_str(&format!("{name:width$}  {}\n", String::from_utf8_lossy(seq)));
    }
    Ok(out)
}
