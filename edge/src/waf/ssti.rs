//! Server-side template injection: template delimiters (`{{ }}`, `${ }`, `#{ }`, `*{ }`,
//! `<%= %>`, `{% %}`, FreeMarker/Velocity directives) that contain an expression —
//! arithmetic probes, object/class traversal, or calls — rather than a plain variable.

use super::rules::{rule, Category::Ssti, PatternTable, Rule, Severity::*};
use super::scan::Text;

/// Inside a delimiter: arithmetic on literals, dunder/class/constructor traversal,
/// runtime access, or a call on something.
macro_rules! expr {
    () => {
        r"(?:\d\s*[-*/+%]\s*['\x22]?\d|__[a-z]+__|\.(?:class|getclass|forname|constructor|prototype|mro|subclasses|globals|builtins|init|getruntime|exec|popen|system)\b|\bconstructor\b|\bt\s*\(\s*java|\bnew\s+[a-z]|\b(?:self|config|request|lipsum|cycler|joiner|namespace|range|_self|this|class|runtime|process|require|import|exec|eval|system|popen|getattr|attr|freemarker|velocity)\s*[(.\[|]|\[\s*['\x22]__|\|\s*(?:attr|join|safe|e)\b|[a-z_]\w*\s*\()"
    };
}

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("ssti-mustache-expr", Ssti, 1, Critical),
        concat!(r"\{\{[^}]{0,256}?", expr!(), r"[^}]{0,256}?\}\}"),
    ),
    (
        rule("ssti-dollar-expr", Ssti, 1, Critical),
        concat!(r"\$\{[^}]{0,256}?", expr!(), r"[^}]{0,256}?\}"),
    ),
    (
        rule("ssti-hash-expr", Ssti, 1, Critical),
        concat!(r"[#*@~]\{[^}]{0,256}?", expr!(), r"[^}]{0,256}?\}"),
    ),
    (
        rule("ssti-erb-jsp", Ssti, 1, Critical),
        r"<%=?\s*[^%]{0,256}?(?:\d\s*[-*/+]\s*\d|[a-z_]\w*\s*[(.`]|`)[^%]{0,256}?%>",
    ),
    (
        rule("ssti-jinja-block", Ssti, 1, Critical),
        r"\{%\s*(?:import|include|extends|set|for|if|macro|call|raw|exec|debug|load|with|filter)\b[^%]{0,256}%\}",
    ),
    (
        rule("ssti-freemarker-velocity", Ssti, 1, Critical),
        r"<#(?:assign|list|if|include|import|macro|function|setting)\b|\[#(?:assign|list|include)\b|freemarker\.template\.utility|\?new\s*\(|\?api\b|#set\s*\(\s*\$|\$class\.|#foreach\s*\(|\$\{?\s*(?:class|runtime)\.",
    ),
    (
        rule("ssti-expression-language", Ssti, 2, Error),
        r"[$#]\{[^}]{0,64}\}",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    let directive = (t.has(b'<') || t.has(b'[')) && t.has_any(b"%#");
    let velocity = t.has(b'#') && (t.s.contains("#set") || t.s.contains("#foreach"));
    if !t.has(b'{') && !directive && !velocity {
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
            "{{1337*1338}}",
            "{{7*'7'}}",
            "{{config.items()}}",
            "{{''.__class__.__mro__[1].__subclasses__()}}",
            "{{constructor.constructor('alert(1)')()}}",
            "${7*7}",
            "${T(java.lang.Runtime).getRuntime().exec('id')}",
            "aaaa\\u0027%2b#{16*8787}%2b\\u0027bbb",
            "*{T(java.lang.Runtime)}",
            "<%= 7*7 %>",
            "<%= system('id') %>",
            "<#assign ex = \"freemarker.template.utility.Execute\"?new()>${ ex(\"id\")}",
            "#set($x=1)",
            "{% import os %}",
        ] {
            assert!(fires(p, "ssti-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "Hello {{ name }}",
            "price ${amount}",
            "[Host: type: {[",
            "}I would like the /cc serviceCode with serviceCode|{}",
            "50% off {sale}",
            "color: #{fff}",
            "#hashtag {fun}",
        ] {
            assert!(!fires(p, "ssti-"), "{p}: {:?}", ids(p));
        }
    }
}
