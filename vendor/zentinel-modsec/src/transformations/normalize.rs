//! Normalization transformations.

use super::Transformation;
use std::borrow::Cow;

/// Lowercase transformation.
pub struct Lowercase;

impl Transformation for Lowercase {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.bytes().any(|b| b.is_ascii_uppercase())
    }

    // Edge patch: ASCII, as ModSecurity's `tolower` per byte (upstream folded
    // Unicode, which ModSecurity does not, and which pulls in the Unicode
    // case tables).
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let lower = input.to_ascii_lowercase();
        if lower == input {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(lower)
        }
    }

    fn name(&self) -> &'static str {
        "lowercase"
    }
}

/// Uppercase transformation.
pub struct Uppercase;

impl Transformation for Uppercase {
    // Edge patch: ASCII, as ModSecurity's `toupper` per byte.
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let upper = input.to_ascii_uppercase();
        if upper == input {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(upper)
        }
    }

    fn name(&self) -> &'static str {
        "uppercase"
    }
}

/// Compress whitespace transformation.
pub struct CompressWhitespace;

impl Transformation for CompressWhitespace {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0b || b >= 0x80)
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        if input.is_ascii() {
            return compress_ascii_space(input);
        }
        compress_chars(input)
    }

    fn name(&self) -> &'static str {
        "compressWhitespace"
    }
}

/// `t:compressWhitespace` of an ASCII value (edge patch): the value itself
/// when each of its whitespace bytes is a lone space (prose), else the copy
/// from the first one that is not; what `compress_chars` makes of it, without
/// a `char` loop and a push per character.
pub(super) fn compress_ascii_space(input: &str) -> Cow<'_, str> {
    let bytes = input.as_bytes();
    let mut last_was_space = false;
    let start = bytes.iter().position(|&b| {
        let space = ascii_space(b);
        let changes = space && (b != b' ' || last_was_space);
        last_was_space = space;
        changes
    });
    let Some(start) = start else { return Cow::Borrowed(input) };
    // `last_was_space` is now the byte at `start`'s; its predecessor's decides.
    let mut last_was_space = start > 0 && ascii_space(bytes[start - 1]);
    let mut out = String::with_capacity(input.len());
    out.push_str(&input[..start]);
    for &b in &bytes[start..] {
        if ascii_space(b) {
            if !last_was_space {
                out.push(' ');
            }
            last_was_space = true;
        } else {
            out.push(b as char);
            last_was_space = false;
        }
    }
    Cow::Owned(out)
}

/// `t:compressWhitespace` by `char`: every run of whitespace one space.
pub(super) fn compress_chars(input: &str) -> Cow<'_, str> {
    let mut result = String::new();
    let mut last_was_space = false;
    let mut modified = false;

    for c in input.chars() {
        if c.is_whitespace() {
            if !last_was_space {
                result.push(' ');
            } else {
                modified = true;
            }
            last_was_space = true;
        } else {
            result.push(c);
            last_was_space = false;
        }
    }

    if modified || result.chars().any(|c| c.is_whitespace() && c != ' ') {
        Cow::Owned(result)
    } else if result == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(result)
    }
}

/// Remove whitespace transformation.
pub struct RemoveWhitespace;

impl Transformation for RemoveWhitespace {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.bytes().any(|b| b.is_ascii_whitespace() || b == 0x0b || b >= 0x80)
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        // Edge patch: ASCII input is cut into runs between whitespace bytes
        // and copied run by run (the same as the per-`char` filter below,
        // whose `is_whitespace` on ASCII is exactly `ascii_space`).
        let result = if input.is_ascii() { remove_ascii_space(input) } else { input.chars().filter(|c| !c.is_whitespace()).collect() };
        if result == input {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(result)
        }
    }

    fn name(&self) -> &'static str {
        "removeWhitespace"
    }
}

/// `char::is_whitespace` of an ASCII byte (which, unlike
/// `u8::is_ascii_whitespace`, includes the vertical tab).
fn ascii_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// `t:removeWhitespace` of an ASCII value: the runs between spaces.
pub(super) fn remove_ascii_space(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for run in input.split(|c: char| c.is_ascii() && ascii_space(c as u8)) {
        out.push_str(run);
    }
    out
}

