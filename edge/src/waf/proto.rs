//! Prototype pollution: keys or paths that reach `Object.prototype` in JS back ends
//! (`__proto__`, `constructor.prototype`), via JSON keys, `a[__proto__][x]=` params or
//! dotted paths.

use super::rules::{rule, Category::Proto, PatternTable, Rule, Severity::*};
use super::scan::{Text, Words};

pub(super) static TABLE: PatternTable = PatternTable::new(&[(
    rule("proto-pollution", Proto, 1, Critical),
    r"__proto__|\bconstructor\s*(?:\.|\[\s*['\x22]?)\s*prototype\b",
)]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    static PROTO: Words<1> = Words::new(["proto"]);
    if t.contains_any(&PROTO) {
        TABLE.scan(t.s, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, fires_key};

    #[test]
    fn pollution() {
        assert!(fires_key("a[__proto__][admin]"));
        assert!(fires("constructor[prototype][x]=1", "proto-"));
        assert!(!fires("the prototype constructor meeting", "proto-"));
    }
}
