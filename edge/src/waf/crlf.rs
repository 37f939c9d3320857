//! CRLF / response splitting: a line break followed by a header line (or a status line),
//! including "Unicode CRLF" (U+560A/U+560D style code points whose low byte is LF/CR,
//! which some servers truncate to a byte).

use super::extract::Kind;
use super::rules::{rule, Category::Crlf, PatternTable, Rule, Severity::*};
use super::scan::Text;

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("crlf-sensitive-header", Crlf, 1, Critical),
        r"[\r\n]\s*(?:set-cookie2?|location|refresh|content-(?:type|length|disposition|security-policy)|transfer-encoding|access-control-allow-[a-z-]+|x-xss-protection|x-frame-options|strict-transport-security|link)\s*:",
    ),
    (
        rule("crlf-status-line", Crlf, 1, Critical),
        r"[\r\n]\s*http/[0-9.]+\s+\d{3}",
    ),
]);

/// In URL/header positions any injected header line counts; in bodies multi-line text
/// with `Word:` lines is normal, so only the table above applies there.
pub(super) static GENERIC: PatternTable = PatternTable::new(&[(
    rule("crlf-header-injection", Crlf, 1, Critical),
    r"[\r\n][a-z][a-z0-9-]{1,40}\s*:\s*[^\s]",
)]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    let folded;
    let s = if t.has_non_ascii() {
        folded = fold_unicode_breaks(t.s);
        folded.as_str()
    } else if t.has_any(b"\r\n") {
        t.s
    } else {
        return;
    };
    TABLE.scan(s, out);
    if matches!(t.kind, Kind::Path | Kind::Header | Kind::Key) || t.s.len() < 256 {
        GENERIC.scan(s, out);
    }
}

/// Map code points whose low byte is CR/LF (e.g. U+560D, U+010A) to that byte.
fn fold_unicode_breaks(s: &str) -> String {
    s.chars()
        .map(|c| {
            let v = c as u32;
            if v > 0xff && matches!(v & 0xff, 0x0a | 0x0d) {
                '\n'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};

    #[test]
    fn attacks() {
        for p in [
            "%0d%0aSet-Cookie:crlf=injection",
            "%25%30%41Set-cookie:a=b",
            "%e5%98%8dSet-cookie%3acrlf",
            "x%0d%0aLocation: http://evil",
            "a\r\nX-Injected: 1",
            "%0d%0aHTTP/1.1 200 OK",
        ] {
            assert!(fires(p, "crlf-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in ["line one\nline two", "café", "100%0 done", "Dear Sir,\n\nThanks for the quick reply. Regards, me and my team, writing at length about nothing in particular, to make this long enough to count as a text body rather than a short field; more words to pass two hundred and fifty six bytes easily here.\nNote: call me"] {
            assert!(!fires(p, "crlf-"), "{p}: {:?}", ids(p));
        }
    }
}
