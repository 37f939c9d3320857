//! nginx's `location` choice, and `when` conditions that reproduce it.
//!
//! nginx picks one location per request (exact `=`, then the longest prefix,
//! whose nested locations are searched next; then regexes in file order
//! unless the prefix was `^~`). The edge instead runs rules in each phase
//! whose `when` must hold. So for each group of locations that shares an
//! effect, the importer writes a `path_regex` list: the locations' own
//! patterns, minus the patterns of every location that beats one of them.
//!
//! That construction is checked, not trusted: [`Locations::select`] is a
//! direct port of `ngx_http_core_find_location` (regexes run by
//! `fancy-regex`, which has PCRE's look-around), and every selector is
//! compared with it on probe paths derived from all the patterns. A group
//! that does not agree on every probe is split per location; a location
//! that still does not agree is reported with the first differing path.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use regex_syntax::hir::{Class, Hir, HirKind};

/// How a location matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Exact,
    Prefix,
    /// `^~`: a prefix that stops the regex search.
    PrefixNoRegex,
    Regex { case_insensitive: bool },
}

#[derive(Debug)]
pub struct Loc {
    pub kind: Kind,
    /// The URI (exact, prefix) or regex source.
    pub pattern: String,
    pub parent: Option<usize>,
    /// What nginx runs (PCRE-like); `None` when the regex does not compile.
    nginx: Option<fancy_regex::Regex>,
    /// This location's own condition as a linear-time regex, if it has one.
    pub own: Option<String>,
    /// For `A(?!B)` (a trailing negative look-ahead): `A(?:B)`, excluded
    /// beside `own` = `A`. Close, not exact (a path with two matches of `A`).
    own_not: Option<String>,
}

/// All locations of one server, in file order (parents before children).
#[derive(Debug, Default)]
pub struct Locations {
    pub locs: Vec<Loc>,
}

/// Probe paths with nginx's answers computed once: the location chosen for
/// each, whether each location's own pattern matches each, and (filled on
/// demand) each edge-side regex's matches.
pub struct Probes {
    paths: Vec<String>,
    selected: Vec<Option<usize>>,
    nginx_match: Vec<Vec<bool>>,
    edge: RefCell<HashMap<String, Option<Rc<Vec<bool>>>>>,
}

impl Probes {
    /// Which probes the edge-side regex `pattern` matches (`None`: it does not compile).
    fn edge_match(&self, pattern: &str) -> Option<Rc<Vec<bool>>> {
        if let Some(hit) = self.edge.borrow().get(pattern) {
            return hit.clone();
        }
        let v = compile(pattern).map(|r| Rc::new(self.paths.iter().map(|p| r.is_match(p)).collect::<Vec<bool>>()));
        self.edge.borrow_mut().insert(pattern.to_string(), v.clone());
        v
    }

    fn len(&self) -> usize {
        self.paths.len()
    }
}

/// A set of `path_regex` entries (`!` excludes) that the edge evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Selector {
    pub fn entries(&self) -> Vec<String> {
        self.include.iter().cloned().chain(self.exclude.iter().map(|e| format!("!{e}"))).collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    Ok,
    Again,
    Declined,
}

