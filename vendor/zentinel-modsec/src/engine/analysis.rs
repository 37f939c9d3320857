//! What loading learns of each `@rx` pattern, kept for the process (edge
//! patch, see PATCHES.md).
//!
//! Parsing a CRS pattern into HIR and factoring its required literals
//! ([`super::prefilter`]) is most of the cost of loading CRS. Each pattern is
//! analysed once per process and shared: by every rule and every load (a
//! changed configuration recompiles the same patterns), and by an embedder
//! that runs some patterns itself. An embedder that ships its rules can also
//! hand over the analyses of its patterns, made before it was built
//! ([`use_known_analyses`]); then a cold load parses only patterns it has never
//! seen.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A pattern's syntax check and required literals: `Err` with the parser's
/// message when it is not valid.
pub type Analysis = Result<Option<Vec<Vec<u8>>>, String>;

/// The analysis of a valid pattern, made before the process started.
#[derive(Debug, Clone, Copy)]
pub struct KnownAnalysis {
    /// [`pattern_key`] of the pattern (the pattern itself is not kept: the
    /// rules text already holds it).
    pub key: u64,
    /// Literals one of which every match contains, each preceded by its
    /// length in one byte; `None` when the pattern has no small such set.
    /// Any sound set will do, not only the one [`fresh_analysis`] finds: a
    /// table may hold shorter literals that its ones contain.
    pub literals: Option<&'static [u8]>,
}

impl KnownAnalysis {
    /// The literals, decoded.
    pub fn decode(&self) -> Option<Vec<Vec<u8>>> {
        let mut rest = self.literals?;
        let mut out = Vec::new();
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len).min(tail.len());
            out.push(tail[..len].to_vec());
            rest = &tail[len..];
        }
        Some(out)
    }
}

static KNOWN: OnceLock<&'static [KnownAnalysis]> = OnceLock::new();
static ANALYSED: Mutex<Option<HashMap<String, Analysis>>> = Mutex::new(None);
/// Enough for stock CRS plus local rules; past this a pattern is analysed
/// without being kept.
const MAX_ANALYSED: usize = 4096;

