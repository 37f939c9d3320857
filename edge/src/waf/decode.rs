//! Normalisation chain: turns one raw value into the few decoded, folded variants the
//! detectors inspect. Attackers layer encodings (URL, double URL, `%u`, HTML entities,
//! JS escapes, base64) precisely so that a single-pass matcher misses them.
//!
//! Bounds: input truncated to [`MAX_VALUE`] bytes, at most [`MAX_DEPTH`] decoding rounds
//! and [`MAX_VARIANTS`] variants; no decoder ever grows its input.

use std::borrow::Cow;

/// Bytes of one value that are inspected.
pub const MAX_VALUE: usize = 8 * 1024;
/// Decoding rounds (each round = URL, then HTML entities, then JS escapes).
pub const MAX_DEPTH: usize = 3;
/// Distinct variants produced per value.
pub const MAX_VARIANTS: usize = 6;

/// Variants of `raw` to inspect: the folded raw form first, then decoded forms.
/// All are lowercased and folded by [`normalize`].
pub fn variants(raw: &str) -> Vec<String> {
    let raw = truncate(raw, MAX_VALUE);
    let mut out: Vec<String> = Vec::with_capacity(2);
    push(&mut out, normalize(raw));
    let last = decode_rounds(raw, &mut out);
    // Base64 is tried on the raw value (a `+` in it would already be a space after URL
    // decoding) and on the fully decoded one (base64 sent URL-encoded).
    let b64_candidates = [Some(raw), last.as_deref()];
    for cand in b64_candidates.into_iter().flatten() {
        if out.len() >= MAX_VARIANTS {
            break;
        }
        if let Some(plain) = base64_text(cand.trim_start_matches('/').trim()) {
            push(&mut out, normalize(&plain));
            decode_rounds(&plain, &mut out);
        }
    }
    out
}

/// Apply decoding rounds until a fixpoint or [`MAX_DEPTH`], pushing each new form.
/// Returns the last decoded form if any round changed something.
fn decode_rounds(start: &str, out: &mut Vec<String>) -> Option<String> {
    let mut cur: Option<String> = None;
    if !start
        .bytes()
        .any(|b| matches!(b, b'%' | b'+' | b'&' | b'\\'))
    {
        return None; // nothing any decoder would touch
    }
    for _ in 0..MAX_DEPTH {
        // Borrowed until a step changes something: the last round usually changes
        // nothing, and copying the value just to find that out is wasted work.
        let mut s = Cow::Borrowed(cur.as_deref().unwrap_or(start));
        for step in [
            url_decode as fn(&str) -> Option<String>,
            html_decode,
            js_unescape,
        ] {
            if let Some(n) = step(&s) {
                s = Cow::Owned(n);
            }
        }
        let Cow::Owned(s) = s else { break };
        push(out, normalize(&s));
        cur = Some(s);
    }
    cur
}

fn push(out: &mut Vec<String>, v: String) {
    if out.len() < MAX_VARIANTS && !out.contains(&v) {
        out.push(v);
    }
}

/// Longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// `String::from_utf8_lossy` for an owned buffer: no second copy when it is valid.
fn utf8_lossy(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    let c = char::from_u32(cp).unwrap_or('\u{fffd}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// `%XX`, IIS-style `%uXXXX`, and `+` as space. Invalid escapes stay literal; invalid
/// UTF-8 (e.g. overlong `%c0%af`) becomes U+FFFD. `None` when nothing changed.
pub fn url_decode(s: &str) -> Option<String> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let h = |k: usize| b.get(i + k).copied().and_then(hex);
                if let (Some(hi), Some(lo)) = (h(1), h(2)) {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                } else if matches!(b.get(i + 1), Some(b'u' | b'U')) {
                    match (h(2), h(3), h(4), h(5)) {
                        (Some(a), Some(c), Some(d), Some(e)) => {
                            push_code_point(&mut out, (a << 12) | (c << 8) | (d << 4) | e);
                            i += 6;
                        }
                        _ => {
                            out.push(b'%');
                            i += 1;
                        }
                    }
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            _ => {
                // Copy the run up to the next escape at once.
                let end = b[i..]
                    .iter()
                    .position(|c| matches!(c, b'%' | b'+'))
                    .map_or(b.len(), |p| i + p);
                out.extend_from_slice(&b[i..end]);
                i = end;
            }
        }
    }
    let r = utf8_lossy(out);
    (r != s).then_some(r)
}