impl Locations {
    /// Adds a location from its `location` arguments; an error for forms
    /// nginx rejects or the edge cannot see (named `@locations`).
    pub fn add(&mut self, args: &[String], parent: Option<usize>) -> Result<usize, String> {
        let (kind, pattern) = match args {
            [m, p] if m == "=" => (Kind::Exact, p.clone()),
            [m, p] if m == "^~" => (Kind::PrefixNoRegex, p.clone()),
            [m, p] if m == "~" => (Kind::Regex { case_insensitive: false }, p.clone()),
            [m, p] if m == "~*" => (Kind::Regex { case_insensitive: true }, p.clone()),
            [p] if p.starts_with('@') => return Err("a named location is reached only by error_page/try_files; the edge has no internal redirects".into()),
            [p] if p.starts_with('=') && p.len() > 1 => (Kind::Exact, p[1..].to_string()),
            [p] if p.starts_with("^~") && p.len() > 2 => (Kind::PrefixNoRegex, p[2..].to_string()),
            [p] if p.starts_with("~*") && p.len() > 2 => (Kind::Regex { case_insensitive: true }, p[2..].to_string()),
            [p] if p.starts_with('~') && p.len() > 1 => (Kind::Regex { case_insensitive: false }, p[1..].to_string()),
            [p] => (Kind::Prefix, p.clone()),
            _ => return Err(format!("invalid location arguments {args:?}")),
        };
        let (nginx, own, own_not) = match &kind {
            Kind::Regex { case_insensitive } => {
                let flags = if *case_insensitive { "(?i)" } else { "" };
                let nginx = fancy_regex::RegexBuilder::new(&format!("{flags}{pattern}")).build().ok();
                let own = format!("{flags}{pattern}");
                if edge::rules::when::PathRegex::parse(&own).is_ok() {
                    (nginx, Some(own), None)
                } else {
                    match split_negative_lookahead(pattern.as_str()) {
                        Some((a, b)) => (nginx, Some(format!("{flags}{a}")), Some(format!("{flags}{a}(?:{b})"))),
                        None => (nginx, None, None),
                    }
                }
            }
            Kind::Exact => (None, Some(format!("^{}$", regex_syntax::escape(&pattern))), None),
            Kind::Prefix | Kind::PrefixNoRegex => (None, Some(format!("^{}", regex_syntax::escape(&pattern))), None),
        };
        if matches!(kind, Kind::Regex { .. }) && nginx.is_none() {
            return Err(format!("regex {pattern:?} does not compile"));
        }
        self.locs.push(Loc { kind, pattern, parent, nginx, own, own_not });
        Ok(self.locs.len() - 1)
    }