thread_local! {
    static RECORDING: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// A pattern's key in a [`KnownAnalysis`] table: 64-bit FNV-1a of its bytes,
/// then of its length (stable across builds and targets).
pub fn pattern_key(pattern: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pattern.bytes().chain((pattern.len() as u64).to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Uses `table` (sorted by key) for patterns it holds. The first table given
/// wins; returns whether it was this one.
pub fn use_known_analyses(table: &'static [KnownAnalysis]) -> bool {
    KNOWN.set(table).is_ok()
}

/// Parses a SecLang pattern as ModSecurity's PCRE reads it (no UTF mode): on
/// bytes, `\w` `\d` `\s` `\b` and `(?i)` ASCII only, `\xHH` one byte, `.` any
/// byte (edge patch; upstream used `regex`'s Unicode mode, which also needs
/// its Unicode tables, ~30 KB of a gzipped worker).
pub(crate) fn parse(pattern: &str) -> Result<regex_syntax::hir::Hir, Box<regex_syntax::Error>> {
    regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(&byte_escapes(pattern)).map_err(Box::new)
}

/// Compiles a SecLang pattern with the semantics of [`parse`]; values are
/// matched as their UTF-8 bytes.
pub fn compile(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(&byte_escapes(pattern)).unicode(false).build()
}

/// The bytes, ASCII-lowercased, every match of `pattern` starts with when it
/// is anchored at the start of the text (`(?i)^header_name_` gives
/// `header_name_`); empty when it is not anchored or starts with no literal
/// (edge patch: a `TX:/…/` selection walks every one of CRS's couple of
/// hundred TX keys, and a byte compare refuses most before the regex runs).
pub fn anchored_prefix(pattern: &str) -> Vec<u8> {
    use regex_syntax::hir::{Class, HirKind, Look};
    let Ok(hir) = parse(pattern) else { return Vec::new() };
    let HirKind::Concat(items) = hir.kind() else { return Vec::new() };
    let Some((first, rest)) = items.split_first() else { return Vec::new() };
    if !matches!(first.kind(), HirKind::Look(Look::Start)) {
        return Vec::new();
    }
    let mut prefix = Vec::new();
    for item in rest {
        match item.kind() {
            HirKind::Literal(lit) => prefix.extend(lit.0.iter().map(u8::to_ascii_lowercase)),
            // `(?i)a` is the class `[Aa]`: one byte up to ASCII case.
            HirKind::Class(Class::Bytes(class)) => {
                let bytes: Vec<u8> = class.iter().flat_map(|r| r.start()..=r.end()).take(3).collect();
                match bytes[..] {
                    [b] => prefix.push(b.to_ascii_lowercase()),
                    [a, b] if a.eq_ignore_ascii_case(&b) => prefix.push(a.to_ascii_lowercase()),
                    _ => break,
                }
            }
            _ => break,
        }
    }
    prefix
}

/// `pattern` with each `\x{H}`/`\x{HH}` written `\xHH`: in PCRE's byte mode
/// both are one byte (CRS spells UTF-8 sequences that way, 934110's
/// `\x{e2}\x91[\xa0-\x{bf}]`), where `regex` reads the braced form as a code
/// point, which byte mode refuses inside a class. Longer braced values stay
/// code points (their UTF-8 bytes).
fn byte_escapes(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains("\\x{") {
        return std::borrow::Cow::Borrowed(pattern);
    }
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        // `\x{` + one or two hex digits + `}`; any other escape is a pair.
        let digits = b.get(i + 3..).map_or(0, |r| r.iter().take(3).take_while(|c| c.is_ascii_hexdigit()).count());
        if b.get(i + 1) == Some(&b'x') && b.get(i + 2) == Some(&b'{') && (1..=2).contains(&digits) && b.get(i + 3 + digits) == Some(&b'}') {
            out.push_str(&pattern[copied..i]);
            out.push_str("\\x");
            if digits == 1 {
                out.push('0');
            }
            out.push_str(&pattern[i + 3..i + 3 + digits]);
            i += 4 + digits;
            copied = i;
        } else {
            i += 2;
        }
    }
    out.push_str(&pattern[copied..]);
    std::borrow::Cow::Owned(out)
}

/// `bytes` of a match or capture as text (a match may end inside a multi-byte
/// character, as a PCRE byte match can).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parses `pattern` and factors its literals, with no table or cache: what a
/// [`KnownAnalysis`] of it must say.
pub fn fresh_analysis(pattern: &str) -> Analysis {
    match parse(pattern) {
        Ok(hir) => Ok(super::prefilter::literals_of(&hir)),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `f` and returns, with its result, every pattern analysed on this
/// thread meanwhile (how an embedder lists the patterns its rules compile).
pub fn patterns_analysed_during<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    RECORDING.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let out = f();
    let seen = RECORDING.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (out, seen)
}

/// Drops every kept analysis (not a [`use_known_analyses`] table): a
/// benchmark of a cold load calls it before each load.
pub fn forget_analyses() {
    if let Ok(mut guard) = ANALYSED.lock() {
        *guard = None;
    }
}

fn known(pattern: &str) -> Option<Analysis> {
    let table = KNOWN.get()?;
    let key = pattern_key(pattern);
    let at = table.binary_search_by_key(&key, |k| k.key).ok()?;
    Some(Ok(table[at].decode()))
}

/// [`Analysis`] of `pattern`: kept, known, or made now.
pub(crate) fn analyse(pattern: &str) -> Analysis {
    RECORDING.with(|r| {
        if let Some(seen) = r.borrow_mut().as_mut() {
            seen.push(pattern.to_string());
        }
    });
    if let Ok(guard) = ANALYSED.lock() {
        if let Some(found) = guard.as_ref().and_then(|m| m.get(pattern)) {
            return found.clone();
        }
    }
    let analysis = known(pattern).unwrap_or_else(|| fresh_analysis(pattern));
    if let Ok(mut guard) = ANALYSED.lock() {
        let map = guard.get_or_insert_with(Default::default);
        if map.len() < MAX_ANALYSED {
            map.insert(pattern.to_string(), analysis.clone());
        }
    }
    analysis
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braced_hex_escapes_are_bytes_as_in_pcre() {
        assert_eq!(byte_escapes(r"\x{e2}\x91[\xa0-\x{bf}]\x{9}"), r"\xe2\x91[\xa0-\xbf]\x09");
        assert_eq!(byte_escapes(r"\\x{e2}"), r"\\x{e2}", "an escaped backslash, then literal text");
        assert_eq!(byte_escapes(r"\x{2019}"), r"\x{2019}");
        let circled_one = compile(r"^\x{e2}\x91[\xa0-\x{bf}]$").unwrap_or_else(|e| panic!("{e}"));
        assert!(circled_one.is_match("\u{2460}".as_bytes()));
        assert!(!circled_one.is_match("\u{e2}".as_bytes()));
        // A wider braced value is the code point's UTF-8 (PCRE's byte mode
        // refuses it; outside a class `regex` takes it).
        assert!(compile(r"\x{2019}").is_ok_and(|r| r.is_match("it\u{2019}s".as_bytes())));
    }

    #[test]
    fn anchored_prefix_is_what_every_match_starts_with() {
        assert_eq!(anchored_prefix("(?i)^header_name_920450_"), b"header_name_920450_");
        assert_eq!(anchored_prefix("(?i)^EDGE_files_\\d+$"), b"edge_files_");
        assert_eq!(anchored_prefix("^Ab?c"), b"a", "an optional byte ends the prefix");
        assert_eq!(anchored_prefix("^[ab]x"), b"");
        for unanchored in ["(?i)MULTIPART_HEADERS_CONTENT_TYPES_*", "^a|b", "(?m)^abc", "(^abc)", "(unclosed"] {
            assert_eq!(anchored_prefix(unanchored), b"", "{unanchored}");
        }
        // The property the key walk rests on: a matching key starts with the
        // prefix, up to ASCII case.
        for (pattern, key) in [("(?i)^header_name_920450_", "HEADER_NAME_920450_x"), ("^ab+c", "abbbc"), ("^a[bB]c", "aBc")] {
            let prefix = anchored_prefix(pattern);
            assert!(compile(pattern).is_ok_and(|r| r.is_match(key.as_bytes())), "{pattern}");
            assert!(key.as_bytes()[..prefix.len()].eq_ignore_ascii_case(&prefix), "{pattern} {key}");
        }
    }

    #[test]
    fn keys_are_stable_and_length_sensitive() {
        // Pinned: a generated table is only valid while keys stay the same.
        assert_eq!(pattern_key(""), pattern_key(""));
        assert_ne!(pattern_key("a"), pattern_key("a\0"));
        assert_eq!(pattern_key("(?i)union\\s+select"), 0x5244_98ba_86a9_7173, "{:#x}", pattern_key("(?i)union\\s+select"));
    }

    #[test]
    fn kept_analysis_equals_a_fresh_one_and_is_recorded() {
        let p = "(?i)(?:sleep|benchmark)\\s*\\(";
        let ((), seen) = patterns_analysed_during(|| {
            assert_eq!(analyse(p), fresh_analysis(p));
            assert_eq!(analyse(p), fresh_analysis(p));
        });
        assert_eq!(seen, vec![p.to_string(), p.to_string()]);
        assert!(analyse("(unclosed").is_err());
    }
}