/// Named entities worth knowing: the ones used to smuggle markup and JS punctuation.
const NAMED: &[(&str, char)] = &[
    ("lt", '<'),
    ("gt", '>'),
    ("amp", '&'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", ' '),
    ("equals", '='),
    ("colon", ':'),
    ("lpar", '('),
    ("rpar", ')'),
    ("sol", '/'),
    ("bsol", '\\'),
    ("semi", ';'),
    ("comma", ','),
    ("period", '.'),
    ("excl", '!'),
    ("tab", '\t'),
    ("newline", '\n'),
    ("num", '#'),
    ("dollar", '$'),
    ("percnt", '%'),
    ("plus", '+'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lcub", '{'),
    ("rcub", '}'),
    ("grave", '`'),
    ("quest", '?'),
    ("commat", '@'),
    ("ast", '*'),
    ("lowbar", '_'),
    ("verbar", '|'),
    ("vert", '|'),
    ("hyphen", '-'),
    ("dash", '-'),
];

/// HTML character references: decimal/hex numeric (semicolon optional, any number of
/// leading zeros, as browsers accept) and the common named ones (semicolon required).
pub fn html_decode(s: &str) -> Option<String> {
    if !s.contains('&') {
        return None;
    }
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        if b[i] != b'&' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'#') {
            let is_hex = matches!(b.get(i + 2), Some(b'x' | b'X'));
            let mut j = if is_hex { i + 3 } else { i + 2 };
            let start = j;
            let mut cp: u32 = 0;
            while let Some(&c) = b.get(j) {
                let d = if is_hex {
                    hex(c)
                } else {
                    (c as char).to_digit(10)
                };
                match d {
                    Some(d) => {
                        cp = cp
                            .saturating_mul(if is_hex { 16 } else { 10 })
                            .saturating_add(d);
                        j += 1;
                    }
                    None => break,
                }
            }
            if j > start {
                if b.get(j) == Some(&b';') {
                    j += 1;
                }
                push_code_point(&mut out, if cp > 0x10ffff { 0xfffd } else { cp });
                i = j;
                changed = true;
                continue;
            }
        } else {
            let rest = &b[i + 1..];
            let name_len = rest
                .iter()
                .take(10)
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            if rest.get(name_len) == Some(&b';') {
                let name = &rest[..name_len];
                if let Some((_, ch)) = NAMED
                    .iter()
                    .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
                {
                    push_code_point(&mut out, *ch as u32);
                    i += name_len + 2;
                    changed = true;
                    continue;
                }
            }
        }
        out.push(b'&');
        i += 1;
    }
    changed.then(|| utf8_lossy(out))
}

/// JS/JSON escapes `\uXXXX`, `\u{X..}` and `\xHH` (other backslashes stay, so Windows
/// paths survive). UTF-16 surrogate pairs are joined.
pub fn js_unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return None;
    }
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut changed = false;
    let hexn = |from: usize, n: usize| -> Option<u32> {
        let mut v = 0u32;
        for k in 0..n {
            v = (v << 4) | hex(*b.get(from + k)?)?;
        }
        Some(v)
    };
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'u') => {
                    if let Some(mut cp) = hexn(i + 2, 4) {
                        let mut len = 6;
                        if (0xd800..0xdc00).contains(&cp)
                            && b.get(i + 6) == Some(&b'\\')
                            && b.get(i + 7) == Some(&b'u')
                        {
                            if let Some(lo) =
                                hexn(i + 8, 4).filter(|lo| (0xdc00..0xe000).contains(lo))
                            {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                len = 12;
                            }
                        }
                        push_code_point(&mut out, cp);
                        i += len;
                        changed = true;
                        continue;
                    }
                    if b.get(i + 2) == Some(&b'{') {
                        let digits = b[i + 3..]
                            .iter()
                            .take(7)
                            .take_while(|c| c.is_ascii_hexdigit())
                            .count();
                        if digits > 0 && b.get(i + 3 + digits) == Some(&b'}') {
                            if let Some(cp) = hexn(i + 3, digits) {
                                push_code_point(&mut out, cp);
                                i += 4 + digits;
                                changed = true;
                                continue;
                            }
                        }
                    }
                }
                Some(b'x') => {
                    if let Some(v) = hexn(i + 2, 2) {
                        push_code_point(&mut out, v);
                        i += 4;
                        changed = true;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(b[i]);
        i += 1;
    }
    changed.then(|| utf8_lossy(out))
}

