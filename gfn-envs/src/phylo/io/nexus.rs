//! NEXUS DNA alignments: the `DATA` block, or a `CHARACTERS` block (whose `NTAX` may come from a
//! preceding `TAXA` block).
//!
//! Supported commands: `DIMENSIONS NTAX= NCHAR=`; `FORMAT DATATYPE=DNA|RNA|NUCLEOTIDE MISSING= GAP=
//! MATCHCHAR= INTERLEAVE[=YES|NO]` (other format items are ignored); `MATRIX … ;`. Other commands
//! and other blocks (`TREES`, `MRBAYES`, …) are skipped. `[comments]` may appear anywhere. Names
//! may be quoted (`'Homo sapiens'`). In an interleaved matrix each line holds a name and a part of
//! its row; otherwise a row may span lines.

use std::collections::HashMap;

use gfn_core::{Error, Result};

use super::nexus_tokens::{Spanned, tokenize};
use super::records::{RawAlignment, Record, normalize_nucleotide, parse_error, show_char, validate};

/// Parses a NEXUS file's DNA alignment; `source` names the input in errors.
pub fn parse_nexus(source: &str, text: &str) -> Result<RawAlignment> {
    let tokens = tokenize(source, text)?;
    let mut p = Parser { source, tokens: &tokens, pos: 0, taxa_ntax: None };
    match p.tokens.first() {
        Some(t) if t.is_word("#NEXUS") => p.pos = 1,
        Some(t) => {
            return Err(parse_error(source, t.line, format!("expected '#NEXUS' at the start, found {}", t.show())));
        }
        None => {
            return Err(Error::Parse { source_name: source.into(), reason: "empty file (expected '#NEXUS')".into() });
        }
    }
    while let Some(begin) = p.next() {
        if !begin.is_word("BEGIN") {
            return Err(p.error(begin.line, format!("expected 'BEGIN' of a block, found {}", begin.show())));
        }
        let name = p.word_after(begin.line, "a block name after BEGIN")?;
        p.expect(';', begin.line)?;
        match name.to_ascii_uppercase().as_str() {
            "DATA" | "CHARACTERS" => {
                let raw = p.data_block(begin.line, name.eq_ignore_ascii_case("DATA"))?;
                validate(source, &raw)?;
                return Ok(raw);
            }
            "TAXA" => p.taxa_block(begin.line)?,
            _ => p.skip_block(begin.line, &name)?,
        }
    }
    Err(Error::Parse { source_name: source.into(), reason: "no DATA or CHARACTERS block".into() })
}

/// The declared shape and symbols of a matrix.
struct Format {
    ntax: usize,
    nchar: usize,
    missing: char,
    gap: char,
    matchchar: Option<char>,
    interleave: bool,
}

struct Parser<'a> {
    source: &'a str,
    tokens: &'a [Spanned],
    pos: usize,
    taxa_ntax: Option<usize>,
}

impl<'a> Parser<'a> {
    fn error(&self, line: usize, reason: impl std::fmt::Display) -> Error {
        parse_error(self.source, line, reason)
    }

    fn next(&mut self) -> Option<&'a Spanned> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&'a Spanned> {
        self.tokens.get(self.pos)
    }

