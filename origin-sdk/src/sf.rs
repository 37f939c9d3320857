//! The subset of RFC 8941 Structured Field Values that RFC 9421 needs.
//!
//! A small strict parser instead of a general crate because RFC 8941 parsers
//! silently keep the last of duplicated dictionary keys and parameters, while a
//! signature verifier must refuse them: a proxy and the verifier could otherwise
//! disagree about which `sig1` was meant.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use core::fmt;

/// Byte sequences are parsed leniently about padding, as RFC 8941 §4.2.7 allows.
const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const MAX_INTEGER: i64 = 999_999_999_999_999;

/// A bare item (RFC 8941 §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BareItem {
    /// `-?[0-9]{1,15}`
    Integer(i64),
    /// A decimal, stored in thousandths (RFC 8941 allows three fractional digits).
    Decimal(i64),
    /// `"..."`, printable ASCII.
    String(String),
    /// An unquoted token.
    Token(String),
    /// `:base64:`
    ByteSeq(Vec<u8>),
    /// `?1` / `?0`
    Boolean(bool),
}

/// Ordered parameters; keys are unique once parsed.
pub type Parameters = Vec<(String, BareItem)>;

/// An item with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The value.
    pub bare: BareItem,
    /// Its parameters.
    pub params: Parameters,
}

/// A dictionary member value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    /// A single item.
    Item(Item),
    /// An inner list with its parameters.
    InnerList(Vec<Item>, Parameters),
}

/// An ordered dictionary; keys are unique once parsed.
pub type Dictionary = Vec<(String, Member)>;

/// Why a structured field did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SfError {
    /// The text is not valid RFC 8941 syntax; says what was expected.
    Syntax(&'static str),
    /// A dictionary key appears twice.
    DuplicateKey(String),
    /// A parameter key appears twice on the same item or list.
    DuplicateParam(String),
    /// An item cannot be serialized (e.g. integer out of range, non-ASCII string).
    Unserializable(&'static str),
}

impl fmt::Display for SfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SfError::Syntax(what) => write!(f, "structured field syntax: {what}"),
            SfError::DuplicateKey(k) => write!(f, "duplicate dictionary key `{k}`"),
            SfError::DuplicateParam(k) => write!(f, "duplicate parameter `{k}`"),
            SfError::Unserializable(what) => write!(f, "cannot serialize: {what}"),
        }
    }
}

