//! Newick reading and writing.
//!
//! Reading accepts quoted labels (`'Homo sapiens'`, `''` for a quote), `[comments]` anywhere
//! between tokens (MrBayes' `[&U]` too), branch lengths (`:0.1`, finite and non-negative),
//! internal-node labels (support values) and multifurcations (a trifurcating root is the usual
//! unrooted form). Every leaf needs a name and names must be distinct; leaves are numbered in
//! order of appearance. Unquoted underscores are kept as they are. Bad syntax is an
//! [`Error::Parse`] with the line and column.
//!
//! Writing gives the same text back up to whitespace, comments and quoting: lengths are printed
//! with Rust's shortest round-trip float formatting, so write → parse is exact.

use gfn_core::{Error, Result};

use super::tree::{NodeId, Tree, TreeBuilder};

/// Parses exactly one `;`-terminated Newick tree; `source` names the input in errors.
pub fn parse_newick(source: &str, text: &str) -> Result<Tree> {
    let mut p = Cursor { source, text: text.as_bytes(), pos: 0 };
    let tree = p.tree()?;
    p.skip_blank()?;
    if p.pos < p.text.len() {
        return Err(p.error("text after the tree's ';' (use one tree per input)"));
    }
    Ok(tree)
}

/// Parses one or more `;`-terminated Newick trees (for example one per line).
pub fn parse_newick_trees(source: &str, text: &str) -> Result<Vec<Tree>> {
    let mut p = Cursor { source, text: text.as_bytes(), pos: 0 };
    let mut trees = Vec::new();
    loop {
        p.skip_blank()?;
        if p.pos == p.text.len() {
            break;
        }
        trees.push(p.tree()?);
    }
    if trees.is_empty() {
        return Err(Error::Parse { source_name: source.into(), reason: "no Newick tree found".into() });
    }
    Ok(trees)
}

struct Cursor<'a> {
    source: &'a str,
    text: &'a [u8],
    pos: usize,
}

/// Characters that end an unquoted label.
fn is_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b'(' | b')' | b'[' | b']' | b':' | b';' | b',' | b'\'')
}

