//! nginx config tokens, read the way `ngx_conf_read_token` reads them.
//!
//! A small tokenizer of our own rather than a crate: the crates on crates.io
//! (`nginx-config`, `nginx-parser`) are unmaintained and reject parts of the
//! corpus (Lua blocks, quoted directive names, `${var}` next to braces,
//! comments between arguments). nginx's grammar is a few lines of C; this is
//! that grammar, with file:line:column on every token and error.
//!
//! Words: a run of non-space characters; `;`, `{`, `}` end a word unless
//! escaped with `\` or inside quotes; `#` starts a comment at the start of a
//! word; `"…"`/`'…'` quote (the quotes are dropped); in every word `\"`, `\'`,
//! `\\`, `\t`, `\r`, `\n` are unescaped and any other `\x` is kept as is (so
//! regexes keep their `\.`). `${name}` is a variable, not a block.

use std::fmt;

/// Where a token starts: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A word or quoted string, unescaped.
    Word { text: String, quoted: bool },
    Semicolon,
    OpenBrace,
    CloseBrace,
    /// The body of a `*_by_lua_block { … }`, braces excluded, verbatim.
    RawBlock(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub pos: Pos,
}

/// A lexical error at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.column, self.message)
    }
}

struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    pos: Pos,
}

impl Cursor<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }
}

/// Splits `text` into tokens. Lua blocks (a directive whose name ends in
/// `_by_lua_block`) are read as one raw token, as OpenResty does.
pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let mut cur = Cursor { chars: text.chars().peekable(), pos: Pos { line: 1, column: 1 } };
    let mut out: Vec<Token> = Vec::new();
    // Whether the next word starts a directive (after `;`, `{`, `}` or at the start).
    let mut at_directive_start = true;
    let mut lua_pending = false;
    loop {
        while cur.peek().is_some_and(char::is_whitespace) {
            cur.bump();
        }
        let pos = cur.pos;
        let Some(c) = cur.peek() else { break };
        match c {
            '#' => {
                while cur.peek().is_some_and(|c| c != '\n') {
                    cur.bump();
                }
                continue;
            }
            ';' | '}' => {
                cur.bump();
                let kind = if c == ';' { TokenKind::Semicolon } else { TokenKind::CloseBrace };
                out.push(Token { kind, pos });
                at_directive_start = true;
                lua_pending = false;
                continue;
            }
            '{' => {
                cur.bump();
                if lua_pending {
                    let body = read_lua_block(&mut cur, pos)?;
                    out.push(Token { kind: TokenKind::RawBlock(body), pos });
                    lua_pending = false;
                } else {
                    out.push(Token { kind: TokenKind::OpenBrace, pos });
                }
                at_directive_start = true;
                continue;
            }
            _ => {}
        }
        let (text, quoted) = if c == '"' || c == '\'' {
            cur.bump();
            (read_quoted(&mut cur, c, pos)?, true)
        } else {
            (read_word(&mut cur), false)
        };
        if at_directive_start && text.ends_with("_by_lua_block") {
            lua_pending = true;
        }
        at_directive_start = false;
        out.push(Token { kind: TokenKind::Word { text, quoted }, pos });
    }
    Ok(out)
}

/// Applies nginx's escapes after a backslash; returns what to append.
fn unescape(next: char) -> Option<char> {
    match next {
        '"' | '\'' | '\\' => Some(next),
        't' => Some('\t'),
        'r' => Some('\r'),
        'n' => Some('\n'),
        _ => None,
    }
}

fn read_quoted(cur: &mut Cursor<'_>, quote: char, start: Pos) -> Result<String, LexError> {
    let mut s = String::new();
    loop {
        match cur.bump() {
            None => return Err(LexError { pos: start, message: format!("unexpected end of file, expecting closing {quote}") }),
            Some(c) if c == quote => return Ok(s),
            Some('\\') => match cur.bump() {
                Some(n) => match unescape(n) {
                    Some(u) => s.push(u),
                    None => {
                        s.push('\\');
                        s.push(n);
                    }
                },
                None => return Err(LexError { pos: start, message: format!("unexpected end of file, expecting closing {quote}") }),
            },
            Some(c) => s.push(c),
        }
    }
}