    fn children(&self, parent: Option<usize>) -> impl Iterator<Item = usize> + '_ {
        (0..self.locs.len()).filter(move |&i| self.locs[i].parent == parent)
    }

    fn nginx_matches(&self, i: usize, path: &str) -> bool {
        let l = &self.locs[i];
        match &l.kind {
            Kind::Exact => path == l.pattern,
            Kind::Prefix | Kind::PrefixNoRegex => path.starts_with(&l.pattern),
            Kind::Regex { .. } => l.nginx.as_ref().is_some_and(|r| r.is_match(path).unwrap_or(false)),
        }
    }

    /// The location nginx uses for `path` (`None`: no location matches).
    pub fn select(&self, path: &str) -> Option<usize> {
        let mut selected = None;
        self.find(None, path, &mut selected);
        selected
    }

    /// `ngx_http_core_find_location`, over one level of the tree.
    fn find(&self, parent: Option<usize>, path: &str, selected: &mut Option<usize>) -> Found {
        let kids: Vec<usize> = self.children(parent).collect();
        if let Some(&e) = kids.iter().find(|&&i| self.locs[i].kind == Kind::Exact && self.nginx_matches(i, path)) {
            *selected = Some(e);
            return Found::Ok;
        }
        let longest = kids
            .iter()
            .copied()
            .filter(|&i| matches!(self.locs[i].kind, Kind::Prefix | Kind::PrefixNoRegex) && self.nginx_matches(i, path))
            .max_by_key(|&i| self.locs[i].pattern.len());
        let mut rc = Found::Declined;
        let mut noregex = false;
        if let Some(p) = longest {
            *selected = Some(p);
            noregex = self.locs[p].kind == Kind::PrefixNoRegex;
            rc = match self.find(Some(p), path, selected) {
                Found::Declined => Found::Again,
                other => other,
            };
        }
        if rc == Found::Ok {
            return rc;
        }
        if !noregex {
            for &r in kids.iter().filter(|&&i| matches!(self.locs[i].kind, Kind::Regex { .. })) {
                if self.nginx_matches(r, path) {
                    *selected = Some(r);
                    self.find(Some(r), path, selected);
                    return Found::Ok;
                }
            }
        }
        rc
    }

    /// The edge-side condition of location `i` including its ancestors,
    /// where one regex can say it.
    fn own_full(&self, i: usize) -> Option<String> {
        let own = self.locs[i].own.clone()?;
        let Some(parent) = self.locs[i].parent else { return Some(own) };
        let parent_prefix = match &self.locs[parent].kind {
            Kind::Prefix | Kind::PrefixNoRegex => &self.locs[parent].pattern,
            _ => return Some(own),
        };
        match &self.locs[i].kind {
            Kind::Regex { case_insensitive } if !self.locs[i].pattern.starts_with('^') => {
                let flags = if *case_insensitive { "(?i)" } else { "" };
                Some(format!("^{}{flags}.*?(?:{})", regex_syntax::escape(parent_prefix), self.locs[i].pattern))
            }
            _ => Some(own),
        }
    }

    /// The probe paths with nginx's choices, computed once.
    pub fn probe(&self) -> Probes {
        let paths = self.probes();
        let selected = paths.iter().map(|p| self.select(p)).collect();
        let nginx_match = (0..self.locs.len()).map(|i| paths.iter().map(|p| self.nginx_matches(i, p)).collect()).collect();
        Probes { paths, selected, nginx_match, edge: RefCell::default() }
    }

    /// Paths that exercise every pattern and their overlaps.
    pub fn probes(&self) -> Vec<String> {
        let mut literals: BTreeSet<String> = ["/".to_string(), "/index.html".into(), "/a/b".into()].into();
        let mut samples: BTreeSet<String> = BTreeSet::new();
        for l in &self.locs {
            match &l.kind {
                Kind::Exact | Kind::Prefix | Kind::PrefixNoRegex => {
                    literals.insert(l.pattern.clone());
                    if let Some(short) = l.pattern.strip_suffix('/') {
                        literals.insert(short.to_string());
                    }
                }
                Kind::Regex { .. } => {
                    if let Some(own) = &l.own {
                        for s in regex_samples(own) {
                            samples.insert(s);
                        }
                    }
                    // Look-around patterns: sample the pattern with it removed.
                    for s in regex_samples(&strip_lookaround(&l.pattern)) {
                        samples.insert(s);
                    }
                }
            }
        }
        // Look-ahead patterns: a second match after an excluded one.
        for l in &self.locs {
            if let (Some(a), Some(not)) = (&l.own, &l.own_not) {
                let (sa, sn) = (regex_samples(a), regex_samples(not));
                if let (Some(x), Some(y)) = (sn.first(), sa.first()) {
                    samples.insert(format!("{x}/{y}"));
                }
            }
        }
        let mut out: BTreeSet<String> = BTreeSet::new();
        for lit in &literals {
            out.insert(lit.clone());
            for tail in ["x", "x/y", "x.php", ".bak", "/", "/.git/config", "/.well-known/x", "-x"] {
                out.insert(format!("{lit}{tail}"));
            }
            for s in &samples {
                let s = s.trim_start_matches('/');
                let joined = if lit.ends_with('/') { format!("{lit}{s}") } else { format!("{lit}/{s}") };
                out.insert(joined);
            }
        }
        for s in &samples {
            out.insert(if s.starts_with('/') { s.clone() } else { format!("/{s}") });
        }
        out.into_iter().filter(|p| p.starts_with('/') && p.len() <= 512).take(20_000).collect()
    }

    /// Selectors for the paths nginx sends to one of `members`: one if a
    /// single selector is exact, else as few as a greedy split finds, each
    /// exact where possible (an inexact one carries its first difference).
    pub fn build(&self, members: &[usize], probes: &Probes) -> Vec<(Vec<usize>, Selector, Option<String>)> {
        if let Some(sel) = self.try_group(members, probes) {
            return vec![(members.to_vec(), sel, None)];
        }
        let mut parts: Vec<(Vec<usize>, Selector)> = Vec::new();
        let mut inexact: Vec<usize> = Vec::new();
        for &m in members {
            let placed = parts.iter_mut().any(|(p, sel)| {
                let mut with = p.clone();
                with.push(m);
                match self.try_group(&with, probes) {
                    Some(s) => {
                        *p = with;
                        *sel = s;
                        true
                    }
                    None => false,
                }
            });
            if !placed {
                match self.try_group(&[m], probes) {
                    Some(sel) => parts.push((vec![m], sel)),
                    None => inexact.push(m),
                }
            }
        }
        let mut out: Vec<(Vec<usize>, Selector, Option<String>)> = parts.into_iter().map(|(p, s)| (p, s, None)).collect();
        for m in inexact {
            let sel = self.naive(&[m], probes);
            let diff = self.first_difference(&sel, &[m], probes);
            out.push((vec![m], sel, diff));
        }
        out
    }

    fn try_group(&self, members: &[usize], probes: &Probes) -> Option<Selector> {
        [true, false].into_iter().find_map(|with_not| {
            let sel = self.naive_with(members, probes, with_not);
            self.first_difference(&sel, members, probes).is_none().then_some(sel)
        })
    }

    /// Whether location `i`'s regex has a look-ahead the edge approximates.
    pub fn approximated(&self, i: usize) -> bool {
        self.locs[i].own_not.is_some()
    }

    /// Own patterns of `members`, minus those of the locations that win over
    /// them on some probe the members' patterns match.
    fn naive(&self, members: &[usize], probes: &Probes) -> Selector {
        self.naive_with(members, probes, true)
    }

    fn naive_with(&self, members: &[usize], probes: &Probes, with_not: bool) -> Selector {
        let include: Vec<String> = members.iter().filter_map(|&m| self.own_full(m)).collect::<BTreeSet<_>>().into_iter().collect();
        let inc: Vec<Rc<Vec<bool>>> = include.iter().filter_map(|p| probes.edge_match(p)).collect();
        let mut beaters = BTreeSet::new();
        for i in 0..probes.len() {
            // A beater wins where a member itself matches (not where the
            // member's regex is only an approximation of it).
            if !inc.iter().any(|r| r[i]) || !members.iter().any(|&m| probes.nginx_match[m][i]) {
                continue;
            }
            match probes.selected[i] {
                Some(x) if !members.contains(&x) => {
                    beaters.insert(x);
                }
                _ => {}
            }
        }
        let exclude: Vec<String> = beaters
            .into_iter()
            .filter_map(|x| self.own_full(x))
            .chain(members.iter().filter(|_| with_not).filter_map(|&m| self.locs[m].own_not.clone()))
            .filter(|e| !include.contains(e))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Selector { include, exclude }
    }

    /// The first probe on which `sel` and nginx disagree, described.
    pub fn first_difference(&self, sel: &Selector, members: &[usize], probes: &Probes) -> Option<String> {
        let inc: Vec<Rc<Vec<bool>>> = sel.include.iter().filter_map(|p| probes.edge_match(p)).collect();
        let exc: Vec<Rc<Vec<bool>>> = sel.exclude.iter().filter_map(|p| probes.edge_match(p)).collect();
        if inc.len() != sel.include.len() || exc.len() != sel.exclude.len() || sel.include.is_empty() {
            return Some("a pattern cannot be written as a linear-time regex".into());
        }
        for (i, p) in probes.paths.iter().enumerate() {
            let edge = inc.iter().any(|r| r[i]) && !exc.iter().any(|r| r[i]);
            let nginx = probes.selected[i].is_some_and(|x| members.contains(&x));
            if edge != nginx {
                let picks = probes.selected[i].map(|x| self.describe(x)).unwrap_or_else(|| "no location".into());
                return Some(format!("{p}: nginx picks {picks}, the rule {}", if edge { "matches" } else { "does not match" }));
            }
        }
        None
    }

    pub fn describe(&self, i: usize) -> String {
        let l = &self.locs[i];
        let m = match l.kind {
            Kind::Exact => "= ",
            Kind::Prefix => "",
            Kind::PrefixNoRegex => "^~ ",
            Kind::Regex { case_insensitive: false } => "~ ",
            Kind::Regex { case_insensitive: true } => "~* ",
        };
        format!("location {m}{}", l.pattern)
    }
}

