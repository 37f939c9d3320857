//! Server-side includes and edge-side includes: directives the server or a CDN would
//! execute when the value is reflected into a page.

use super::rules::{rule, Category::Ssi, PatternTable, Rule, Severity::*};
use super::scan::Text;

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("ssi-directive", Ssi, 1, Critical),
        r"<!--\s*#\s*(?:exec|include|echo|config|set|printenv|flastmod|fsize|if|elif|else|endif)\b",
    ),
    (
        rule("ssi-esi-tag", Ssi, 1, Critical),
        r"<\s*esi:(?:include|vars|eval|inline|choose|when|try|assign|debug)\b",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if t.has(b'<') {
        TABLE.scan(t.s, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};

    #[test]
    fn attacks() {
        for p in [
            "<!--#exec cmd=\"ls\" -->",
            "<!--#include virtual=\"/etc/passwd\"-->",
            "<esi:include src=http://x/>",
        ] {
            assert!(fires(p, "ssi-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in ["<!-- a comment -->", "<!--#hashtag-->? no: #tag"] {
            assert!(!fires(p, "ssi-"), "{p}: {:?}", ids(p));
        }
    }
}