fn read_word(cur: &mut Cursor<'_>) -> String {
    let mut s = String::new();
    while let Some(c) = cur.peek() {
        match c {
            c if c.is_whitespace() => break,
            ';' | '}' => break,
            '{' if !s.ends_with('$') => break,
            '\\' => {
                cur.bump();
                match cur.peek() {
                    Some(n) => {
                        cur.bump();
                        match unescape(n) {
                            Some(u) => s.push(u),
                            None => {
                                s.push('\\');
                                s.push(n);
                            }
                        }
                    }
                    None => s.push('\\'),
                }
            }
            '{' => {
                // `${name}`: read through the closing brace.
                cur.bump();
                s.push('{');
                while let Some(n) = cur.peek() {
                    if n.is_whitespace() || n == ';' {
                        break;
                    }
                    cur.bump();
                    s.push(n);
                    if n == '}' {
                        break;
                    }
                }
            }
            _ => {
                cur.bump();
                s.push(c);
            }
        }
    }
    s
}

/// Lua code up to the brace matching the opening one, skipping braces in Lua
/// strings and `--` comments.
fn read_lua_block(cur: &mut Cursor<'_>, start: Pos) -> Result<String, LexError> {
    let mut depth = 1usize;
    let mut body = String::new();
    while let Some(c) = cur.bump() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(body);
                }
            }
            '"' | '\'' => {
                body.push(c);
                while let Some(n) = cur.bump() {
                    body.push(n);
                    if n == '\\' {
                        if let Some(e) = cur.bump() {
                            body.push(e);
                        }
                    } else if n == c || n == '\n' {
                        break;
                    }
                }
                continue;
            }
            '-' if cur.peek() == Some('-') => {
                body.push(c);
                while let Some(n) = cur.bump() {
                    body.push(n);
                    if n == '\n' {
                        break;
                    }
                }
                continue;
            }
            _ => {}
        }
        body.push(c);
    }
    Err(LexError { pos: start, message: "unexpected end of file in a Lua block, expecting \"}\"".to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| match t.kind {
                TokenKind::Word { text, .. } => text,
                TokenKind::Semicolon => ";".into(),
                TokenKind::OpenBrace => "{".into(),
                TokenKind::CloseBrace => "}".into(),
                TokenKind::RawBlock(b) => format!("<lua {}>", b.trim()),
            })
            .collect()
    }

    #[test]
    fn quotes_escapes_comments_and_variables() {
        assert_eq!(words(r#"a "b c" 'd;e' f\;g # x ; y"#), ["a", "b c", "d;e", "f\\;g"]);
        assert_eq!(words(r#"return 200 "a\"b\\c\.d";"#), ["return", "200", "a\"b\\c\\.d", ";"]);
        assert_eq!(words("try_files /abc/${uri}.html =404;"), ["try_files", "/abc/${uri}.html", "=404", ";"]);
        assert_eq!(words("location /foo{}location /bar{}"), ["location", "/foo", "{", "}", "location", "/bar", "{", "}"]);
        assert_eq!(words("a#b c;"), ["a#b", "c", ";"]);
    }

    #[test]
    fn lua_blocks_are_raw() {
        let w = words("content_by_lua_block { a = { 1 } s = \"}\" -- }\n }");
        assert_eq!(w.len(), 2);
        assert!(w[1].starts_with("<lua a = { 1 }"), "{w:?}");
    }

    #[test]
    fn positions_and_unterminated_quotes() {
        let t = tokenize("a\n  b;").unwrap();
        assert_eq!(t[1].pos, Pos { line: 2, column: 3 });
        let e = tokenize("a\n \"open").unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (2, 2));
    }
}
