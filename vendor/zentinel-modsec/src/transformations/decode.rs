//! Decoding transformations.

use super::Transformation;
use std::borrow::Cow;

/// URL decode transformation.
pub struct UrlDecode;

impl Transformation for UrlDecode {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains('%')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        match percent_encoding::percent_decode_str(input).decode_utf8() {
            Ok(decoded) => {
                if decoded == input {
                    Cow::Borrowed(input)
                } else {
                    Cow::Owned(decoded.into_owned())
                }
            }
            Err(_) => Cow::Borrowed(input),
        }
    }

    fn name(&self) -> &'static str {
        "urlDecode"
    }
}

/// URL decode with Unicode support, as ModSecurity's
/// `urldecode_uni_nonstrict_inplace_ex` (edge patch): `+` is a space, `%HH`
/// a byte, `%uHHHH` its low byte (plus 0x20 for the full-width ASCII
/// `%uFF01`–`%uFF5E`), and a `%` not followed by a valid escape is kept as
/// it is. Upstream left `+`, so `cat+/etc/passwd` in a Referer was never a
/// command with an argument (932200–932207), decoded `%uHHHH` to the whole
/// code point and copied two characters after any `%`; it also built a
/// `String` per escape. A decoded byte is the `char` of that value, as
/// before.
pub struct UrlDecodeUni;

impl Transformation for UrlDecodeUni {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        memchr::memchr2(b'%', b'+', input.as_bytes()).is_some()
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let bytes = input.as_bytes();
        let Some(first) = memchr::memchr2(b'%', b'+', bytes) else {
            return Cow::Borrowed(input);
        };
        let hex = |i: usize| bytes.get(i).and_then(|b| (*b as char).to_digit(16));
        let mut out = String::with_capacity(input.len());
        out.push_str(&input[..first]);
        let mut changed = false;
        let mut i = first;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => {
                    out.push(' ');
                    changed = true;
                    i += 1;
                }
                b'%' if matches!(bytes.get(i + 1), Some(b'u' | b'U')) => {
                    match (hex(i + 2), hex(i + 3), hex(i + 4), hex(i + 5)) {
                        (Some(_), Some(_), Some(hi), Some(lo)) => {
                            let mut byte = (hi * 16 + lo) as u8;
                            let full_width = bytes[i + 2].eq_ignore_ascii_case(&b'f') && bytes[i + 3].eq_ignore_ascii_case(&b'f');
                            if full_width && (0x01..0x5f).contains(&byte) {
                                byte += 0x20;
                            }
                            out.push(byte as char);
                            changed = true;
                            i += 6;
                        }
                        _ => {
                            out.push_str(&input[i..i + 2]);
                            i += 2;
                        }
                    }
                }
                b'%' => match (hex(i + 1), hex(i + 2)) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8 as char);
                        changed = true;
                        i += 3;
                    }
                    _ => {
                        out.push('%');
                        i += 1;
                    }
                },
                _ => {
                    // Copy up to the next escape whole (`%` and `+` are ASCII,
                    // so the run ends on a character boundary).
                    let run = memchr::memchr2(b'%', b'+', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                    out.push_str(&input[i..run]);
                    i = run;
                }
            }
        }
        if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(input)
        }
    }

    fn name(&self) -> &'static str {
        "urlDecodeUni"
    }
}

/// Base64 decode transformation.
pub struct Base64Decode;

impl Transformation for Base64Decode {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        use base64::Engine;
        match base64::engine::general_purpose::STANDARD.decode(input) {
            Ok(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => Cow::Borrowed(input),
        }
    }

    fn name(&self) -> &'static str {
        "base64Decode"
    }
}

/// Extended base64 decode (handles URL-safe base64).
pub struct Base64DecodeExt;

impl Transformation for Base64DecodeExt {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        use base64::Engine;
        // Try URL-safe first, then standard
        let result = base64::engine::general_purpose::URL_SAFE
            .decode(input)
            .or_else(|_| base64::engine::general_purpose::STANDARD.decode(input));

        match result {
            Ok(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => Cow::Borrowed(input),
        }
    }

    fn name(&self) -> &'static str {
        "base64DecodeExt"
    }
}

/// Hex decode transformation.
pub struct HexDecode;

impl Transformation for HexDecode {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let mut result = Vec::new();
        let mut chars = input.chars().peekable();

        while let Some(c1) = chars.next() {
            if let Some(c2) = chars.next() {
                let hex = format!("{}{}", c1, c2);
                if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                    result.push(byte);
                } else {
                    // Invalid hex, keep original
                    return Cow::Borrowed(input);
                }
            } else {
                // Odd number of chars
                return Cow::Borrowed(input);
            }
        }

        Cow::Owned(String::from_utf8_lossy(&result).into_owned())
    }

    fn name(&self) -> &'static str {
        "hexDecode"
    }
}

/// HTML entity decode transformation.
pub struct HtmlEntityDecode;

impl Transformation for HtmlEntityDecode {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains('&')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        decode_html_entities(input)
    }

    fn name(&self) -> &'static str {
        "htmlEntityDecode"
    }
}

