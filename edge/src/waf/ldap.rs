//! LDAP filter injection: closing the application's filter and opening new clauses
//! (`*)(`, `)(|`, `(&(`), wildcard presence tests, and extensible-match syntax.

use super::rules::{rule, Category::Ldap, PatternTable, Rule, Severity::*};
use super::scan::Text;

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("ldap-filter-breakout", Ldap, 1, Critical),
        r"\*\s*\)\s*\(|\)\s*\(\s*[|&!]|\(\s*[|&!]\s*\(|\)\s*\(\s*[a-z][\w-]*\s*[~<>]?=[^)]*\)\s*\)?$",
    ),
    (
        rule("ldap-attribute-wildcard", Ldap, 1, Critical),
        r"\(\s*(?:objectclass|uid|cn|mail|userpassword|samaccountname|memberof|sn|givenname|ou|dc|description|telephonenumber)\s*=\s*\*\s*\)",
    ),
    (
        rule("ldap-extensible-match", Ldap, 1, Critical),
        r"\b[a-z][\w-]*(?::dn)?:(?:\d+(?:\.\d+)+|caseexactmatch|caseignorematch|octetstringmatch|bitand|bitor)\w*:=|:dn:=|:1\.2\.840\.113556\.1\.4\.\d+:=",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if !t.has_any(b"(:") {
        return;
    }
    TABLE.scan(t.s, out);
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};

    #[test]
    fn attacks() {
        for p in [
            "(&(uid=admin)(!(&(1=0)(userPassword=q))))",
            "*(|(objectclass=*))",
            "userPassword:2.5.13.18:=123",
            "admin)(|(uid=*",
            "x*)(uid=*))(|(uid=*",
        ] {
            assert!(fires(p, "ldap-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "see (a)(b) above",
            "f(x)(y)",
            "time: 10:30",
            "smile :) (really)",
            "I would like to request the bin with app_id: (]",
            ")I would like information about the address: (#)saddr",
        ] {
            assert!(!fires(p, "ldap-"), "{p}: {:?}", ids(p));
        }
    }
}
