//! The migration report: one line per directive of the input, so nothing is
//! dropped without a word.

use std::collections::BTreeMap;

use serde::Serialize;

use super::parse::Directive;

/// What became of a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Became the named rules, same behaviour.
    Translated,
    /// Became rules that behave differently in a way the detail states.
    Differs,
    /// Cloudflare does this itself (TLS, HTTP/2, compression, logs).
    Cloudflare,
    /// Structure or process settings with no meaning at the edge.
    NotNeeded,
    /// No edge equivalent; the detail says what to do instead.
    NotTranslatable,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Translated => "translated",
            Self::Differs => "differs",
            Self::Cloudflare => "cloudflare",
            Self::NotNeeded => "not needed",
            Self::NotTranslatable => "NOT TRANSLATED",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// `file:line:column`
    pub at: String,
    /// The directive as written (name and arguments, shortened).
    pub directive: String,
    pub outcome: Outcome,
    /// Rule ids (or `origins.NAME`, `settings.…`) it became.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    pub detail: String,
}

/// Lines keyed by directive identity, so each directive is reported once
/// (the most specific outcome wins).
#[derive(Debug, Default)]
pub struct Report {
    lines: BTreeMap<usize, Line>,
}

fn key(d: &Directive) -> usize {
    std::ptr::from_ref(d) as usize
}

pub fn show(d: &Directive) -> String {
    let mut s = d.name.clone();
    for a in &d.args {
        s.push(' ');
        if a.is_empty() || a.contains(char::is_whitespace) {
            s.push_str(&format!("{a:?}"));
        } else {
            s.push_str(a);
        }
    }
    if s.chars().count() > 72 {
        s = s.chars().take(69).collect::<String>() + "...";
    }
    s
}

impl Report {
    /// Records what became of `d`; a later call adds rules and keeps the
    /// worse outcome.
    pub fn note(&mut self, d: &Directive, outcome: Outcome, rules: &[String], detail: impl Into<String>) {
        let detail = detail.into();
        let line = self.lines.entry(key(d)).or_insert_with(|| Line {
            at: d.at.to_string(),
            directive: show(d),
            outcome,
            rules: Vec::new(),
            detail: String::new(),
        });
        if outcome > line.outcome {
            line.outcome = outcome;
        }
        for r in rules {
            if !line.rules.contains(r) {
                line.rules.push(r.clone());
            }
        }
        if !detail.is_empty() && !line.detail.contains(&detail) {
            if !line.detail.is_empty() {
                line.detail.push_str("; ");
            }
            line.detail.push_str(&detail);
        }
    }

    pub fn has(&self, d: &Directive) -> bool {
        self.lines.contains_key(&key(d))
    }

    /// Lines in input order.
    pub fn lines(&self) -> Vec<Line> {
        let mut v: Vec<Line> = self.lines.values().cloned().collect();
        v.sort_by(|a, b| natural(&a.at).cmp(&natural(&b.at)));
        v
    }
}

/// Sort key for `file:line:col`.
fn natural(at: &str) -> (String, u32, u32) {
    let mut parts = at.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    let line = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    (parts.next().unwrap_or("").to_string(), line, col)
}

/// The report as a text table for standard error.
pub fn text(lines: &[Line]) -> String {
    let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
    for l in lines {
        *counts.entry(l.outcome).or_default() += 1;
    }
    let width = lines.iter().map(|l| l.at.len()).max().unwrap_or(0);
    let dwidth = lines.iter().map(|l| l.directive.chars().count()).max().unwrap_or(0).min(48);
    let mut out = String::from("nginx import report\n");
    for l in lines {
        let rules = if l.rules.is_empty() { String::new() } else { format!(" -> {}", l.rules.join(", ")) };
        let directive: String = l.directive.chars().take(48).collect();
        out.push_str(&format!("{:width$}  {:dwidth$}  {:14}{rules}", l.at, directive, l.outcome.label()));
        if !l.detail.is_empty() {
            out.push_str(&format!("  ({})", l.detail));
        }
        out.push('\n');
    }
    let summary: Vec<String> = counts.iter().map(|(o, n)| format!("{n} {}", o.label())).collect();
    out.push_str(&format!("{} directives: {}\n", lines.len(), summary.join(", ")));
    out
}