/// Remove null bytes transformation.
pub struct RemoveNulls;

impl Transformation for RemoveNulls {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains('\0')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        if !input.contains('\0') {
            return Cow::Borrowed(input);
        }
        Cow::Owned(input.replace('\0', ""))
    }

    fn name(&self) -> &'static str {
        "removeNulls"
    }
}

/// Replace null bytes with spaces transformation.
pub struct ReplaceNulls;

impl Transformation for ReplaceNulls {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        if !input.contains('\0') {
            return Cow::Borrowed(input);
        }
        Cow::Owned(input.replace('\0', " "))
    }

    fn name(&self) -> &'static str {
        "replaceNulls"
    }
}

/// Trim transformation.
pub struct Trim;

impl Transformation for Trim {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let trimmed = input.trim();
        if trimmed.len() == input.len() {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(trimmed.to_string())
        }
    }

    fn name(&self) -> &'static str {
        "trim"
    }
}

/// Trim left transformation.
pub struct TrimLeft;

impl Transformation for TrimLeft {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let trimmed = input.trim_start();
        if trimmed.len() == input.len() {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(trimmed.to_string())
        }
    }

    fn name(&self) -> &'static str {
        "trimLeft"
    }
}

/// Trim right transformation.
pub struct TrimRight;

impl Transformation for TrimRight {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let trimmed = input.trim_end();
        if trimmed.len() == input.len() {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(trimmed.to_string())
        }
    }

    fn name(&self) -> &'static str {
        "trimRight"
    }
}

/// Normalize path transformation (Unix-style).
pub struct NormalizePath;

impl Transformation for NormalizePath {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains('.') || input.contains("//") || input.contains('\\')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        normalize_path(input, false)
    }

    fn name(&self) -> &'static str {
        "normalizePath"
    }
}

/// `t:normalizePath` (`win` false) and `t:normalizePathWin` (`win` true) as
/// ModSecurity's `normalize_path_inplace` does them (edge patch): `//`, `/./`
/// and `segment/../` go, a relative path keeps the `..` it cannot resolve
/// (`../.history` stays so), an absolute one drops them at the root, the
/// trailing `/` stays. Only the Windows form turns `\` into `/`, and its
/// output keeps the forward slashes. zentinel turned backslashes into slashes
/// for both, turned them back into backslashes after the Windows form (so
/// `..\etc\passwd` never met CRS's `etc/passwd`), and dropped a relative
/// path's leading `..`.
fn normalize_path(input: &str, win: bool) -> Cow<'_, str> {
    let unslashed: Cow<'_, str> = if win && input.contains('\\') { Cow::Owned(input.replace('\\', "/")) } else { Cow::Borrowed(input) };
    let path = unslashed.as_ref();
    if path.is_empty() {
        return unslashed;
    }
    // Most values (a host, a file name) have no empty, `.` or `..` segment
    // inside: nothing to do, and no copy.
    let last = path.split('/').count() - 1;
    if !path.split('/').enumerate().any(|(i, seg)| seg == "." || seg == ".." || (seg.is_empty() && i != 0 && i != last)) {
        return unslashed;
    }
    let relative = !path.starts_with('/');
    let trailing = path.ends_with('/');
    let mut stack: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => match stack.last() {
                Some(&last) if last != ".." => {
                    stack.pop();
                }
                _ if relative => stack.push(".."),
                _ => {}
            },
            other => stack.push(other),
        }
    }
    let mut out = String::with_capacity(path.len());
    if !relative {
        out.push('/');
    }
    out.push_str(&stack.join("/"));
    if trailing && !stack.is_empty() {
        out.push('/');
    }
    if out == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(out)
    }
}

/// Normalize path transformation (Windows-style).
pub struct NormalizePathWin;

impl Transformation for NormalizePathWin {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        normalize_path(input, true)
    }

    fn name(&self) -> &'static str {
        "normalizePathWin"
    }
}

/// Remove comments transformation.
pub struct RemoveComments;

impl Transformation for RemoveComments {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains("/*") || input.contains("*/") || input.contains("--") || input.contains('#')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let mut result = String::new();
        let mut in_comment = false;
        let mut chars = input.chars().peekable();