impl Cursor<'_> {
    /// "line L, column C" of byte offset `pos`.
    fn position(&self, pos: usize) -> String {
        let before = &self.text[..pos.min(self.text.len())];
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&c| c != b'\n').count() + 1;
        format!("line {line}, column {column}")
    }

    fn error(&self, reason: impl std::fmt::Display) -> Error {
        Error::Parse { source_name: self.source.to_string(), reason: format!("{}: {reason}", self.position(self.pos)) }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn describe_next(&self) -> String {
        match self.peek() {
            Some(c) if c.is_ascii_graphic() => format!("'{}'", c as char),
            Some(c) => format!("byte 0x{c:02x}"),
            None => "the end of the input".into(),
        }
    }

    /// Skips whitespace and `[comments]`.
    fn skip_blank(&mut self) -> Result<()> {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.pos += 1;
            } else if c == b'[' {
                let start = self.pos;
                match self.text[start..].iter().position(|&c| c == b']') {
                    Some(len) => self.pos = start + len + 1,
                    None => return Err(self.error("unterminated comment '['")),
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    /// A quoted or unquoted label, or `None` if none starts here.
    fn label(&mut self) -> Result<Option<String>> {
        self.skip_blank()?;
        if self.peek() == Some(b'\'') {
            let start = self.pos;
            self.pos += 1;
            let mut bytes = Vec::new();
            loop {
                match self.peek() {
                    Some(b'\'') if self.text.get(self.pos + 1) == Some(&b'\'') => {
                        bytes.push(b'\'');
                        self.pos += 2;
                    }
                    Some(b'\'') => {
                        self.pos += 1;
                        break;
                    }
                    Some(c) => {
                        bytes.push(c);
                        self.pos += 1;
                    }
                    None => {
                        self.pos = start;
                        return Err(self.error("unterminated quoted label"));
                    }
                }
            }
            return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| !is_delimiter(c)) {
            self.pos += 1;
        }
        Ok((self.pos > start).then(|| String::from_utf8_lossy(&self.text[start..self.pos]).into_owned()))
    }

    /// An optional `:length`.
    fn length(&mut self) -> Result<Option<f64>> {
        self.skip_blank()?;
        if self.peek() != Some(b':') {
            return Ok(None);
        }
        self.pos += 1;
        self.skip_blank()?;
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
            self.pos += 1;
        }
        let word = String::from_utf8_lossy(&self.text[start..self.pos]).into_owned();
        match word.parse::<f64>() {
            Ok(l) if l.is_finite() && l >= 0.0 => Ok(Some(l)),
            Ok(l) => {
                self.pos = start;
                Err(self.error(format!("branch length {l} must be finite and non-negative")))
            }
            Err(_) => {
                self.pos = start;
                Err(self.error(format!("expected a branch length after ':', found {}", self.describe_next())))
            }
        }
    }

    /// One tree up to and including its `;`.
    fn tree(&mut self) -> Result<Tree> {
        let mut builder = TreeBuilder::new();
        let mut taxa: Vec<String> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        // Children collected so far for each open '(' (and the position of the '(').
        let mut open: Vec<(Vec<NodeId>, usize)> = Vec::new();
        loop {
            // Expect a subtree.
            self.skip_blank()?;
            let mut node = if self.peek() == Some(b'(') {
                open.push((Vec::new(), self.pos));
                self.pos += 1;
                continue;
            } else {
                let at = self.pos;
                let name = self.label()?.ok_or_else(|| {
                    self.error(format!("expected a leaf name or '(', found {}", self.describe_next()))
                })?;
                if let Some(first) = seen.insert(name.clone(), at) {
                    self.pos = at;
                    return Err(self.error(format!("duplicate leaf '{name}' (first at {})", self.position(first))));
                }
                taxa.push(name);
                let length = self.length()?;
                builder.leaf(taxa.len() - 1, length)
            };
            // After a subtree: ',' ')' or ';'.
            loop {
                self.skip_blank()?;
                match self.peek() {
                    Some(b',') if !open.is_empty() => {
                        self.pos += 1;
                        if let Some((children, _)) = open.last_mut() {
                            children.push(node);
                        }
                        break;
                    }
                    Some(b')') if !open.is_empty() => {
                        self.pos += 1;
                        let (mut children, _) = open.pop().unwrap_or_default();
                        children.push(node);
                        let label = self.label()?;
                        let length = self.length()?;
                        node = builder.internal(children, length, label);
                    }
                    Some(b';') if open.is_empty() => {
                        self.pos += 1;
                        return builder.finish(node, taxa);
                    }
                    Some(b';') | None if !open.is_empty() => {
                        let (_, at) = open[open.len() - 1];
                        self.pos = at;
                        return Err(self.error("'(' is never closed"));
                    }
                    None => return Err(self.error("missing ';' at the end of the tree")),
                    Some(b',' | b')') => {
                        return Err(self.error(format!("unbalanced {}: no open '('", self.describe_next())));
                    }
                    _ => return Err(self.error(format!("expected ',', ')' or ';', found {}", self.describe_next()))),
                }
            }
        }
    }
}

/// Quotes a Newick label when it holds delimiters or non-printing characters.
pub(super) fn quote(label: &str) -> String {
    if !label.is_empty() && label.bytes().all(|c| c.is_ascii_graphic() && !is_delimiter(c)) {
        label.to_string()
    } else {
        format!("'{}'", label.replace('\'', "''"))
    }
}

/// Writes `tree` as Newick (`;`-terminated, no whitespace), with branch lengths and internal
/// labels where present.
pub fn write_newick(tree: &Tree) -> String {
    let mut out = String::new();
    // (node, next child to visit)
    let mut stack = vec![(tree.root(), 0usize)];
    while let Some((id, k)) = stack.pop() {
        let node = tree.node(id);
        if let Some(t) = node.taxon {
            out.push_str(&quote(&tree.taxa()[t]));
        } else if k == 0 {
            out.push('(');
        } else if k < node.children.len() {
            out.push(',');
        }
        if node.taxon.is_none() && k < node.children.len() {
            stack.push((id, k + 1));
            stack.push((node.children[k], 0));
            continue;
        }
        if node.taxon.is_none() {
            out.push(')');
            if let Some(label) = &node.label {
                out.push_str(&quote(label));
            }
        }
        if let Some(l) = node.length {
            out.push_str(&format!(":{l}"));
        }
    }
    out.push(';');
    out
}

#[cfg(test)]
#[path = "newick_tests.rs"]
mod tests;