impl std::error::Error for SfError {}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn dictionary(&mut self) -> Result<Dictionary, SfError> {
        let mut dict: Dictionary = Vec::new();
        while !self.is_empty() {
            let key = self.key()?;
            let member = if self.peek() == Some(b'=') {
                self.pos += 1;
                self.item_or_inner_list()?
            } else {
                Member::Item(Item { bare: BareItem::Boolean(true), params: self.parameters()? })
            };
            if dict.iter().any(|(k, _)| *k == key) {
                return Err(SfError::DuplicateKey(key));
            }
            dict.push((key, member));
            self.skip_ows();
            if self.is_empty() {
                return Ok(dict);
            }
            if self.next() != Some(b',') {
                return Err(SfError::Syntax("`,` between dictionary members"));
            }
            self.skip_ows();
            if self.is_empty() {
                return Err(SfError::Syntax("member after trailing `,`"));
            }
        }
        Ok(dict)
    }

    fn item_or_inner_list(&mut self) -> Result<Member, SfError> {
        if self.peek() == Some(b'(') {
            self.inner_list()
        } else {
            Ok(Member::Item(self.item()?))
        }
    }

    fn inner_list(&mut self) -> Result<Member, SfError> {
        self.pos += 1; // '('
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            match self.peek() {
                None => return Err(SfError::Syntax("`)` closing inner list")),
                Some(b')') => {
                    self.pos += 1;
                    let params = self.parameters()?;
                    return Ok(Member::InnerList(items, params));
                }
                Some(_) => {
                    items.push(self.item()?);
                    if !matches!(self.peek(), Some(b' ' | b')')) {
                        return Err(SfError::Syntax("space or `)` after inner list item"));
                    }
                }
            }
        }
    }

    fn item(&mut self) -> Result<Item, SfError> {
        let bare = self.bare_item()?;
        let params = self.parameters()?;
        Ok(Item { bare, params })
    }

    fn parameters(&mut self) -> Result<Parameters, SfError> {
        let mut params: Parameters = Vec::new();
        while self.peek() == Some(b';') {
            self.pos += 1;
            self.skip_sp();
            let key = self.key()?;
            let value = if self.peek() == Some(b'=') {
                self.pos += 1;
                self.bare_item()?
            } else {
                BareItem::Boolean(true)
            };
            if params.iter().any(|(k, _)| *k == key) {
                return Err(SfError::DuplicateParam(key));
            }
            params.push((key, value));
        }
        Ok(params)
    }

    fn key(&mut self) -> Result<String, SfError> {
        match self.peek() {
            Some(c) if c.is_ascii_lowercase() || c == b'*' => {}
            _ => return Err(SfError::Syntax("key starting with a-z or `*`")),
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_key_char(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(ascii(&self.input[start..self.pos]))
    }

    fn bare_item(&mut self) -> Result<BareItem, SfError> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'"') => self.string(),
            Some(b':') => self.byte_seq(),
            Some(b'?') => self.boolean(),
            Some(c) if c.is_ascii_alphabetic() || c == b'*' => Ok(self.token()),
            _ => Err(SfError::Syntax("a bare item")),
        }
    }

    fn number(&mut self) -> Result<BareItem, SfError> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let start = self.pos;
        let mut int_digits = 0usize;
        let mut frac: Option<(usize, usize)> = None; // (start, len)
        while let Some(c) = self.peek() {
            match (c, frac) {
                (b'0'..=b'9', None) => int_digits += 1,
                (b'0'..=b'9', Some((s, n))) => frac = Some((s, n + 1)),
                (b'.', None) => {
                    if int_digits > 12 {
                        return Err(SfError::Syntax("at most 12 integer digits in a decimal"));
                    }
                    frac = Some((self.pos + 1, 0));
                }
                _ => break,
            }
            self.pos += 1;
            if int_digits > 15 {
                return Err(SfError::Syntax("at most 15 integer digits"));
            }
        }
        if int_digits == 0 {
            return Err(SfError::Syntax("a digit"));
        }
        let int_part = parse_digits(&self.input[start..start + int_digits]);
        let sign = if negative { -1 } else { 1 };
        match frac {
            None => Ok(BareItem::Integer(sign * int_part)),
            Some((s, n)) => {
                if n == 0 || n > 3 {
                    return Err(SfError::Syntax("1 to 3 fractional digits"));
                }
                let mut f = parse_digits(&self.input[s..s + n]);
                for _ in n..3 {
                    f *= 10;
                }
                Ok(BareItem::Decimal(sign * (int_part * 1000 + f)))
            }
        }
    }

    fn string(&mut self) -> Result<BareItem, SfError> {
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Err(SfError::Syntax("closing `\"`")),
                Some(b'\\') => match self.next() {
                    Some(c @ (b'"' | b'\\')) => out.push(char::from(c)),
                    _ => return Err(SfError::Syntax("`\\\"` or `\\\\` escape")),
                },
                Some(b'"') => return Ok(BareItem::String(out)),
                Some(c @ 0x20..=0x7e) => out.push(char::from(c)),
                Some(_) => return Err(SfError::Syntax("printable ASCII in a string")),
            }
        }
    }

    fn token(&mut self) -> BareItem {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            if is_tchar(c) || c == b':' || c == b'/' {
                self.pos += 1;
            } else {
                break;
            }
        }
        BareItem::Token(ascii(&self.input[start..self.pos]))
    }

    fn byte_seq(&mut self) -> Result<BareItem, SfError> {
        self.pos += 1; // ':'
        let start = self.pos;
        loop {
            match self.next() {
                None => return Err(SfError::Syntax("closing `:` of a byte sequence")),
                Some(b':') => break,
                Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=') => {}
                Some(_) => return Err(SfError::Syntax("base64 in a byte sequence")),
            }
        }
        let b64 = &self.input[start..self.pos - 1];
        B64_LENIENT
            .decode(b64)
            .map(BareItem::ByteSeq)
            .map_err(|_| SfError::Syntax("valid base64 in a byte sequence"))
    }

    fn boolean(&mut self) -> Result<BareItem, SfError> {
        self.pos += 1; // '?'
        match self.next() {
            Some(b'1') => Ok(BareItem::Boolean(true)),
            Some(b'0') => Ok(BareItem::Boolean(false)),
            _ => Err(SfError::Syntax("`?0` or `?1`")),
        }
    }
}