        while let Some(c) = chars.next() {
            if in_comment {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    in_comment = false;
                }
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                in_comment = true;
            } else {
                result.push(c);
            }
        }

        if result == input {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(result)
        }
    }

    fn name(&self) -> &'static str {
        "removeComments"
    }
}

/// Replace comments transformation (replaces /* ... */ with space).
pub struct ReplaceComments;

impl Transformation for ReplaceComments {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains("/*") || input.contains("*/")
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let mut result = String::new();
        let mut in_comment = false;
        let mut chars = input.chars().peekable();
        let mut modified = false;

        while let Some(c) = chars.next() {
            if in_comment {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    in_comment = false;
                    result.push(' '); // Replace comment with space
                }
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                in_comment = true;
                modified = true;
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
        "replaceComments"
    }
}

/// Remove comment characters transformation.
pub struct RemoveCommentsChar;

impl Transformation for RemoveCommentsChar {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        // Remove /*, */, --, and #
        let mut result = input.to_string();
        result = result.replace("/*", "");
        result = result.replace("*/", "");
        result = result.replace("--", "");
        result = result.replace('#', "");

        if result == input {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(result)
        }
    }

    fn name(&self) -> &'static str {
        "removeCommentsChar"
    }
}

/// SQL hex decode transformation.
pub struct SqlHexDecode;

impl Transformation for SqlHexDecode {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        // Decode SQL hex strings like 0x41424344 to ABCD
        let mut result = String::new();
        let mut chars = input.chars().peekable();
        let mut modified = false;

        while let Some(c) = chars.next() {
            if c == '0' && chars.peek() == Some(&'x') {
                chars.next(); // consume 'x'
                let mut hex = String::new();
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_hexdigit() {
                        hex.push(chars.next().unwrap());
                    } else {
                        break;
                    }
                }
                // Decode hex pairs
                let mut i = 0;
                while i + 1 < hex.len() {
                    if let Ok(byte) = u8::from_str_radix(&hex[i..i + 2], 16) {
                        result.push(byte as char);
                    }
                    i += 2;
                }
                modified = true;
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
        "sqlHexDecode"
    }
}

/// UTF-8 to Unicode transformation (pass-through for now).
pub struct Utf8ToUnicode;

impl Transformation for Utf8ToUnicode {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.bytes().any(|b| b >= 0x80)
    }

    /// Every non-ASCII character as `%u` and its code point in lower-case
    /// hex, at least four digits, as ModSecurity's `utf8_unicode_inplace_ex`
    /// writes it; `t:urlDecodeUni` after it turns full-width forms into ASCII
    /// (`＜script＞` → `<script>`). Edge patch: zentinel left the value as it
    /// was ("Rust strings are already UTF-8"), so CRS never saw those forms.
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        if input.is_ascii() {
            return Cow::Borrowed(input);
        }
        let mut out = String::with_capacity(input.len() * 2);
        for c in input.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                use std::fmt::Write as _;
                let _ = write!(out, "%u{:04x}", u32::from(c));
            }
        }
        Cow::Owned(out)
    }

    fn name(&self) -> &'static str {
        "utf8ToUnicode"
    }
}

/// Command line normalization transformation.
pub struct CmdLine;

impl Transformation for CmdLine {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\'' | b'^' | b',' | b';' | 0x0b) || b.is_ascii_whitespace() || b.is_ascii_uppercase() || b >= 0x80)
    }

    /// Normalise a Windows/Unix command line the way ModSecurity does.
    ///
    /// The steps, and the order, are ModSecurity's:
    ///
    /// 1. delete backslashes, double quotes, single quotes and carets, which
    ///    a shell treats as noise but which break naive pattern matching;
    /// 2. turn commas, semicolons and any run of whitespace into a single
    ///    space;
    /// 3. delete a space that immediately precedes `/` or `(`;
    /// 4. lowercase everything else.
    ///
    /// Step 3 is the one that matters most and was previously missing: CRS
    /// regexes are written against the collapsed form. Rule 932140 looks for
    /// `in\(`, with no space, so `for %v in (set) do cmd` only matches once
    /// `in (set)` has become `in(set)`.
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let result = match cmd_line_ascii(input) {
            Some(r) => r,
            None => cmd_line_chars(input),
        };
        if result == input {
            Cow::Borrowed(input)
        } else {
            Cow::Owned(result)
        }
    }

    fn name(&self) -> &'static str {
        "cmdLine"
    }
}

