//! Orchestration: fields → decoded variants → detectors → filtered, scored matches.

use super::config::WafConfig;
use super::decode;
use super::extract::{self, Kind};
use super::rules::Rule;
use super::{Inspectable, Match, WafVerdict, MAX_MATCHES};

/// One normalized variant of one field, with the ASCII bytes it contains precomputed so
/// detectors can skip work in O(1) (most benign values contain no attack punctuation).
pub struct Text<'a> {
    pub s: &'a str,
    pub kind: Kind,
    chars: [u64; 2],
}

impl<'a> Text<'a> {
    pub fn new(s: &'a str, kind: Kind) -> Self {
        let mut chars = [0u64; 2];
        for b in s.bytes() {
            if b < 128 {
                chars[usize::from(b >> 6)] |= 1u64 << (b & 63);
            }
        }
        Text { s, kind, chars }
    }

    /// Does the text contain ASCII byte `b`?
    pub fn has(&self, b: u8) -> bool {
        b < 128 && self.chars[usize::from(b >> 6)] & (1u64 << (b & 63)) != 0
    }

    pub fn has_any(&self, bs: &[u8]) -> bool {
        bs.iter().any(|b| self.has(*b))
    }

    /// Any byte ≥ 0x80 (non-ASCII)?
    pub fn has_non_ascii(&self) -> bool {
        !self.s.is_ascii()
    }
}

type Detector = fn(&Text<'_>, &mut Vec<&'static Rule>);

/// Detectors per field kind. Keys and headers get the value detectors; a raw XML
/// document only gets structure-level XXE rules (its strings are fields of their own).
pub(crate) fn detectors(kind: Kind) -> &'static [Detector] {
    use super::{
        crlf, graphql, ldap, mail, nosql, proto, rce, sqli, ssi, ssti, traversal, xss, xxe,
    };
    const VALUE: &[Detector] = &[
        sqli::detect,
        xss::detect,
        traversal::detect,
        rce::detect,
        ssti::detect,
        crlf::detect,
        xxe::detect,
        nosql::detect,
        ldap::detect,
        ssi::detect,
        mail::detect,
        graphql::detect,
        proto::detect,
    ];
    const XML_DOC: &[Detector] = &[xxe::detect];
    match kind {
        Kind::XmlDoc => XML_DOC,
        _ => VALUE,
    }
}

pub fn run(req: &Inspectable<'_>, cfg: &WafConfig) -> WafVerdict {
    let path = decode::truncate(req.path, decode::MAX_VALUE);
    if cfg.path_fully_excluded(path) {
        return WafVerdict::default();
    }
    let mut verdict = WafVerdict::default();
    let mut seen: Vec<(&'static str, usize)> = Vec::new(); // (rule id, field index)
    let mut hits: Vec<&'static Rule> = Vec::new();
    for (idx, field) in extract::fields(req, cfg.body_limit()).iter().enumerate() {
        hits.clear();
        for v in decode::variants(&field.value) {
            let text = Text::new(&v, field.kind);
            for d in detectors(field.kind) {
                d(&text, &mut hits);
            }
        }
        for rule in hits.iter().copied() {
            if seen.iter().any(|(id, i)| *id == rule.id && *i == idx) {
                continue;
            }
            seen.push((rule.id, idx));
            if !cfg.allows(rule, &field.target, path) {
                continue;
            }
            let score = rule.severity.score();
            verdict.score = verdict.score.saturating_add(score);
            if verdict.matches.len() < MAX_MATCHES {
                verdict.matches.push(Match {
                    rule_id: rule.id,
                    category: rule.category,
                    paranoia: rule.paranoia,
                    target: field.target.clone(),
                    score,
                    snippet: snippet(&field.value),
                });
            }
        }
    }
    verdict.threshold_exceeded = verdict.score >= cfg.threshold.max(1);
    verdict
}

/// Characters of the raw value echoed into logs.
const SNIPPET_CHARS: usize = 24;

/// Short, log-safe head of a value: printable ASCII only, markup/quote characters
/// replaced, so a log viewer can neither render nor execute it.
fn snippet(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .take(SNIPPET_CHARS)
        .map(|c| match c {
            '<' | '>' | '"' | '\'' | '`' | '\\' | '&' => '_',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    if raw.chars().nth(SNIPPET_CHARS).is_some() {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset() {
        let t = Text::new("a<b", Kind::Value);
        assert!(t.has(b'<') && !t.has(b'>') && !t.has(200));
    }

    #[test]
    fn snippets_are_short_and_inert() {
        let s = snippet("<script>alert(document.cookie)</script>\r\n");
        assert_eq!(s, "_script_alert(document.c...");
        assert_eq!(snippet("é\n"), "??");
    }
}