    /// The next token, or an error that the file ended inside `what` begun at `line`.
    fn need(&mut self, line: usize, what: &str) -> Result<&'a Spanned> {
        let last = self.tokens.last().map_or(line, |t| t.line);
        self.next()
            .ok_or_else(|| self.error(last, format!("file ends inside {what} begun at line {line} (truncated?)")))
    }

    fn word_after(&mut self, line: usize, what: &str) -> Result<String> {
        let t = self.need(line, what)?;
        t.word().map(str::to_string).ok_or_else(|| self.error(t.line, format!("expected {what}, found {}", t.show())))
    }

    fn expect(&mut self, c: char, line: usize) -> Result<()> {
        let t = self.need(line, "a command")?;
        if t.is(c) { Ok(()) } else { Err(self.error(t.line, format!("expected '{c}', found {}", t.show()))) }
    }

    /// Skips to the end of the current command (past its `;`).
    fn skip_command(&mut self, line: usize) -> Result<()> {
        while !self.need(line, "a command")?.is(';') {}
        Ok(())
    }

    fn skip_block(&mut self, line: usize, name: &str) -> Result<()> {
        loop {
            let t = self.need(line, &format!("block {name}"))?;
            if t.is_word("END") || t.is_word("ENDBLOCK") {
                return self.expect(';', t.line);
            }
        }
    }

    /// `KEY[=VALUE] … ;` pairs of a command begun at `line` (keys upper-cased).
    fn options(&mut self, line: usize) -> Result<Vec<(String, Option<String>, usize)>> {
        let mut out = Vec::new();
        loop {
            let t = self.need(line, "a command")?;
            if t.is(';') {
                return Ok(out);
            }
            let key = t.word().ok_or_else(|| self.error(t.line, format!("unexpected {}", t.show())))?;
            let value = if self.peek().is_some_and(|n| n.is('=')) {
                self.pos += 1;
                Some(self.word_after(t.line, &format!("a value for {key}"))?)
            } else {
                None
            };
            out.push((key.to_ascii_uppercase(), value, t.line));
        }
    }

    fn count(&self, key: &str, value: Option<String>, line: usize) -> Result<usize> {
        let v = value.ok_or_else(|| self.error(line, format!("{key} needs a value ({key}=number)")))?;
        match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(self.error(line, format!("{key}={v} is not a positive integer"))),
        }
    }

    fn symbol(&self, key: &str, value: Option<String>, line: usize) -> Result<char> {
        let v = value.unwrap_or_default();
        let mut chars = v.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(self.error(line, format!("{key}='{v}' must be a single character"))),
        }
    }

    fn taxa_block(&mut self, line: usize) -> Result<()> {
        loop {
            let t = self.need(line, "block TAXA")?;
            if t.is_word("END") || t.is_word("ENDBLOCK") {
                return self.expect(';', t.line);
            }
            if t.is_word("DIMENSIONS") {
                for (key, value, l) in self.options(t.line)? {
                    if key == "NTAX" {
                        self.taxa_ntax = Some(self.count("NTAX", value, l)?);
                    }
                }
            } else {
                self.skip_command(t.line)?;
            }
        }
    }

    fn data_block(&mut self, line: usize, is_data: bool) -> Result<RawAlignment> {
        let block = if is_data { "DATA" } else { "CHARACTERS" };
        let (mut ntax, mut nchar) = (if is_data { None } else { self.taxa_ntax }, None);
        let mut format = Format { ntax: 0, nchar: 0, missing: '?', gap: '-', matchchar: None, interleave: false };
        let mut matrix = None;
        loop {
            let t = self.need(line, &format!("block {block}"))?;
            if t.is_word("END") || t.is_word("ENDBLOCK") {
                self.expect(';', t.line)?;
                break;
            } else if t.is_word("DIMENSIONS") {
                for (key, value, l) in self.options(t.line)? {
                    match key.as_str() {
                        "NTAX" => ntax = Some(self.count("NTAX", value, l)?),
                        "NCHAR" => nchar = Some(self.count("NCHAR", value, l)?),
                        _ => {}
                    }
                }
            } else if t.is_word("FORMAT") {
                self.format(t.line, &mut format)?;
            } else if t.is_word("MATRIX") {
                format.ntax =
                    ntax.ok_or_else(|| self.error(t.line, format!("MATRIX before DIMENSIONS NTAX in block {block}")))?;
                format.nchar = nchar
                    .ok_or_else(|| self.error(t.line, format!("MATRIX before DIMENSIONS NCHAR in block {block}")))?;
                matrix = Some(self.matrix(t.line, &format)?);
            } else {
                self.skip_command(t.line)?;
            }
        }
        matrix.ok_or_else(|| self.error(line, format!("block {block} has no MATRIX")))
    }

    fn format(&mut self, line: usize, f: &mut Format) -> Result<()> {
        for (key, value, l) in self.options(line)? {
            match key.as_str() {
                "DATATYPE" => {
                    let v = value.unwrap_or_default();
                    if !["DNA", "RNA", "NUCLEOTIDE"].iter().any(|d| v.eq_ignore_ascii_case(d)) {
                        return Err(self.error(l, format!("DATATYPE={v} is not supported (only DNA, RNA, NUCLEOTIDE)")));
                    }
                }
                "MISSING" => f.missing = self.symbol("MISSING", value, l)?,
                "GAP" => f.gap = self.symbol("GAP", value, l)?,
                "MATCHCHAR" => f.matchchar = Some(self.symbol("MATCHCHAR", value, l)?),
                "INTERLEAVE" => {
                    f.interleave = match value.as_deref().map(str::to_ascii_uppercase).as_deref() {
                        None | Some("YES") => true,
                        Some("NO") => false,
                        Some(v) => return Err(self.error(l, format!("INTERLEAVE={v} must be YES or NO"))),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Appends the characters of `word` to row `r` of `rows`.
    fn push(&self, rows: &mut [Record], r: usize, word: &str, line: usize, f: &Format) -> Result<()> {
        for c in word.chars() {
            let name = &rows[r].name;
            let position = rows[r].sequence.len();
            if position == f.nchar {
                return Err(self.error(
                    line,
                    format!("taxon '{name}' has more than NCHAR={} sites (reading '{word}'; is NCHAR right?)", f.nchar),
                ));
            }
            let code = if c == f.missing {
                b'?'
            } else if c == f.gap {
                b'-'
            } else if Some(c) == f.matchchar {
                if r == 0 {
                    return Err(self.error(line, format!("match character '{c}' in the first row ('{name}')")));
                }
                match rows[0].sequence.get(position) {
                    Some(&b) => b,
                    None => {
                        return Err(self.error(line, format!("match character '{c}' beyond the first row's length")));
                    }
                }
            } else {
                let byte = u8::try_from(c).unwrap_or(0xff);
                normalize_nucleotide(byte).ok_or_else(|| {
                    self.error(line, format!("unknown character {} in the sequence of taxon '{name}'", show_char(byte)))
                })?
            };
            rows[r].sequence.push(code);
        }
        Ok(())
    }

    fn matrix(&mut self, line: usize, f: &Format) -> Result<RawAlignment> {
        let mut rows: Vec<Record> = Vec::with_capacity(f.ntax);
        let mut index: HashMap<String, usize> = HashMap::new();
        let end_line = loop {
            let t = self.need(line, "MATRIX")?;
            if t.is(';') {
                break t.line;
            }
            let name =
                t.word().ok_or_else(|| self.error(t.line, format!("expected a taxon name, found {}", t.show())))?;
            let r = match index.get(name) {
                Some(&r) if f.interleave => r,
                Some(_) => return Err(self.error(t.line, format!("duplicate taxon '{name}' in MATRIX"))),
                None => {
                    if rows.len() == f.ntax {
                        return Err(
                            self.error(t.line, format!("more than NTAX={} rows in MATRIX (taxon '{name}')", f.ntax))
                        );
                    }
                    index.insert(name.to_string(), rows.len());
                    rows.push(Record { name: name.to_string(), sequence: Vec::with_capacity(f.nchar), line: t.line });
                    rows.len() - 1
                }
            };
            if f.interleave {
                while let Some(w) = self.peek().filter(|n| n.line == t.line).and_then(Spanned::word) {
                    self.pos += 1;
                    self.push(&mut rows, r, w, t.line, f)?;
                }
            } else {
                while rows[r].sequence.len() < f.nchar {
                    let s = self.need(line, "MATRIX")?;
                    let w = s.word().ok_or_else(|| {
                        self.error(
                            s.line,
                            format!(
                                "taxon '{name}' has {} sites where NCHAR={} (row ends early)",
                                rows[r].sequence.len(),
                                f.nchar
                            ),
                        )
                    })?;
                    self.push(&mut rows, r, w, s.line, f)?;
                }
            }
        };
        if rows.len() != f.ntax {
            return Err(self.error(end_line, format!("MATRIX has {} rows but NTAX={}", rows.len(), f.ntax)));
        }
        if let Some(r) = rows.iter().find(|r| r.sequence.len() != f.nchar) {
            return Err(self.error(
                end_line,
                format!("taxon '{}' (line {}) has {} sites but NCHAR={}", r.name, r.line, r.sequence.len(), f.nchar),
            ));
        }
        Ok(RawAlignment { records: rows })
    }
}

/// Quotes a NEXUS word when it holds anything beyond letters, digits, `_ . -`.
pub fn nexus_word(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

/// Writes a NEXUS file with one DATA block (`DATATYPE=DNA MISSING=? GAP=-`, one row per line).
pub fn write_nexus(taxa: &[String], sequences: &[Vec<u8>]) -> String {
    let nchar = sequences.first().map_or(0, Vec::len);
    let names: Vec<String> = taxa.iter().map(|t| nexus_word(t)).collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let mut out = format!(
        "#NEXUS\n\nBEGIN DATA;\n  DIMENSIONS NTAX={} NCHAR={nchar};\n  FORMAT DATATYPE=DNA MISSING=? GAP=-;\n  MATRIX\n",
        taxa.len()
    );
    for (name, seq) in names.iter().zip(sequences) {
        out.push_str(&format!("    {name:width$}  {}\n", String::from_utf8_lossy(seq)));
    }
    out.push_str("  ;\nEND;\n");
    out
}