fn parse_digits(d: &[u8]) -> i64 {
    d.iter().fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'))
}

fn ascii(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'.' | b'*')
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// Whether `key` is a valid RFC 8941 key (dictionary keys, parameter names, signature labels).
pub fn is_valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_lowercase() || *c == b'*') && b.iter().all(|&c| is_key_char(c))
}

/// Parses a dictionary field value (e.g. `Signature-Input`), refusing duplicated
/// keys and parameters.
pub fn parse_dictionary(input: &[u8]) -> Result<Dictionary, SfError> {
    let mut p = Parser { input, pos: 0 };
    p.skip_sp();
    let dict = p.dictionary()?;
    p.skip_sp();
    if !p.is_empty() {
        return Err(SfError::Syntax("end of field"));
    }
    Ok(dict)
}

/// Parses an item field value (RFC 8941 §4.2: a bare item with parameters,
/// e.g. the string form of `Signature-Agent`).
pub fn parse_item(input: &[u8]) -> Result<Item, SfError> {
    let mut p = Parser { input, pos: 0 };
    p.skip_sp();
    let item = p.item()?;
    p.skip_sp();
    if !p.is_empty() {
        return Err(SfError::Syntax("end of field"));
    }
    Ok(item)
}

/// Parses a single inner list with parameters, such as the value of a
/// `Signature-Input` member.
pub fn parse_inner_list(input: &[u8]) -> Result<(Vec<Item>, Parameters), SfError> {
    let mut p = Parser { input, pos: 0 };
    p.skip_sp();
    if p.peek() != Some(b'(') {
        return Err(SfError::Syntax("`(` opening an inner list"));
    }
    let member = p.inner_list()?;
    p.skip_sp();
    if !p.is_empty() {
        return Err(SfError::Syntax("end of field"));
    }
    match member {
        Member::InnerList(items, params) => Ok((items, params)),
        Member::Item(_) => Err(SfError::Syntax("an inner list")),
    }
}

/// Serializes a bare item (RFC 8941 §4.1.3).
pub fn write_bare_item(out: &mut String, item: &BareItem) -> Result<(), SfError> {
    use fmt::Write as _;
    match item {
        BareItem::Integer(i) => {
            if !(-MAX_INTEGER..=MAX_INTEGER).contains(i) {
                return Err(SfError::Unserializable("integer out of range"));
            }
            let _ = write!(out, "{i}");
        }
        BareItem::Decimal(t) => {
            if t.unsigned_abs() / 1000 > 999_999_999_999 {
                return Err(SfError::Unserializable("decimal out of range"));
            }
            if *t < 0 {
                out.push('-');
            }
            let a = t.unsigned_abs();
            let _ = write!(out, "{}.", a / 1000);
            let frac = format!("{:03}", a % 1000);
            let trimmed = frac.trim_end_matches('0');
            out.push_str(if trimmed.is_empty() { "0" } else { trimmed });
        }
        BareItem::String(s) => write_string(out, s)?,
        BareItem::Token(t) => {
            let b = t.as_bytes();
            let ok = matches!(b.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'*')
                && b.iter().all(|&c| is_tchar(c) || c == b':' || c == b'/');
            if !ok {
                return Err(SfError::Unserializable("invalid token"));
            }
            out.push_str(t);
        }
        BareItem::ByteSeq(b) => {
            out.push(':');
            out.push_str(&STANDARD.encode(b));
            out.push(':');
        }
        BareItem::Boolean(b) => out.push_str(if *b { "?1" } else { "?0" }),
    }
    Ok(())
}

