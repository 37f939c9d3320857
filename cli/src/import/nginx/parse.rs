//! Tokens → a directive tree, with `include` resolved.
//!
//! The tree is nginx's: every directive has a name, arguments and maybe a
//! block. Files are read through a [`Source`] so the parser runs without a
//! filesystem (tests, the fuzz target). `include` is resolved like nginx:
//! a relative pattern is taken from the main file's directory (nginx's
//! configuration prefix), whichever file includes it (crossplane's
//! `includes-regular` test pins this: `conf.d/server.conf` including
//! `bar.conf` must not find `conf.d/bar.conf`); a glob matches in sorted
//! order and may match nothing, a plain name must exist.

use std::fmt;
use std::path::{Path, PathBuf};

use super::lexer::{tokenize, Pos, Token, TokenKind};

/// How deep includes may nest: a file including itself is an error, not a hang.
const MAX_INCLUDE_DEPTH: usize = 32;
/// How deep blocks may nest (nginx allows far less in practice).
const MAX_BLOCK_DEPTH: usize = 64;

/// One directive, where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    /// `Some` for block directives (`server { … }`), even when empty.
    pub block: Option<Vec<Directive>>,
    pub at: Location,
}

/// File, line and column of a directive's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.pos.line, self.pos.column)
    }
}

/// A parse error naming file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: Location,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Where config files come from.
pub trait Source {
    /// The text of `path`.
    fn read(&self, path: &Path) -> Result<String, String>;
    /// Files matching the glob `pattern`, sorted.
    fn glob(&self, pattern: &Path) -> Result<Vec<PathBuf>, String>;
}

/// The real filesystem.
pub struct Filesystem;

impl Source for Filesystem {
    fn read(&self, path: &Path) -> Result<String, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // nginx reads bytes; non-UTF-8 comments and strings are kept, lossily.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn glob(&self, pattern: &Path) -> Result<Vec<PathBuf>, String> {
        let p = pattern.to_str().ok_or_else(|| format!("include path is not UTF-8: {}", pattern.display()))?;
        // glob(3) as nginx calls it: `*` does not match a leading dot.
        let opts = glob::MatchOptions { require_literal_leading_dot: true, ..Default::default() };
        let mut out: Vec<PathBuf> = glob::glob_with(p, opts).map_err(|e| format!("bad include pattern {p:?}: {e}"))?.filter_map(Result::ok).collect();
        out.sort();
        Ok(out)
    }
}

/// Parses text alone (no includes resolved: `include` stays a directive).
pub fn parse_text(text: &str, file: &str) -> Result<Vec<Directive>, ParseError> {
    let tokens = tokenize(text).map_err(|e| ParseError { at: Location { file: file.to_string(), pos: e.pos }, message: e.message })?;
    let mut it = tokens.into_iter().peekable();
    let tree = parse_block(&mut it, file, None, 0)?;
    Ok(tree)
}

/// Parses `main` and every file it includes.
pub fn parse_file(main: &Path, source: &dyn Source) -> Result<Vec<Directive>, ParseError> {
    let prefix = main.parent().map(Path::to_path_buf).unwrap_or_default();
    let text = source
        .read(main)
        .map_err(|message| ParseError { at: Location { file: main.display().to_string(), pos: Pos { line: 0, column: 0 } }, message })?;
    let tree = parse_text(&text, &shown(main, &prefix))?;
    expand(tree, &prefix, source, 0)
}

/// A file's name in messages: relative to the main file's directory.
fn shown(path: &Path, prefix: &Path) -> String {
    path.strip_prefix(prefix).unwrap_or(path).display().to_string()
}

fn expand(tree: Vec<Directive>, prefix: &Path, source: &dyn Source, depth: usize) -> Result<Vec<Directive>, ParseError> {
    let mut out = Vec::with_capacity(tree.len());
    for mut d in tree {
        if d.name == "include" && d.block.is_none() {
            let [pattern] = d.args.as_slice() else {
                return Err(ParseError { at: d.at, message: "invalid number of arguments in \"include\" directive".into() });
            };
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(ParseError { at: d.at, message: format!("includes nested deeper than {MAX_INCLUDE_DEPTH} (an include loop?)") });
            }
            for path in resolve_include(pattern, prefix, source).map_err(|message| ParseError { at: d.at.clone(), message })? {
                let text = source.read(&path).map_err(|message| ParseError { at: d.at.clone(), message })?;
                let sub = parse_text(&text, &shown(&path, prefix))?;
                out.extend(expand(sub, prefix, source, depth + 1)?);
            }
            continue;
        }
        if let Some(block) = d.block.take() {
            d.block = Some(expand(block, prefix, source, depth)?);
        }
        out.push(d);
    }
    Ok(out)
}

