//! Literal prefilter for `@rx` rules (edge patch, see PATCHES.md).
//!
//! CRS runs a few hundred regexes over every argument, header and cookie, and
//! on benign traffic almost none of them match. Most CRS patterns cannot match
//! without one of a few literals (`union`, `<script`, `/etc/`, …) somewhere in
//! the value, so the ruleset gets one Aho-Corasick automaton over all their
//! literals: one pass per distinct transformed text says which rules could
//! match (a rule reads only the pass over what its own pipeline made of the
//! value), and the others are skipped without running (or compiling) their
//! regex. This is Hyperscan's literal
//! factoring, done with `regex-syntax`'s HIR.
//!
//! Soundness is the whole point: [`required_literals`] returns a set only when
//! every string the pattern matches contains one of its members (compared
//! ASCII case-insensitively, which only widens the filter), so a skipped rule
//! is one whose regex would have said "no match".

use aho_corasick::{dfa, nfa::contiguous, nfa::noncontiguous, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};
use std::collections::BTreeSet;

/// At most this many strings in a finite set; bigger sets are dropped.
const MAX_SET: usize = 64;
/// A class wider than this is not expanded into single-character literals.
const MAX_CLASS: usize = 12;

type Set = BTreeSet<Vec<u8>>;

/// What a sub-pattern says about the strings it matches.
#[derive(Default)]
struct Facts {
    /// Every string it can match, ASCII-lowercased, if that set is small.
    exact: Option<Set>,
    /// Every match contains one of these (none empty), if known.
    required: Option<Set>,
}

/// The literals one of which every match of `pattern` contains, or `None`
/// when no small such set exists (the rule is then always evaluated).
pub fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    super::analysis::analyse(pattern).ok()?
}

/// [`required_literals`] of an already parsed pattern.
pub(crate) fn literals_of(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    Some(facts(hir).required?.into_iter().collect())
}

fn lower(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_lowercase()
}

/// A set usable as a requirement: not empty, no empty member.
fn as_required(set: &Set) -> Option<Set> {
    if set.is_empty() || set.iter().any(|s| s.is_empty()) {
        None
    } else {
        Some(set.clone())
    }
}

/// Every `a` followed by every `b`, if that stays small.
fn cross(a: &Set, b: &Set) -> Option<Set> {
    if a.len().saturating_mul(b.len()) > MAX_SET {
        return None;
    }
    let mut out = Set::new();
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.insert(s);
        }
    }
    Some(out)
}

/// Better requirement: longer shortest member, then fewer members.
fn better(a: &Set, b: &Set) -> bool {
    let min = |s: &Set| s.iter().map(Vec::len).min().unwrap_or(0);
    (min(a), std::cmp::Reverse(a.len())) > (min(b), std::cmp::Reverse(b.len()))
}

fn pick(best: &mut Option<Set>, candidate: Option<Set>) {
    if let Some(c) = candidate {
        match best {
            Some(b) if !better(&c, b) => {}
            _ => *best = Some(c),
        }
    }
}

fn class_set(class: &Class) -> Option<Set> {
    let mut out = Set::new();
    match class {
        Class::Unicode(c) => {
            for r in c.ranges() {
                let (s, e) = (r.start() as u32, r.end() as u32);
                if e - s >= MAX_CLASS as u32 * 2 {
                    return None;
                }
                for cp in s..=e {
                    let ch = char::from_u32(cp)?;
                    let mut buf = [0u8; 4];
                    out.insert(lower(ch.encode_utf8(&mut buf).as_bytes()));
                    if out.len() > MAX_CLASS {
                        return None;
                    }
                }
            }
        }
        Class::Bytes(c) => {
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    out.insert(vec![b.to_ascii_lowercase()]);
                    if out.len() > MAX_CLASS {
                        return None;
                    }
                }
            }
        }
    }
    Some(out)
}

