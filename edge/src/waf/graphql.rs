//! GraphQL introspection: `__schema`/`__type` queries disclose the whole API surface and
//! are what scanners send first. Production APIs rarely need them; switch the category
//! off (`categories.graphql = false`) where tooling depends on introspection.

use super::rules::{rule, Category::Graphql, PatternTable, Rule, Severity::*};
use super::scan::Text;

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("graphql-introspection", Graphql, 1, Critical),
        r"\b__schema\s*\{|\b__type\s*\(\s*name\s*:",
    ),
    (
        rule("graphql-type-probe", Graphql, 2, Warning),
        r"\{\s*__typename\s*\}",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if t.has(b'{') || t.has(b'(') {
        TABLE.scan(t.s, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::fires;

    #[test]
    fn introspection() {
        assert!(fires(
            "{\"query\": \"IntrospectionQuery{__schema {queryType { name }}\"}",
            "graphql-"
        ));
        assert!(fires(
            "{__type(name: \"User\") { fields { name } }}",
            "graphql-"
        ));
        assert!(!fires(
            "{\"query\": \"{ user(id: 1) { name } }\"}",
            "graphql-"
        ));
    }
}
