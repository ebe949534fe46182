//! The NEXUS tokenizer: words (unquoted or `'quoted'`, with `''` for a quote), the punctuation
//! `;` and `=`, and `[comments]` (nested ones too) skipped. Every token carries its line.

use gfn_core::Result;

use super::records::parse_error;

/// One NEXUS token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// A word (quotes removed).
    Word(String),
    /// `;` or `=`.
    Punct(char),
}

/// A token and the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spanned {
    pub(crate) token: Token,
    pub(crate) line: usize,
}

impl Spanned {
    /// The word, if this is one.
    pub(crate) fn word(&self) -> Option<&str> {
        match &self.token {
            Token::Word(w) => Some(w),
            Token::Punct(_) => None,
        }
    }

    /// Whether this is the punctuation `c`.
    pub(crate) fn is(&self, c: char) -> bool {
        self.token == Token::Punct(c)
    }

    /// Whether this is the word `w` (ASCII case-insensitive).
    pub(crate) fn is_word(&self, w: &str) -> bool {
        self.word().is_some_and(|x| x.eq_ignore_ascii_case(w))
    }

    /// The token as written, for error messages.
    pub(crate) fn show(&self) -> String {
        match &self.token {
            Token::Word(w) => format!("'{w}'"),
            Token::Punct(c) => format!("'{c}'"),
        }
    }
}

/// Splits NEXUS text into tokens; `source` names the input in errors.
pub(crate) fn tokenize(source: &str, text: &str) -> Result<Vec<Spanned>> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '[' => {
                let start = line;
                let mut depth = 1;
                while depth > 0 {
                    match chars.next() {
                        Some('[') => depth += 1,
                        Some(']') => depth -= 1,
                        Some('\n') => line += 1,
                        Some(_) => {}
                        None => return Err(parse_error(source, start, "unterminated comment '['")),
                    }
                }
            }
            ']' => return Err(parse_error(source, line, "']' without an opening '['")),
            ';' | '=' => tokens.push(Spanned { token: Token::Punct(c), line }),
            '\'' | '"' => {
                let start = line;
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some(q) if q == c => {
                            if chars.peek() == Some(&c) {
                                chars.next();
                                word.push(c);
                            } else {
                                break;
                            }
                        }
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            word.push(ch);
                        }
                        None => return Err(parse_error(source, start, format!("unterminated quoted word {c}{word}"))),
                    }
                }
                tokens.push(Spanned { token: Token::Word(word), line: start });
            }
            c => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '[' | ']' | ';' | '=' | '\'' | '"') {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                tokens.push(Spanned { token: Token::Word(word), line });
            }
        }
    }
    Ok(tokens)
}