fn facts(hir: &Hir) -> Facts {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Facts { exact: Some(Set::from([Vec::new()])), required: None },
        HirKind::Literal(lit) => {
            let set = Set::from([lower(&lit.0)]);
            Facts { required: as_required(&set), exact: Some(set) }
        }
        HirKind::Class(class) => {
            let exact = class_set(class);
            Facts { required: exact.as_ref().and_then(as_required), exact }
        }
        HirKind::Capture(cap) => facts(&cap.sub),
        HirKind::Repetition(rep) => {
            let sub = facts(&rep.sub);
            let required = if rep.min >= 1 { sub.required.clone() } else { None };
            let exact = match (rep.min, rep.max, &sub.exact) {
                (0, Some(1), Some(e)) => {
                    let mut s = e.clone();
                    s.insert(Vec::new());
                    (s.len() <= MAX_SET).then_some(s)
                }
                (1, Some(1), Some(e)) => Some(e.clone()),
                _ => None,
            };
            Facts { exact, required }
        }
        HirKind::Alternation(subs) => {
            let all: Vec<Facts> = subs.iter().map(facts).collect();
            let mut exact = Some(Set::new());
            for f in &all {
                exact = match (exact, &f.exact) {
                    (Some(mut acc), Some(e)) => {
                        acc.extend(e.iter().cloned());
                        (acc.len() <= MAX_SET).then_some(acc)
                    }
                    _ => None,
                };
            }
            let mut required = Some(Set::new());
            for f in &all {
                required = match (required, &f.required) {
                    (Some(mut acc), Some(r)) => {
                        acc.extend(r.iter().cloned());
                        Some(acc)
                    }
                    _ => None,
                };
            }
            Facts { exact, required }
        }
        HirKind::Concat(subs) => {
            let all: Vec<Facts> = subs.iter().map(facts).collect();
            let mut best: Option<Set> = None;
            // A run of adjacent children with small exact sets, crossed: any
            // match of the concatenation contains a match of the run.
            let mut run: Option<Set> = None;
            let mut whole: Option<Set> = Some(Set::from([Vec::new()]));
            for f in &all {
                whole = match (&whole, &f.exact) {
                    (Some(w), Some(e)) => cross(w, e),
                    _ => None,
                };
                match &f.exact {
                    Some(e) => {
                        run = match &run {
                            None => Some(e.clone()),
                            Some(r) => match cross(r, e) {
                                Some(c) => Some(c),
                                None => {
                                    pick(&mut best, as_required(r));
                                    Some(e.clone())
                                }
                            },
                        };
                    }
                    None => {
                        if let Some(r) = run.take() {
                            pick(&mut best, as_required(&r));
                        }
                        pick(&mut best, f.required.clone());
                    }
                }
            }
            if let Some(r) = run.take() {
                pick(&mut best, as_required(&r));
            }
            Facts { exact: whole, required: best }
        }
    }
}

/// One automaton over the literals of every prefiltered rule.
pub(crate) struct GroupFilter {
    scanner: Scanner,
    /// Pattern index → rule slot.
    slot_of: Vec<u32>,
    /// Slots in the group.
    slots: u32,
    /// The slots of each match state scans have reached (see [`StateSlots`]).
    reached: std::sync::Mutex<StateSlots>,
    /// This filter among all built in the process: texts scanned by it are
    /// shared under this number (see `texts`).
    id: u64,
}

use zentinel_modsec_scan::{Scanner, StateSlots};

impl GroupFilter {
    /// `rules[i]` is the literal set of slot `i`.
    pub(crate) fn new(rules: &[Vec<Vec<u8>>]) -> Option<GroupFilter> {
        let mut patterns: Vec<&[u8]> = Vec::new();
        let mut slot_of = Vec::new();
        for (slot, lits) in rules.iter().enumerate() {
            for l in lits {
                patterns.push(l);
                slot_of.push(slot as u32);
            }
        }
        let nfa = noncontiguous::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok()?;
        let dfa = (patterns.len() <= 100).then(|| dfa::Builder::new().build_from_noncontiguous(&nfa).ok()).flatten();
        let scanner = match dfa {
            Some(dfa) => Scanner::Dfa(dfa),
            None => Scanner::Nfa(contiguous::Builder::new().build_from_noncontiguous(&nfa).ok()?),
        };
        static BUILT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(GroupFilter { scanner, slot_of, slots: rules.len() as u32, reached: Default::default(), id })
    }

    /// Which filter this is (never 0: 0 is "no filter").
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The slots whose rule could match `value`, as a bitset.
    pub(crate) fn hits(&self, value: &str) -> Vec<u64> {
        let mut bits = vec![0u64; (self.slots as usize).div_ceil(64)];
        // Another thread scanning (natively) holds the record: scan without it.
        let mut held = self.reached.try_lock().ok();
        let reached = held.as_deref_mut();
        self.scanner.scan(&self.slot_of, reached, value.as_bytes(), &mut bits);
        bits
    }
}

/// Whether `slot` is set in a [`GroupFilter::hits`] bitset.
pub(crate) fn has(bits: &[u64], slot: u32) -> bool {
    bits.get(slot as usize / 64).is_some_and(|w| w & (1 << (slot % 64)) != 0)
}

#[cfg(test)]
mod tests {
    use super::required_literals;

    fn lits(p: &str) -> Option<Vec<String>> {
        required_literals(p).map(|v| v.into_iter().map(|b| String::from_utf8_lossy(&b).into_owned()).collect())
    }