// Called per byte of every candidate; opt-level "z" would otherwise keep the call.
#[inline(always)]
fn b64_val(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' | b' ' => 62, // ' ' is a '+' that went through form decoding
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decode `s` as base64 (standard or URL-safe, padding optional) if it decodes cleanly
/// to mostly printable UTF-8 text; otherwise `None`. Short strings are skipped because
/// ordinary words are often valid base64 and would decode to noise.
pub fn base64_text(s: &str) -> Option<String> {
    let s = s.trim_end_matches('=');
    if s.len() < 8 || s.len() % 4 == 1 || s.len() > MAX_VALUE {
        return None;
    }
    // Plain words/numbers are valid base64 too; real encodings mix classes.
    let b = s.as_bytes();
    let upper = b.iter().any(|c| c.is_ascii_uppercase());
    let lower = b.iter().any(|c| c.is_ascii_lowercase());
    if !(upper && lower) {
        return None;
    }
    // Reject before allocating: most candidates are ordinary text with punctuation.
    if !b.iter().all(|c| b64_val(*c).is_some()) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in b {
        acc = (acc << 6) | b64_val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    let total = text.chars().count();
    let printable = text
        .chars()
        .filter(|c| matches!(c, ' '..='~' | '\t' | '\r' | '\n') || (*c as u32) >= 0xa0)
        .count();
    (total > 0 && printable * 100 >= total * 95).then_some(text)
}

/// Fold a decoded value for matching: lowercase, fullwidth ASCII → ASCII, NUL and other
/// C0 controls (except CR/LF, which the CRLF rules need) dropped or turned into spaces,
/// SQL block comments → one space (MySQL `/*! ... */` keeps its executed body), and
/// runs of spaces collapsed.
pub fn normalize(s: &str) -> String {
    if s.is_ascii() {
        return normalize_ascii(s.as_bytes());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut last_space = false;
    let mut in_comment = false;
    while let Some(c) = chars.next() {
        if in_comment {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                in_comment = false;
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            }
            continue;
        }
        if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            if chars.peek() == Some(&'!') {
                // Executable comment: drop the marker and version digits, keep the body.
                chars.next();
                while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    chars.next();
                }
            } else {
                in_comment = true;
            }
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        if c == '*' && chars.peek() == Some(&'/') {
            // Closing marker of an executable comment (or a stray one): a separator.
            chars.next();
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        let c = match c {
            '\0' => continue,
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xff01 + 0x21).unwrap_or(c),
            // Compatibility look-alikes of path punctuation (NFKC folds them; some
            // servers do too), so `‥∕` reaches the detectors as `../`.
            '\u{2025}' => {
                out.push_str("..");
                last_space = false;
                continue;
            }
            '\u{2024}' | '\u{fe52}' => '.',
            '\u{2215}' | '\u{2044}' | '\u{fe6b}' => '/',
            '\u{2216}' | '\u{fe68}' => '\\',
            '\u{2170}'..='\u{217f}' => ROMAN.get((c as u32 - 0x2170) as usize).copied().unwrap_or(c),
            '\t' | '\u{0b}' | '\u{0c}' | '\u{a0}' | '\u{3000}' => ' ',
            c if (c as u32) < 0x20 && c != '\r' && c != '\n' => ' ',
            c => c,
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    if in_comment && !last_space {
        out.push(' ');
    }
    out
}

/// Small Roman numerals U+2170–U+217F fold to the letters they are drawn with
/// (`ⅽ` → `c`); the multi-letter ones to their first letter.
const ROMAN: [char; 16] = ['i', 'i', 'i', 'i', 'v', 'v', 'v', 'v', 'i', 'x', 'x', 'x', 'l', 'c', 'd', 'm'];

/// [`normalize`] for ASCII input, on bytes (the common case, several times faster).
fn normalize_ascii(b: &[u8]) -> String {
    if !needs_folding(b) {
        // Only lowercasing is left to do: one allocation, no per-byte branching.
        let out: Vec<u8> = b.iter().map(u8::to_ascii_lowercase).collect();
        return String::from_utf8(out).unwrap_or_default();
    }
    fold_ascii(b)
}

/// The full byte-wise fold behind [`normalize_ascii`].
fn fold_ascii(b: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut last_space = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        let c = match c {
            b'/' if b.get(i) == Some(&b'*') => {
                i += 1;
                if b.get(i) == Some(&b'!') {
                    i += 1;
                    while b.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                } else {
                    i = b[i..]
                        .windows(2)
                        .position(|w| w == b"*/")
                        .map_or(b.len(), |p| i + p + 2);
                }
                b' '
            }
            b'*' if b.get(i) == Some(&b'/') => {
                i += 1;
                b' '
            }
            0 => continue,
            b'\r' | b'\n' => c,
            c if c < 0x20 => b' ',
            c => c.to_ascii_lowercase(),
        };
        if c == b' ' {
            if !last_space {
                out.push(b' ');
            }
            last_space = true;
            continue;
        }
        last_space = false;
        out.push(c);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Would [`normalize_ascii`] do more than lowercase `b`? Only comment markers, control
/// bytes other than CR/LF (dropped or turned into spaces) and space runs (collapsed)
/// change anything else; without them every byte maps to its lowercase form.
fn needs_folding(b: &[u8]) -> bool {
    let mut prev = 0u8;
    for &c in b {
        if (c < 0x20 && c != b'\r' && c != b'\n')
            || matches!((prev, c), (b'/', b'*') | (b'*', b'/') | (b' ', b' '))
        {
            return true;
        }
        prev = c;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        assert_eq!(url_decode("a%20b+c").as_deref(), Some("a b c"));
        assert_eq!(url_decode("%u003cscript").as_deref(), Some("<script"));
        assert_eq!(url_decode("100%").as_deref(), None);
        assert_eq!(url_decode("%zz%4").as_deref(), None);
        assert_eq!(url_decode("plain"), None);
        assert!(url_decode("%c0%af").is_some_and(|s| s.contains('\u{fffd}')));
    }

    #[test]
    fn repeated_decoding_is_capped() {
        let v = variants("%25253Cscript%25253E");
        assert!(v.iter().any(|s| s == "<script>"), "{v:?}");
        // Four layers: beyond MAX_DEPTH, never fully decoded, and nothing breaks.
        let v = variants("%2525253C");
        assert!(!v.iter().any(|s| s == "<"));
        assert!(v.len() <= MAX_VARIANTS);
    }

    #[test]
    fn html_entities() {
        assert_eq!(
            html_decode("&lt;svg/onload&equals;x&gt;").as_deref(),
            Some("<svg/onload=x>")
        );
        assert_eq!(html_decode("j&#X41vascript").as_deref(), Some("jAvascript"));
        assert_eq!(html_decode("&#0000000040x&#x3c;").as_deref(), Some("(x<"));
        assert_eq!(html_decode("AT&T &unknown; &"), None);
        assert_eq!(
            html_decode("&#99999999999999;").as_deref(),
            Some("\u{fffd}")
        );
    }

    #[test]
    fn js_escapes() {
        assert_eq!(
            js_unescape(r"\u003cscript\x3e").as_deref(),
            Some("<script>")
        );
        assert_eq!(js_unescape(r"\ud83d\ude00\u{41}").as_deref(), Some("😀A"));
        assert_eq!(js_unescape(r"C:\new\dir"), None);
        assert_eq!(js_unescape(r"\u12"), None);
    }

    #[test]
    fn base64_only_when_clean_text() {
        assert_eq!(
            base64_text("PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg").as_deref(),
            Some("<script>alert(1)</script>")
        );
        assert_eq!(base64_text("password"), None); // single case: a word
        assert_eq!(base64_text("AbCdEfGh"), None); // decodes to binary noise
        assert_eq!(base64_text("Hello"), None);
        assert!(variants("/PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg")
            .iter()
            .any(|v| v.contains("<script>")));
    }

    #[test]
    fn folding() {
        assert_eq!(normalize("UN/**/ION\tSeL/*x*/ECT"), "un ion sel ect");
        assert_eq!(normalize("/*!50000UNION*/ SELECT"), " union select");
        assert_eq!(normalize("<scr\0ipt>"), "<script>");
        assert_eq!(normalize("ＳＥＬＥＣＴ  a\r\nb"), "select a\r\nb");
        assert_eq!(normalize("/* unterminated"), " ");
        assert_eq!(normalize("‥﹨‥∕ｅｔⅽ"), "..\\../etc");
        // ASCII fast path and general path agree.
        for s in ["A/**/b\t\tC*/d/*!1e*/", "x\0y/*", "a  b\x01c\r\n"] {
            assert_eq!(
                normalize(s),
                normalize(&format!("{s}é")).trim_end_matches('é'),
                "{s:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn lowercase_shortcut_matches_full_fold(s in "[/* \t\r\n\x00\x01\x7faAzZ!0-]{0,40}") {
            proptest::prop_assert_eq!(normalize_ascii(s.as_bytes()), fold_ascii(s.as_bytes()));
        }
    }

    #[test]
    fn bounded_and_total() {
        let big = "%41".repeat(10_000);
        for v in variants(&big) {
            assert!(v.len() <= MAX_VALUE);
        }
        assert_eq!(truncate("héllo", 2), "h");
        for s in [
            "%",
            "%u",
            "%uZZZZ",
            "&#",
            "&#x",
            "\\u",
            "\\x",
            "\\u{",
            "\\u{110000}",
            "/*",
            "*/",
            "==",
        ] {
            let _ = variants(s);
        }
    }
}