/// The regex as the edge compiles it (bytes, ASCII, linear time).
fn compile(p: &str) -> Option<Regex> {
    regex::bytes::RegexBuilder::new(p).unicode(false).build().ok().map(Regex)
}

/// A compiled edge-side regex matched against `&str` paths.
struct Regex(regex::bytes::Regex);

impl Regex {
    fn is_match(&self, p: &str) -> bool {
        self.0.is_match(p.as_bytes())
    }
}

/// `A(?!B)` with no other look-around → (`A`, `B`).
fn split_negative_lookahead(p: &str) -> Option<(&str, &str)> {
    let body = p.strip_suffix(')')?;
    let i = body.rfind("(?!")?;
    let (a, b) = (&body[..i], &body[i + 3..]);
    (balanced(a) && balanced(b) && edge::rules::when::PathRegex::parse(a).is_ok() && edge::rules::when::PathRegex::parse(b).is_ok()).then_some((a, b))
}

fn balanced(s: &str) -> bool {
    !s.contains("(?=") && !s.contains("(?!") && !s.contains("(?<") && s.matches('(').count() == s.matches(')').count()
}

/// `(?!…)`, `(?=…)`, `(?<!…)`, `(?<=…)` removed, for sampling only.
fn strip_lookaround(p: &str) -> String {
    let mut out = String::new();
    let mut rest = p;
    while let Some(i) = ["(?!", "(?=", "(?<!", "(?<="].iter().filter_map(|m| rest.find(m)).min() {
        out.push_str(&rest[..i]);
        let mut depth = 0usize;
        let mut end = rest.len();
        let mut escaped = false;
        for (j, c) in rest[i..].char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' => escaped = true,
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A few strings the regex matches: every alternative, each repetition at
/// its minimum and once more, each class at its first character.
pub fn regex_samples(pattern: &str) -> Vec<String> {
    let Ok(hir) = regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(pattern) else { return Vec::new() };
    let mut out: Vec<String> = samples(&hir, 64).into_iter().filter_map(|b| String::from_utf8(b).ok()).collect();
    out.sort();
    out.dedup();
    out
}

fn samples(h: &Hir, budget: usize) -> Vec<Vec<u8>> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => vec![Vec::new()],
        HirKind::Literal(l) => vec![l.0.to_vec()],
        HirKind::Class(Class::Bytes(c)) => c.ranges().first().map(|r| vec![vec![pick(r.start(), r.end())]]).unwrap_or_default(),
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .first()
            .and_then(|r| char::from_u32(pick(r.start() as u32 as u8, (r.end() as u32).min(127) as u8) as u32))
            .map(|c| vec![c.to_string().into_bytes()])
            .unwrap_or_default(),
        HirKind::Repetition(r) => {
            let inner = samples(&r.sub, budget);
            let min = r.min.min(3) as usize;
            let mut out = Vec::new();
            for s in inner.iter().take(budget) {
                out.push(s.repeat(min));
                out.push(s.repeat(min + 1));
            }
            out
        }
        HirKind::Capture(c) => samples(&c.sub, budget),
        HirKind::Concat(parts) => {
            let mut acc: Vec<Vec<u8>> = vec![Vec::new()];
            for p in parts {
                let next = samples(p, budget);
                if next.is_empty() {
                    return Vec::new();
                }
                let mut combined = Vec::new();
                for a in &acc {
                    for n in &next {
                        if combined.len() >= budget {
                            break;
                        }
                        let mut s = a.clone();
                        s.extend_from_slice(n);
                        combined.push(s);
                    }
                }
                acc = combined;
            }
            acc
        }
        HirKind::Alternation(alts) => alts.iter().flat_map(|a| samples(a, budget)).take(budget).collect(),
    }
}

