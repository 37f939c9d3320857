//! Orchestration: fields → decoded variants → detectors → filtered, scored matches.

use super::config::{Profile, WafConfig};
use super::{decode, prose};
use super::extract::{self, Kind};
use super::rules::Rule;
use super::{Inspectable, Match, WafVerdict, MAX_MATCHES};

/// One normalized variant of one field, with the ASCII bytes it contains precomputed so
/// detectors can skip work in O(1) (most benign values contain no attack punctuation).
pub struct Text<'a> {
    pub s: &'a str,
    pub kind: Kind,
    chars: AsciiSet,
}

/// A set of ASCII bytes (bit `b` of 128, in two words): membership and subset tests
/// in O(1). Bytes ≥ 0x80 are never members.
#[derive(Clone, Copy)]
pub struct AsciiSet([u64; 2]);

impl AsciiSet {
    pub const EMPTY: AsciiSet = AsciiSet([0, 0]);

    /// The ASCII bytes of `s`. Two register accumulators: an indexed array would
    /// serialise every byte through memory.
    pub const fn of(s: &str) -> Self {
        let b = s.as_bytes();
        let (mut lo, mut hi) = (0u64, 0u64);
        let mut i = 0;
        while i < b.len() {
            let bit = 1u64 << (b[i] & 63);
            if b[i] < 64 {
                lo |= bit;
            } else if b[i] < 128 {
                hi |= bit;
            }
            i += 1;
        }
        AsciiSet([lo, hi])
    }

    /// This set and `b` (unchanged when `b` is not ASCII).
    pub const fn with(self, b: u8) -> Self {
        let mut set = self.0;
        if b < 128 {
            set[(b >> 6) as usize] |= 1u64 << (b & 63);
        }
        AsciiSet(set)
    }

    #[inline(always)]
    pub const fn contains(self, b: u8) -> bool {
        b < 128 && self.0[(b >> 6) as usize] & (1u64 << (b & 63)) != 0
    }

    /// Is every member of `other` in this set?
    #[inline(always)]
    pub const fn contains_all(self, other: AsciiSet) -> bool {
        self.0[0] & other.0[0] == other.0[0] && self.0[1] & other.0[1] == other.0[1]
    }
}

/// A word list with each word's byte set precomputed, for [`Text::contains_any`].
pub struct Words<const N: usize> {
    words: [&'static str; N],
    sets: [AsciiSet; N],
}

impl<const N: usize> Words<N> {
    pub const fn new(words: [&'static str; N]) -> Self {
        let mut sets = [AsciiSet::EMPTY; N];
        let mut i = 0;
        while i < N {
            sets[i] = AsciiSet::of(words[i]);
            i += 1;
        }
        Words { words, sets }
    }
}

impl<'a> Text<'a> {
    pub fn new(s: &'a str, kind: Kind) -> Self {
        Text {
            s,
            kind,
            chars: AsciiSet::of(s),
        }
    }

    /// Does the text contain ASCII byte `b`?
    #[inline(always)]
    pub fn has(&self, b: u8) -> bool {
        self.chars.contains(b)
    }

    /// Callers pass literals: inlined, the loop folds into two mask tests.
    #[inline(always)]
    pub fn has_any(&self, bs: &[u8]) -> bool {
        bs.iter().any(|b| self.has(*b))
    }

    /// Does the text contain any of `words`? Same answer as `s.contains(w)` for each,
    /// but a word is only searched for when every one of its bytes occurs in the text
    /// (a substring's bytes are a subset of the text's), which rules most words out in
    /// O(1). Non-ASCII bytes are not tracked, so they never rule a word out.
    pub fn contains_any<const N: usize>(&self, words: &Words<N>) -> bool {
        (0..N).any(|i| self.chars.contains_all(words.sets[i]) && self.s.contains(words.words[i]))
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
    let prompt_api = cfg.profile == Profile::PromptApi;
    for (idx, field) in extract::fields(req, cfg.body_limit()).iter().enumerate() {
        hits.clear();
        let variants = decode::variants(&field.value);
        // The most decoded form is the one a model would read.
        let prose = prompt_api
            && field.kind == Kind::Value
            && (cfg.text_field(&field.target)
                || variants.last().is_some_and(|v| prose::is_natural_language(v)));
        // Prose only needs the detectors of the rules that still count in it.
        let active = if prose { PROSE_DETECTORS } else { detectors(field.kind) };
        for v in &variants {
            let text = Text::new(v, field.kind);
            for d in active {
                d(&text, &mut hits);
            }
        }
        if prose {
            hits.retain(|r| IN_PROSE.contains(&r.id));
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

/// Rules that still count in natural language under the `prompt_api` profile: they
/// attack whatever reads the text (a Java logger expands `${jndi:…}` anywhere), not
/// the application's own use of it.
const IN_PROSE: &[&str] = &["rce-log4shell"];
/// The detectors that report the rules of [`IN_PROSE`].
const PROSE_DETECTORS: &[Detector] = &[super::rce::detect];

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

    proptest::proptest! {
        #[test]
        fn word_prefilter_matches_plain_search(s in "(al|ert|dat|a|on|scr|ipt|x| |é){0,12}") {
            static W: Words<4> = Words::new(["alert", "data", "on", "script"]);
            let plain = ["alert", "data", "on", "script"].iter().any(|w| s.contains(w));
            proptest::prop_assert_eq!(Text::new(&s, Kind::Value).contains_any(&W), plain);
        }
    }

    #[test]
    fn snippets_are_short_and_inert() {
        let s = snippet("<script>alert(document.cookie)</script>\r\n");
        assert_eq!(s, "_script_alert(document.c...");
        assert_eq!(snippet("é\n"), "??");
    }
}
