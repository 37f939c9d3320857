//! XML external entities and external resource loading: DOCTYPE with an external
//! identifier or internal subset declaring entities, XInclude, and remote schemas.

use super::rules::{rule, Category::Xxe, PatternTable, Rule, Severity::*};
use super::scan::Text;

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("xxe-external-entity", Xxe, 1, Critical),
        r"<!entity\s+(?:%\s*)?[^\s>]+\s+(?:system|public)\b",
    ),
    (
        rule("xxe-doctype-external", Xxe, 1, Critical),
        r"<!doctype\s+[^\s>\[]+\s+(?:system|public)\b",
    ),
    (
        rule("xxe-doctype-subset", Xxe, 1, Critical),
        r"<!doctype\s+[^\s>\[]+\s*\[[^\]]*<!entity",
    ),
    (
        rule("xxe-parameter-entity", Xxe, 1, Critical),
        r"<!entity\s+%|%[a-z_][\w.-]*;",
    ),
    (
        rule("xxe-xinclude", Xxe, 1, Critical),
        r"<[a-z0-9]+:include\b[^>]*(?:href|namespace|schemalocation)\s*=|xmlns:[a-z0-9]+\s*=\s*['\x22]http://www\.w3\.org/2001/xinclude",
    ),
    (
        rule("xxe-remote-schema", Xxe, 2, Error),
        r"(?:schemalocation|nonamespaceschemalocation)\s*=\s*['\x22][^'\x22]*(?:https?|ftp|file)://",
    ),
    (rule("xxe-entity-declaration", Xxe, 2, Error), r"<!entity\b"),
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
            "<!DOCTYPE x SYSTEM \"//x/x\" > <x>a</x>",
            "<!DOCTYPE x [ <!ENTITY % y SYSTEM \"//y/y\" > %y; ]><x>a</x>",
            "<!DOCTYPE foo [ <!ELEMENT foo ANY ><!ENTITY xxe SYSTEM \"expect://id\">]><foo>&xxe;</foo>",
            "<xs:include namespace=\"http://x/\"/>",
        ] {
            assert!(fires(p, "xxe-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "<!DOCTYPE html><html></html>",
            "<?xml version=\"1.0\"?><a>b</a>",
            "100% sure; really",
        ] {
            assert!(!fires(p, "xxe-"), "{p}: {:?}", ids(p));
        }
    }
}