/// A printable byte of the range, preferring letters.
fn pick(start: u8, end: u8) -> u8 {
    (start..=end).find(|b| b.is_ascii_alphanumeric()).or_else(|| (start..=end).find(|b| b.is_ascii_graphic())).unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locs(specs: &[&[&str]]) -> Locations {
        let mut l = Locations::default();
        for s in specs {
            let args: Vec<String> = s.iter().map(|a| a.to_string()).collect();
            l.add(&args, None).unwrap();
        }
        l
    }

    #[test]
    fn nginx_order_exact_prefix_noregex_regex() {
        let l = locs(&[&["/"], &["=", "/"], &["/api/"], &["^~", "/static/"], &["~", "\\.php$"], &["~*", "\\.(gif|jpg)$"]]);
        assert_eq!(l.select("/"), Some(1));
        assert_eq!(l.select("/x"), Some(0));
        assert_eq!(l.select("/api/x"), Some(2));
        assert_eq!(l.select("/api/x.php"), Some(4));
        assert_eq!(l.select("/static/x.php"), Some(3));
        assert_eq!(l.select("/a.JPG"), Some(5));
    }

    #[test]
    fn selectors_agree_with_nginx_on_probes() {
        let l = locs(&[&["/"], &["/api/"], &["=", "/api/health"], &["~", "\\.php$"], &["^~", "/static/"]]);
        let probes = l.probe();
        for m in 0..l.locs.len() {
            let built = l.build(&[m], &probes);
            assert!(built.len() == 1 && built[0].2.is_none(), "{}: {built:?}", l.describe(m));
        }
    }

    #[test]
    fn look_around_is_reported_not_hidden() {
        let l = locs(&[&["/"], &["~*", "/\\.(?!well-known\\/)"]]);
        assert_eq!(l.select("/.git/config"), Some(1));
        assert_eq!(l.select("/.well-known/acme"), Some(0));
        assert!(l.approximated(1));
        let built = l.build(&[1], &l.probe());
        assert!(built[0].2.is_some(), "cannot be exact: {built:?}");
    }

    #[test]
    fn samples_cover_alternatives() {
        let s = regex_samples("\\.(?:bak|conf)$");
        assert!(s.contains(&".bak".to_string()) && s.contains(&".conf".to_string()), "{s:?}");
    }
}
