//! NoSQL (MongoDB-style) injection: query operators smuggled in as keys (`a[$ne]=`,
//! `{"$gt": ""}`) or as text, server-side JS (`$where`, `db.x.find(`), and JS busy loops.

use super::extract::Kind;
use super::rules::{rule, Category::Nosql, PatternTable, Rule, Severity::*};
use super::scan::Text;

macro_rules! ops {
    () => {
        r"\$(?:where|ne|eq|gt|gte|lt|lte|in|nin|regex|or|and|not|nor|exists|type|expr|elemmatch|size|all|mod|function|accumulator|eval|lookup|jsonschema|text|search|options|comment|set|unset|rename|inc|push|pull)\b"
    };
}

pub(super) static KEYS: PatternTable = PatternTable::new(&[(
    rule("nosql-operator-key", Nosql, 1, Critical),
    concat!(r"^\[?", ops!(), r"\]?$|\[", ops!(), r"\]"),
)]);

pub(super) static VALUES: PatternTable = PatternTable::new(&[
    (
        rule("nosql-operator-value", Nosql, 1, Critical),
        concat!(r"['\x22]?", ops!(), r"['\x22]?\s*:"),
    ),
    (
        rule("nosql-operator-param", Nosql, 1, Critical),
        concat!(r"\[", ops!(), r"\]\s*="),
    ),
    (
        rule("nosql-shell-call", Nosql, 1, Critical),
        r"\bdb\s*\.\s*[a-z_][\w.]*\s*\.\s*(?:insert|find|findone|update|remove|drop|aggregate|deletemany|updatemany|mapreduce|count)\s*\(|\bdb\s*\.\s*(?:getcollection|dropdatabase|eval|runcommand)\s*\(",
    ),
    (
        rule("nosql-js-loop", Nosql, 1, Critical),
        r"\bdo\s*\{[^}]{0,256}\}\s*while\s*\(|\bwhile\s*\(\s*(?:true|1|[a-z_]+\s*-\s*[a-z_]+)|\bnew\s+date\s*\(\s*\)\s*;",
    ),
    // A string break straight into a JS condition on the document (`' && this.x`,
    // `'; return this.password.match(…)`): `$where` injection.
    (
        rule("nosql-js-breakout", Nosql, 1, Critical),
        r"['\x22]\s*(?:&&|\|\||;\s*return\b)\s*!?\s*\(?\s*this\s*\.\s*[a-z_]",
    ),
    (
        rule("nosql-this-compare", Nosql, 2, Error),
        r"\bthis\s*\.\s*[a-z_]\w*\s*(?:==|!=|>|<|\.match)",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if t.kind == Kind::Key && t.has(b'$') {
        KEYS.scan(t.s, out);
    }
    if t.has_any(b"$({") || (t.has_any(b"'\"") && t.s.contains("this")) {
        VALUES.scan(t.s, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, fires_key, ids};

    #[test]
    fn attacks() {
        assert!(fires_key("user[$ne]"));
        assert!(fires_key("$where"));
        for p in [
            "true, $where: '99 == 88'",
            "', $or: [ {}, { 'order':'order",
            "db.injection.insert({success:1});",
            ";var date = new Date(); do{curDate = new Date();}while(curDate-date",
            "{\"$gt\": \"\"}",
            "login[$regex]=a.*",
            "' && this.password.match(/.*/)//",
            "'; return this.a == 1; var x='",
        ] {
            assert!(fires(p, "nosql-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        assert!(!fires_key("items[0]"));
        for p in [
            "costs $5 or more",
            "do { it } later",
            "db.example.com",
            "$ne is not an op here",
            "while (reading) I wait",
        ] {
            assert!(!fires(p, "nosql-"), "{p}: {:?}", ids(p));
        }
    }
}
