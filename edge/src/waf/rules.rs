//! Rule metadata shared by all detectors, and the compiled-pattern helper they use.

use std::sync::OnceLock;

use regex::bytes::RegexSet;
use serde::{Deserialize, Serialize};

/// Attack family; the unit of `categories` on/off switches and exclusions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Sqli,
    Xss,
    Traversal,
    Rce,
    Ssti,
    Crlf,
    Xxe,
    Nosql,
    Ldap,
    Ssi,
    Mail,
    /// GraphQL introspection (schema disclosure).
    Graphql,
    /// Prototype pollution (`__proto__`, `constructor.prototype`).
    Proto,
}

impl Category {
    pub const ALL: [Category; 13] = [
        Category::Sqli,
        Category::Xss,
        Category::Traversal,
        Category::Rce,
        Category::Ssti,
        Category::Crlf,
        Category::Xxe,
        Category::Nosql,
        Category::Ldap,
        Category::Ssi,
        Category::Mail,
        Category::Graphql,
        Category::Proto,
    ];
}

/// CRS severities and their inbound anomaly scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Critical,
    Error,
    Warning,
    Notice,
}

impl Severity {
    pub const fn score(self) -> u32 {
        match self {
            Severity::Critical => 5,
            Severity::Error => 4,
            Severity::Warning => 3,
            Severity::Notice => 2,
        }
    }
}

/// Static description of one rule.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub category: Category,
    pub paranoia: u8,
    pub severity: Severity,
}

/// Shorthand used by the detector tables.
pub(crate) const fn rule(
    id: &'static str,
    category: Category,
    paranoia: u8,
    severity: Severity,
) -> Rule {
    Rule {
        id,
        category,
        paranoia,
        severity,
    }
}

/// A detector's regex table: each pattern maps to one rule. Patterns are matched on
/// bytes with Unicode off (`(?-u)`) against lowercased text, which keeps the compiled
/// automata small and needs no Unicode tables in the wasm.
pub(crate) struct PatternTable {
    pub rules: &'static [(Rule, &'static str)],
    set: OnceLock<Option<RegexSet>>,
}

impl PatternTable {
    pub const fn new(rules: &'static [(Rule, &'static str)]) -> Self {
        PatternTable {
            rules,
            set: OnceLock::new(),
        }
    }

    /// Compiled once on first use. A pattern that fails to compile disables the table
    /// rather than panicking; `tests::all_tables_compile` keeps that from shipping.
    pub fn compiled(&self) -> Option<&RegexSet> {
        self.set
            .get_or_init(|| RegexSet::new(self.rules.iter().map(|(_, p)| format!("(?-u){p}"))).ok())
            .as_ref()
    }

    /// Push every rule whose pattern matches `text`.
    pub fn scan(&self, text: &str, out: &mut Vec<&'static Rule>) {
        if let Some(set) = self.compiled() {
            // `is_match` can use literal prefilters and stop early; the overlapping
            // `matches` cannot, so only pay for it when something is there.
            if !set.is_match(text.as_bytes()) {
                return;
            }
            for i in set.matches(text.as_bytes()).iter() {
                if let Some((r, _)) = self.rules.get(i) {
                    out.push(r);
                }
            }
        }
    }
}