/// ModSecurity's `htmlEntityDecode` (`html_entity_decode.cc`), the grammar CRS
/// is written against: `&#DDD` and `&#xHH` (any number of digits, `;`
/// optional) and the five names `quot`, `amp`, `lt`, `gt`, `nbsp` (ASCII case
/// insensitive, `;` optional); every other `&…` stays as it is.
///
/// Edge patch: upstream decoded the whole HTML5 table (2,125 names through
/// `html-escape`), which ModSecurity does not, and the table was ~15 KB of the
/// gzipped worker. A numeric reference becomes its character when it is one
/// (ModSecurity keeps the low byte; on `str` values a byte above 0x7f is not a
/// character), and stays as written when it is not.
pub(crate) fn decode_html_entities(input: &str) -> Cow<'_, str> {
    let Some(first) = input.find('&') else { return Cow::Borrowed(input) };
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    out.push_str(&input[..first]);
    let mut changed = false;
    let mut i = first;
    while i < b.len() {
        // `i` is at an `&` or after a decoded reference: a char boundary.
        let copy_from = if b[i] == b'&' {
            if let Some((decoded, end)) = html_entity_at(input, i) {
                out.push(decoded);
                changed = true;
                i = end;
                continue;
            }
            out.push('&');
            i + 1
        } else {
            i
        };
        // Up to the next `&` (ASCII, so again a boundary).
        let next = input[copy_from..].find('&').map_or(b.len(), |n| copy_from + n);
        out.push_str(&input[copy_from..next]);
        i = next;
    }
    if changed { Cow::Owned(out) } else { Cow::Borrowed(input) }
}

/// The character of the reference starting at `amp` (an `&`) and the index
/// after it (after its `;` when one follows), if it is one ModSecurity decodes.
fn html_entity_at(input: &str, amp: usize) -> Option<(char, usize)> {
    let b = input.as_bytes();
    let digits_end = |from: usize, ok: fn(&u8) -> bool| from + b[from..].iter().take_while(|c| ok(c)).count();
    let mut j = amp + 1;
    let decoded = if b.get(j) == Some(&b'#') {
        j += 1;
        let (radix, from) = match b.get(j) {
            Some(b'x' | b'X') => (16, j + 1),
            _ => (10, j),
        };
        let end = if radix == 16 { digits_end(from, u8::is_ascii_hexdigit) } else { digits_end(from, u8::is_ascii_digit) };
        if end == from {
            return None;
        }
        j = end;
        // Overlong digit runs saturate instead of failing, as strtol does.
        let n = u32::from_str_radix(&input[from..end], radix).unwrap_or(u32::MAX);
        char::from_u32(n)?
    } else {
        let end = digits_end(j, u8::is_ascii_alphanumeric);
        let name = &input[j..end];
        j = end;
        match () {
            _ if name.eq_ignore_ascii_case("quot") => '"',
            _ if name.eq_ignore_ascii_case("amp") => '&',
            _ if name.eq_ignore_ascii_case("lt") => '<',
            _ if name.eq_ignore_ascii_case("gt") => '>',
            _ if name.eq_ignore_ascii_case("nbsp") => '\u{a0}',
            _ => return None,
        }
    };
    Some((decoded, if b.get(j) == Some(&b';') { j + 1 } else { j }))
}

/// JavaScript decode transformation.
pub struct JsDecode;

impl Transformation for JsDecode {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains('\\')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let mut result = String::new();
        let mut chars = input.chars().peekable();
        let mut modified = false;

        while let Some(c) = chars.next() {
            if c == '\\' {
                modified = true;
                match chars.next() {
                    Some('n') => result.push('\n'),
                    Some('r') => result.push('\r'),
                    Some('t') => result.push('\t'),
                    Some('\\') => result.push('\\'),
                    Some('"') => result.push('"'),
                    Some('\'') => result.push('\''),
                    Some('x') => {
                        // \xHH
                        let mut hex = String::new();
                        for _ in 0..2 {
                            if let Some(h) = chars.next() {
                                hex.push(h);
                            }
                        }
                        if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                            result.push(byte as char);
                        } else {
                            result.push('\\');
                            result.push('x');
                            result.push_str(&hex);
                        }
                    }
                    Some('u') => {
                        // \uHHHH
                        let mut hex = String::new();
                        for _ in 0..4 {
                            if let Some(h) = chars.next() {
                                hex.push(h);
                            }
                        }
                        if let Ok(code) = u32::from_str_radix(&hex, 16) {
                            if let Some(decoded) = char::from_u32(code) {
                                result.push(decoded);
                            } else {
                                result.push('\\');
                                result.push('u');
                                result.push_str(&hex);
                            }
                        } else {
                            result.push('\\');
                            result.push('u');
                            result.push_str(&hex);
                        }
                    }
                    Some(other) => {
                        result.push('\\');
                        result.push(other);
                    }
                    None => result.push('\\'),
                }
            } else {
                result.push(c);
            }
        }

        if modified {
            Cow::Owned(result)
        } else {
            Cow::Borrowed(input)
        }
    }

    fn name(&self) -> &'static str {
        "jsDecode"
    }
}