fn resolve_include(pattern: &str, prefix: &Path, source: &dyn Source) -> Result<Vec<PathBuf>, String> {
    let path = if Path::new(pattern).is_absolute() { PathBuf::from(pattern) } else { prefix.join(pattern) };
    if pattern.contains(['*', '?', '[']) {
        return source.glob(&path);
    }
    match source.read(&path) {
        Ok(_) => Ok(vec![path]),
        Err(_) => Err(format!("include file {pattern:?} not found (looked for {})", path.display())),
    }
}

fn parse_block(
    it: &mut std::iter::Peekable<std::vec::IntoIter<Token>>,
    file: &str,
    opened_at: Option<Pos>,
    depth: usize,
) -> Result<Vec<Directive>, ParseError> {
    let err = |pos: Pos, message: String| ParseError { at: Location { file: file.to_string(), pos }, message };
    if depth > MAX_BLOCK_DEPTH {
        return Err(err(opened_at.unwrap_or_default(), format!("blocks nested deeper than {MAX_BLOCK_DEPTH}")));
    }
    let mut out = Vec::new();
    loop {
        let Some(tok) = it.next() else {
            return match opened_at {
                Some(pos) => Err(err(pos, "unexpected end of file, expecting \"}\" to close this block".into())),
                None => Ok(out),
            };
        };
        let name = match tok.kind {
            TokenKind::Word { text, .. } => text,
            TokenKind::CloseBrace if opened_at.is_some() => return Ok(out),
            TokenKind::CloseBrace => return Err(err(tok.pos, "unexpected \"}\"".into())),
            TokenKind::Semicolon => return Err(err(tok.pos, "unexpected \";\"".into())),
            TokenKind::OpenBrace | TokenKind::RawBlock(_) => return Err(err(tok.pos, "unexpected \"{\"".into())),
        };
        let mut args = Vec::new();
        let mut last_line = tok.pos;
        loop {
            let Some(next) = it.next() else {
                return Err(err(last_line, format!("unexpected end of file: directive {name:?} is not terminated by \";\"")));
            };
            match next.kind {
                TokenKind::Word { text, .. } => {
                    last_line = next.pos;
                    args.push(text);
                }
                TokenKind::Semicolon => {
                    out.push(Directive { name, args, block: None, at: Location { file: file.to_string(), pos: tok.pos } });
                    break;
                }
                TokenKind::OpenBrace => {
                    let block = parse_block(it, file, Some(next.pos), depth + 1)?;
                    out.push(Directive { name, args, block: Some(block), at: Location { file: file.to_string(), pos: tok.pos } });
                    break;
                }
                TokenKind::RawBlock(body) => {
                    args.push(body);
                    out.push(Directive { name, args, block: Some(Vec::new()), at: Location { file: file.to_string(), pos: tok.pos } });
                    break;
                }
                TokenKind::CloseBrace => {
                    // nginx names the directive's line: the `;` is missing.
                    return Err(err(last_line, format!("directive {name:?} is not terminated by \";\"")));
                }
            }
        }
    }
}

/// The tree as one line (`name args;` or `name args { … }`), for tests and
/// comparisons with other parsers' expected parses.
pub fn outline(tree: &[Directive]) -> String {
    let mut out = String::new();
    for d in tree {
        out.push_str(&d.name);
        for a in &d.args {
            out.push(' ');
            out.push_str(a);
        }
        match &d.block {
            Some(b) => {
                out.push_str(" {");
                out.push_str(&outline(b));
                out.push('}');
            }
            None => out.push(';'),
        }
    }
    out
}

/// Every directive of the tree, depth first, with its parents' names.
pub fn walk<'a>(tree: &'a [Directive], f: &mut dyn FnMut(&'a Directive, &[&'a Directive])) {
    fn go<'a>(tree: &'a [Directive], stack: &mut Vec<&'a Directive>, f: &mut dyn FnMut(&'a Directive, &[&'a Directive])) {
        for d in tree {
            f(d, stack);
            if let Some(b) = &d.block {
                stack.push(d);
                go(b, stack, f);
                stack.pop();
            }
        }
    }
    go(tree, &mut Vec::new(), f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_errors_with_positions() {
        let t = parse_text("http {\n  server { listen 80; }\n}\n", "t.conf").unwrap();
        let server = &t[0].block.as_ref().unwrap()[0];
        assert_eq!((server.name.as_str(), server.at.pos.line, server.at.pos.column), ("server", 2, 3));
        let e = parse_text("http {\n  a b\n}\n", "t.conf").unwrap_err();
        assert_eq!(e.to_string(), "t.conf:2:5: directive \"a\" is not terminated by \";\"");
        assert!(parse_text("http {", "t.conf").unwrap_err().to_string().contains("t.conf:1:6"));
        assert!(parse_text("}", "t.conf").is_err());
    }
}
