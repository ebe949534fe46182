//! Tree files: plain Newick (one or more `;`-terminated trees) or NEXUS with a `TREES` block
//! (`TRANSLATE` table, `TREE name = [&U] newick;` commands), such as MrBayes' `.t` files.

use std::collections::HashMap;
use std::path::Path;

use gfn_core::{Error, Result};

use super::io::nexus_tokens::tokenize;
use super::newick::{parse_newick, parse_newick_trees};
use super::tree::Tree;

/// Reads all trees of a Newick or NEXUS tree file.
pub fn read_trees(path: &Path) -> Result<Vec<Tree>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_trees(&path.display().to_string(), &text)
}

/// Parses Newick or NEXUS tree text (NEXUS when it starts with `#NEXUS`).
pub fn parse_trees(source: &str, text: &str) -> Result<Vec<Tree>> {
    let start = text.trim_start();
    if start.len() >= 6 && start[..6].eq_ignore_ascii_case("#NEXUS") {
        parse_nexus_trees(source, text)
    } else {
        parse_newick_trees(source, text)
    }
}

/// `;`-terminated commands (quotes and `[comments]` respected), each with the line of its first
/// non-blank character.
fn commands(text: &str) -> Vec<(usize, &str)> {
    let (mut out, mut line, mut start, mut start_line) = (Vec::new(), 1, 0, 1);
    let (mut quote, mut depth) = (None, 0usize);
    let mut push = |start: usize, end: usize, start_line: usize| {
        let chunk = &text[start..end];
        let leading = &chunk[..chunk.len() - chunk.trim_start().len()];
        if !chunk.trim().is_empty() {
            out.push((start_line + leading.matches('\n').count(), chunk));
        }
    };
    for (i, c) in text.char_indices() {
        match c {
            '\n' => line += 1,
            '\'' | '"' if depth == 0 => quote = if quote == Some(c) { None } else { quote.or(Some(c)) },
            '[' if quote.is_none() => depth += 1,
            ']' if quote.is_none() => depth = depth.saturating_sub(1),
            ';' if quote.is_none() && depth == 0 => {
                push(start, i + 1, start_line);
                start = i + 1;
                start_line = line;
            }
            _ => {}
        }
    }
    push(start, text.len(), start_line);
    out
}

/// The first word of a command (comments skipped), upper-cased.
fn keyword(source: &str, command: &str) -> Result<String> {
    let tokens = tokenize(source, command)?;
    Ok(tokens.first().and_then(|t| t.word()).unwrap_or("").to_ascii_uppercase())
}

fn parse_nexus_trees(source: &str, text: &str) -> Result<Vec<Tree>> {
    let error = |line: usize, reason: String| Error::Parse {
        source_name: source.into(),
        reason: format!("line {line}: {reason}"),
    };
    let (mut in_trees, mut translate, mut trees) = (false, HashMap::new(), Vec::new());
    // Blank out the leading `#NEXUS` (the caller checked it), keeping line numbers.
    let offset = text.len() - text.trim_start().len();
    let text = format!("{}      {}", &text[..offset], &text[offset + 6..]);
    for (line, command) in commands(&text) {
        let key = keyword(source, command)?;
        match key.as_str() {
            "BEGIN" => {
                let tokens = tokenize(source, command)?;
                in_trees = tokens.get(1).is_some_and(|t| t.is_word("TREES"));
            }
            "END" | "ENDBLOCK" => in_trees = false,
            "TRANSLATE" if in_trees => {
                let body = command.trim_start().get("translate".len()..).unwrap_or("").trim_end_matches(';');
                for item in split_outside_quotes(body, ',') {
                    let words: Vec<String> =
                        tokenize(source, item)?.iter().filter_map(|t| t.word().map(str::to_string)).collect();
                    match words.as_slice() {
                        [key, name] => {
                            translate.insert(key.clone(), name.clone());
                        }
                        _ => return Err(error(line, format!("TRANSLATE entry '{}' is not `key name`", item.trim()))),
                    }
                }
            }
            "TREE" | "UTREE" if in_trees => {
                let eq = split_outside_quotes(command, '=');
                let newick = match eq.as_slice() {
                    [_, rest @ ..] if !rest.is_empty() => rest.join("="),
                    _ => return Err(error(line, "TREE command without '='".into())),
                };
                let tree = parse_newick(&format!("{source} (tree at line {line})"), &newick)?;
                trees.push(if translate.is_empty() { tree } else { tree.rename_leaves(&translate)? });
            }
            _ => {}
        }
    }
    if trees.is_empty() {
        return Err(Error::Parse { source_name: source.into(), reason: "no TREE command in a TREES block".into() });
    }
    Ok(trees)
}

/// Splits at `sep` outside quotes and comments.
fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut start, mut quote, mut depth) = (Vec::new(), 0, None, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '\'' | '"' if depth == 0 => quote = if quote == Some(c) { None } else { quote.or(Some(c)) },
            '[' if quote.is_none() => depth += 1,
            ']' if quote.is_none() => depth = depth.saturating_sub(1),
            c if c == sep && quote.is_none() && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phylo::splits::SplitFrequencies;

    const MRBAYES_T: &str = "#NEXUS\n[ID: 123]\nbegin trees;\n   translate\n       1 human,\n       2 'the chimp',\n       3 gorilla,\n       4 orang;\n\
   tree gen.0 = [&U] ((1:0.1,2:0.2):0.05,3:0.3,4:0.4);\n   tree gen.100 = [&U] ((1:0.1,3:0.2):0.05,2:0.3,4:0.4);\nend;\n";

    #[test]
    fn reads_mrbayes_style_nexus_with_translate() {
        let trees = parse_trees("run1.t", MRBAYES_T).unwrap();
        assert_eq!(trees.len(), 2);
        assert_eq!(trees[0].taxa(), ["human", "the chimp", "gorilla", "orang"]);
        let freq = SplitFrequencies::from_trees(&trees).unwrap();
        assert_eq!(freq.records().len(), 2);
        assert!(freq.records().iter().all(|r| r.frequency == 0.5));
    }

    #[test]
    fn reads_plain_newick_and_reports_errors_with_lines() {
        assert_eq!(parse_trees("x.nwk", "(a,b,c);\n(a,c,b);\n").unwrap().len(), 2);
        let bad = MRBAYES_T.replace("3:0.3,4:0.4);\n   tree gen.100", "3:0.3,4:0.4;\n   tree gen.100");
        let err = parse_trees("run1.t", &bad).unwrap_err().to_string();
        assert!(err.contains("tree at line 9") && err.contains("never closed"), "{err}");
        let bad = MRBAYES_T.replace("2 'the chimp',", "2 'the chimp' x,");
        assert!(parse_trees("run1.t", &bad).unwrap_err().to_string().contains("line 4"));
        assert!(parse_trees("e.t", "#NEXUS\nbegin trees;\nend;\n").unwrap_err().to_string().contains("no TREE"));
    }
}