/// Serializes a string (RFC 8941 §4.1.6): printable ASCII only, `"` and `\`
/// escaped; a string with neither is copied in one go.
pub fn write_string(out: &mut String, s: &str) -> Result<(), SfError> {
    let b = s.as_bytes();
    if !b.iter().all(|c| (b' '..=b'~').contains(c)) {
        return Err(SfError::Unserializable("string with non-printable-ASCII"));
    }
    out.push('"');
    if b.iter().any(|&c| c == b'"' || c == b'\\') {
        for c in s.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    } else {
        out.push_str(s);
    }
    out.push('"');
    Ok(())
}

/// Serializes parameters (RFC 8941 §4.1.1.2).
pub fn write_params(out: &mut String, params: &[(String, BareItem)]) -> Result<(), SfError> {
    for (k, v) in params {
        if !is_valid_key(k) {
            return Err(SfError::Unserializable("invalid parameter key"));
        }
        out.push(';');
        out.push_str(k);
        if *v != BareItem::Boolean(true) {
            out.push('=');
            write_bare_item(out, v)?;
        }
    }
    Ok(())
}

/// Serializes an item with parameters.
pub fn write_item(out: &mut String, item: &Item) -> Result<(), SfError> {
    write_bare_item(out, &item.bare)?;
    write_params(out, &item.params)
}

/// Serializes a dictionary member value (the part after `key=`, or only
/// parameters for a bare `true`).
pub fn write_member(out: &mut String, member: &Member) -> Result<(), SfError> {
    match member {
        Member::Item(item) => write_item(out, item),
        Member::InnerList(items, params) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_item(out, item)?;
            }
            out.push(')');
            write_params(out, params)
        }
    }
}

/// Serializes a dictionary (RFC 8941 §4.1.2).
pub fn serialize_dictionary(dict: &[(String, Member)]) -> Result<String, SfError> {
    let mut out = String::new();
    for (i, (k, m)) in dict.iter().enumerate() {
        if !is_valid_key(k) {
            return Err(SfError::Unserializable("invalid dictionary key"));
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        match m {
            Member::Item(Item { bare: BareItem::Boolean(true), params }) => write_params(&mut out, params)?,
            _ => {
                out.push('=');
                write_member(&mut out, m)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) -> String {
        serialize_dictionary(&parse_dictionary(s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn parses_signature_input() {
        let s = r#"sig1=("@method" "x-a";key="b");created=1618884473;keyid="k";alg="ed25519""#;
        assert_eq!(roundtrip(s), s);
        let d = parse_dictionary(s.as_bytes()).unwrap();
        let Member::InnerList(items, params) = &d[0].1 else { panic!() };
        assert_eq!(items.len(), 2);
        assert_eq!(params[0], ("created".into(), BareItem::Integer(1618884473)));
    }

    #[test]
    fn canonicalizes() {
        assert_eq!(roundtrip("a=1,  b=?1;x , c"), "a=1, b;x, c");
        assert_eq!(roundtrip("a=1.50, b=-0.0, c=:YWJj:, d=tok/en:x"), "a=1.5, b=0.0, c=:YWJj:, d=tok/en:x");
        assert_eq!(roundtrip(r#"a="q\"\\""#), r#"a="q\"\\""#);
        assert_eq!(roundtrip("a=:YWI:"), "a=:YWI=:");
    }

    #[test]
    fn refuses_duplicates_and_junk() {
        assert_eq!(parse_dictionary(b"a=1, a=2"), Err(SfError::DuplicateKey("a".into())));
        assert_eq!(parse_dictionary(b"a=();x=1;x=2"), Err(SfError::DuplicateParam("x".into())));
        for bad in [
            "A=1", "a=1,", "a=(1", "a=\"x", "a=:YW", "a=1.", "a=1.2345", "a=1234567890123456", "a=?2", "a=(1)x",
            "a=\"\u{7f}\"", "a=#", "a=1 b=2", "a=1;", "a=:Y*:",
        ] {
            assert!(parse_dictionary(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_items() {
        let item = parse_item(br#" "https://agent.example";type=directory "#).unwrap();
        assert_eq!(item.bare, BareItem::String("https://agent.example".into()));
        assert_eq!(item.params, vec![("type".into(), BareItem::Token("directory".into()))]);
        for bad in [r#""open"#, r#""a" "b""#, "", r#""a";x=1;x=2"#] {
            assert!(parse_item(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