/// CSS decode transformation.
pub struct CssDecode;

impl Transformation for CssDecode {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains('\\')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let mut result = String::new();
        let mut chars = input.chars().peekable();
        let mut modified = false;

        while let Some(c) = chars.next() {
            if c == '\\' {
                modified = true;
                // CSS escape: \HH or \HHHHHH
                let mut hex = String::new();
                while hex.len() < 6 {
                    match chars.peek() {
                        Some(h) if h.is_ascii_hexdigit() => {
                            hex.push(chars.next().unwrap());
                        }
                        _ => break,
                    }
                }
                // Skip optional whitespace after hex
                if let Some(' ') | Some('\t') | Some('\n') = chars.peek() {
                    chars.next();
                }

                if !hex.is_empty() {
                    if let Ok(code) = u32::from_str_radix(&hex, 16) {
                        if let Some(decoded) = char::from_u32(code) {
                            result.push(decoded);
                            continue;
                        }
                    }
                }
                result.push('\\');
                result.push_str(&hex);
            } else {
                result.push(c);
            }
        }

        if modified {
            Cow::Owned(result)
        } else {
            Cow::Borrowed(input)
        }
    }

    fn name(&self) -> &'static str {
        "cssDecode"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_url_decode() {
        let t = UrlDecode;
        assert_eq!(t.transform("hello%20world"), "hello world");
        assert_eq!(t.transform("test%2Fpath"), "test/path");
    }

    /// ModSecurity's `urldecode_uni_nonstrict_inplace_ex`, case by case.
    #[test]
    fn url_decode_uni_is_modsecuritys() {
        let t = UrlDecodeUni;
        assert_eq!(t.transform("cat+/etc/passwd"), "cat /etc/passwd");
        assert_eq!(t.transform("a%20b%2Bc"), "a b+c");
        // `%u`: the low byte; full-width ASCII (`%uFF01`–`%uFF5E`) shifted down to ASCII.
        assert_eq!(t.transform("%u0041%uff0f%U2215%uFF3C"), "A/\u{15}\\");
        // Invalid or cut-short escapes are kept, and the scan resumes after the `%` (or `%u`).
        assert_eq!(t.transform("%%41%zz%4"), "%A%zz%4");
        assert_eq!(t.transform("%u00%uzz41%u"), "%u00%uzz41%u");
        assert_eq!(t.transform("%c3%a9é"), "\u{c3}\u{a9}é");
        assert!(matches!(t.transform("plain é text"), Cow::Borrowed(_)));
        assert!(matches!(t.transform("100%"), Cow::Borrowed(_)));
    }

    #[test]
    fn test_base64_decode() {
        let t = Base64Decode;
        assert_eq!(t.transform("aGVsbG8="), "hello");
    }

    #[test]
    fn test_html_entity_decode() {
        let t = HtmlEntityDecode;
        assert_eq!(t.transform("&lt;script&gt;"), "<script>");
        assert_eq!(t.transform("&#60;"), "<");
        // ModSecurity's grammar: `;` optional, names case-insensitive, hex
        // and decimal of any length; other names and bare `&` kept.
        assert_eq!(t.transform("&LT&#x3c&#X3C;&#0060x"), "<<<<x");
        assert_eq!(t.transform("a &amp b &quot;c&QUOT;"), "a & b \"c\"");
        assert_eq!(t.transform("&nbsp;"), "\u{a0}");
        assert_eq!(t.transform("&colon; &copy; & &# &#x; &#; &"), "&colon; &copy; & &# &#x; &#; &");
        assert_eq!(t.transform("&#8217;é&#128512;"), "\u{2019}é\u{1f600}");
        assert_eq!(t.transform("&#99999999999;&#0;"), "&#99999999999;\0");
        assert!(matches!(t.transform("no entity"), Cow::Borrowed(_)));
        assert!(matches!(t.transform("&copy; kept"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_entity_decode_never_panics_and_keeps_what_it_does_not_decode() {
        // Every string of up to 6 symbols over an alphabet of entity parts and
        // multi-byte characters (a small, exhaustive walk, no generator crate).
        let alphabet = ["&", "#", "x", "3c", ";", "lt", "é", "😀", "q", "9"];
        let mut idx = [0usize; 6];
        loop {
            let s: String = idx.iter().map(|&k| alphabet[k]).collect();
            let out = HtmlEntityDecode.transform(&s);
            if !s.contains('&') {
                assert_eq!(out, s);
            }
            let Some(pos) = idx.iter().position(|&k| k + 1 < alphabet.len()) else { break };
            idx[pos] += 1;
            idx[..pos].iter_mut().for_each(|k| *k = 0);
        }
    }

    #[test]
    fn test_js_decode() {
        let t = JsDecode;
        assert_eq!(t.transform(r"\x3cscript\x3e"), "<script>");
        assert_eq!(t.transform(r"\u003c"), "<");
    }
}