    #[test]
    fn literals_of_common_shapes() {
        assert_eq!(lits("(?i)union\\s+select"), Some(vec!["select".into()]));
        assert_eq!(lits("(?-u:(?i)<script)"), Some(vec!["<script".into()]));
        assert_eq!(lits("foo|bar"), Some(vec!["bar".into(), "foo".into()]));
        assert_eq!(lits("a*"), None);
        assert_eq!(lits("(?:foo)?bar"), Some(vec!["bar".into(), "foobar".into()]));
        assert_eq!(lits(".+"), None);
        assert_eq!(lits("\\bexec\\b"), Some(vec!["exec".into()]));
    }

    #[test]
    fn case_folding_is_ascii_as_in_pcre() {
        // PCRE without UTF mode folds ASCII only: (?i)k is not KELVIN SIGN,
        // and a non-ASCII literal is its UTF-8 bytes.
        assert_eq!(lits("(?i)k"), Some(vec!["k".into()]));
        assert!(!crate::engine::analysis::compile("(?i)k").is_ok_and(|r| r.is_match("\u{212A}".as_bytes())));
        assert!(crate::engine::analysis::compile("’").is_ok_and(|r| r.is_match("it’s".as_bytes())));
    }

    /// The automaton walk reports the slots `find_overlapping_iter` does,
    /// for a DFA-sized group and an NFA-sized one.
    #[test]
    fn scan_agrees_with_overlapping_iter() {
        use aho_corasick::{AhoCorasick, MatchKind};
        let words = ["on", "in", "or", "select", "<script", "ON", "a", "union", "/etc/", "sel", "lect", "x"];
        let mut big: Vec<Vec<Vec<u8>>> = (0..40).map(|i| vec![format!("w{i}x").into_bytes(), format!("{i}z").into_bytes()]).collect();
        big.extend(words.iter().map(|w| vec![w.as_bytes().to_vec()]));
        let small: Vec<Vec<Vec<u8>>> = words.iter().map(|w| vec![w.as_bytes().to_vec()]).collect();
        let values = ["", "Some ordinary text", "UNION SELECT", "<ScRiPt>", "/etc/passwd w3x 7z", "onononon", "xxx", "w39x w12z 0z"];
        for rules in [&small, &big] {
            let filter = super::GroupFilter::new(rules).expect("builds");
            let patterns: Vec<&[u8]> = rules.iter().flatten().map(Vec::as_slice).collect();
            let slot_of: Vec<usize> = rules.iter().enumerate().flat_map(|(s, l)| std::iter::repeat_n(s, l.len())).collect();
            let ac = AhoCorasick::builder().ascii_case_insensitive(true).match_kind(MatchKind::Standard).build(&patterns).expect("builds");
            for v in values {
                let mut want = vec![0u64; rules.len().div_ceil(64)];
                for m in ac.find_overlapping_iter(v) {
                    let slot = slot_of[m.pattern().as_usize()];
                    want[slot / 64] |= 1 << (slot % 64);
                }
                assert_eq!(filter.hits(v), want, "{v:?}");
                // Again: now every match state it reaches is recorded.
                assert_eq!(filter.hits(v), want, "{v:?} from the recorded states");
            }
        }
    }

    /// The property that makes skipping sound, over a few hundred
    /// pattern/value pairs: whenever the regex matches, a literal is there.
    #[test]
    fn a_match_always_contains_a_required_literal() {
        let patterns = [
            "(?i)union\\s+(all\\s+)?select",
            "(?i)(?:on(?:error|load)|javascript:)",
            "\\.\\./|\\.\\.\\\\",
            "(?i)[\\s;|&]cat\\s",
            "(?:%2e|\\.){2}(?:%2f|/)",
            "(?i)\\b(?:s(?:elect|leep)|benchmark)\\b",
            "[a-c]x[d-e]y",
            "(?is)<\\?(?:php)?",
        ];
        let values = [
            "UNION SELECT 1", "union all select", "x onload=1", "JavaScript:alert", "../etc", "..\\win",
            "; cat /etc/passwd", "%2e%2e/", "SLEEP(5)", "benchmark(1)", "bxdy", "<?PHP", "<?", "KELVIN",
            "plain text", "SeLeCt", "cxey", "%2E.%2F",
        ];
        for p in patterns {
            let re = crate::engine::analysis::compile(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            let Some(set) = required_literals(p) else { continue };
            for v in values {
                if re.is_match(v.as_bytes()) {
                    let lv = v.as_bytes().to_ascii_lowercase();
                    assert!(
                        set.iter().any(|l| lv.windows(l.len()).any(|w| w == l.as_slice())),
                        "{p} matches {v:?} but none of {set:?} is in it"
                    );
                }
            }
        }
    }
}