/// `t:cmdLine` of an ASCII value, byte by byte (edge patch: the same steps as
/// [`cmd_line_chars`], without a `char` push per byte); `None` for any other.
pub(super) fn cmd_line_ascii(input: &str) -> Option<String> {
    if !input.is_ascii() {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(input.len());
    let mut pending_space = false;
    for &b in input.as_bytes() {
        match b {
            b'\\' | b'"' | b'\'' | b'^' => {}
            b',' | b';' => {
                if !pending_space {
                    out.push(b' ');
                    pending_space = true;
                }
            }
            b if ascii_space(b) => {
                if !pending_space {
                    out.push(b' ');
                    pending_space = true;
                }
            }
            b'/' | b'(' => {
                if pending_space {
                    out.pop();
                }
                pending_space = false;
                out.push(b);
            }
            _ => {
                pending_space = false;
                out.push(b.to_ascii_lowercase());
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `t:cmdLine`, `char` by `char`.
pub(super) fn cmd_line_chars(input: &str) -> String {
    {
        let mut result = String::with_capacity(input.len());
        // Whether the last character written was a space we introduced, and so
        // may still be removed by a following `/` or `(`.
        let mut pending_space = false;

        for c in input.chars() {
            match c {
                // Deleted outright.
                '\\' | '"' | '\'' | '^' => {}
                // Separators and whitespace collapse to one space.
                ',' | ';' => {
                    if !pending_space {
                        result.push(' ');
                        pending_space = true;
                    }
                }
                c if c.is_whitespace() => {
                    if !pending_space {
                        result.push(' ');
                        pending_space = true;
                    }
                }
                // A space before either of these is dropped.
                '/' | '(' => {
                    if pending_space {
                        result.pop();
                    }
                    pending_space = false;
                    result.push(c);
                }
                _ => {
                    pending_space = false;
                    result.extend(c.to_lowercase());
                }
            }
        }
        result
    }
}

/// Escape sequence decode transformation.
pub struct EscapeSeqDecode;

impl Transformation for EscapeSeqDecode {
    // Edge patch: a cheap necessary condition for a change (see
    // `Transformation::may_change`; `tests::may_change_is_necessary`).
    fn may_change(&self, input: &str) -> bool {
        input.contains('\\')
    }

    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        // Decode escape sequences like \n, \r, \t, \xHH, \uHHHH
        let mut result = String::new();
        let mut chars = input.chars().peekable();
        let mut modified = false;

        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(&next) = chars.peek() {
                    modified = true;
                    chars.next();
                    match next {
                        'n' => result.push('\n'),
                        'r' => result.push('\r'),
                        't' => result.push('\t'),
                        '\\' => result.push('\\'),
                        '0' => result.push('\0'),
                        'x' => {
                            // Hex escape \xHH
                            let mut hex = String::new();
                            for _ in 0..2 {
                                if let Some(&h) = chars.peek() {
                                    if h.is_ascii_hexdigit() {
                                        hex.push(chars.next().unwrap());
                                    } else {
                                        break;
                                    }
                                }
                            }
                            if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                                result.push(byte as char);
                            } else {
                                result.push('x');
                                result.push_str(&hex);
                            }
                        }
                        'u' => {
                            // Unicode escape \uHHHH
                            let mut hex = String::new();
                            for _ in 0..4 {
                                if let Some(&h) = chars.peek() {
                                    if h.is_ascii_hexdigit() {
                                        hex.push(chars.next().unwrap());
                                    } else {
                                        break;
                                    }
                                }
                            }
                            if let Ok(code) = u32::from_str_radix(&hex, 16) {
                                if let Some(c) = char::from_u32(code) {
                                    result.push(c);
                                } else {
                                    result.push('u');
                                    result.push_str(&hex);
                                }
                            } else {
                                result.push('u');
                                result.push_str(&hex);
                            }
                        }
                        _ => {
                            result.push('\\');
                            result.push(next);
                        }
                    }
                } else {
                    result.push(c);
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
        "escapeSeqDecode"
    }
}

/// SHA-256 hash transformation.
pub struct Sha256;

impl Transformation for Sha256 {
    fn transform<'a>(&self, input: &'a str) -> Cow<'a, str> {
        use sha2::{Digest, Sha256 as Sha256Hasher};
        let mut hasher = Sha256Hasher::new();
        hasher.update(input.as_bytes());
        let result = hasher.finalize();
        Cow::Owned(hex::encode(result))
    }

    fn name(&self) -> &'static str {
        "sha256"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lowercase() {
        let t = Lowercase;
        assert_eq!(t.transform("Hello World"), "hello world");
        assert_eq!(t.transform("already lower"), "already lower");
    }

    /// ModSecurity's `%uHHHH` form, four digits at least, lower case.
    #[test]
    fn utf8_to_unicode_writes_code_points() {
        let t = Utf8ToUnicode;
        assert_eq!(t.transform("＜script＞"), "%uff1cscript%uff1e");
        assert_eq!(t.transform("café ’"), "caf%u00e9 %u2019");
        assert_eq!(t.transform("😀"), "%u1f600");
        assert!(matches!(t.transform("plain ascii"), Cow::Borrowed(_)));
    }

    #[test]
    fn test_compress_whitespace() {
        let t = CompressWhitespace;
        assert_eq!(t.transform("hello   world"), "hello world");
        assert_eq!(t.transform("a\t\nb"), "a b");
    }

    #[test]
    fn test_remove_whitespace() {
        let t = RemoveWhitespace;
        assert_eq!(t.transform("hello world"), "helloworld");
    }

    #[test]
    fn test_normalize_path() {
        let t = NormalizePath;
        assert_eq!(t.transform("/a/b/../c"), "/a/c");
        assert_eq!(t.transform("/a//b/./c"), "/a/b/c");
        // ModSecurity's: only the Windows form touches backslashes, and it
        // keeps the forward slashes it made; a relative path keeps the `..`
        // it cannot resolve.
        assert_eq!(t.transform("a\\b\\c"), "a\\b\\c");
        assert_eq!(NormalizePathWin.transform("a\\b\\..\\c"), "a/c");
        assert_eq!(NormalizePathWin.transform("..\\..\\etc\\passwd"), "../../etc/passwd");
        assert_eq!(t.transform("../.history"), "../.history");
        assert_eq!(t.transform("a/b/../../../c"), "../c");
        assert_eq!(t.transform("/../../etc/passwd"), "/etc/passwd");
        assert_eq!(t.transform("/a/./b/"), "/a/b/");
        assert!(matches!(t.transform("/plain/path"), Cow::Borrowed(_)));
    }

    #[test]
    fn test_cmdline() {
        let t = CmdLine;
        // Caret is the Windows escape character - it is simply removed.
        assert_eq!(t.transform("echo^hello"), "echohello");
        // Backslashes and quotes are deleted, not replaced.
        assert_eq!(t.transform(r"c:\\windows\\system32"), "c:windowssystem32");
        assert_eq!(t.transform("\"cat\" '/etc/passwd'"), "cat/etc/passwd");
        // Commas and semicolons become a space; runs collapse to one.
        assert_eq!(t.transform("DIR,,,X"), "dir x");
        assert_eq!(t.transform("a \t\n b"), "a b");
        // A space before `/` or `(` is deleted -- this is what CRS regexes are
        // written against, e.g. 932140 matching `in\(`.
        assert_eq!(t.transform("CMD;/C"), "cmd/c");
        assert_eq!(t.transform("CMD,/C;DIR"), "cmd/c dir");
        assert_eq!(
            t.transform("for %v in (set) do cmd"),
            "for %v in(set) do cmd"
        );
        assert_eq!(t.transform("cat /etc/passwd"), "cat/etc/passwd");
        // Nothing to change: borrowed, not reallocated.
        assert!(matches!(t.transform("already normal"), Cow::Borrowed(_)));
    }
}
