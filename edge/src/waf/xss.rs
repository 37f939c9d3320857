//! Cross-site scripting: markup that executes script (script-capable tags, event-handler
//! attributes, script URIs), attribute breakouts, and JS-context payloads.

use super::rules::{rule, Category::Xss, PatternTable, Rule, Severity::*};
use super::scan::{Text, Words};

/// DOM event names (without `on`) used when there is no enclosing tag to anchor on;
/// inside a tag any `on[a-z]+=` counts.
macro_rules! events {
    () => {
        "(?:load|error|click|dblclick|auxclick|contextmenu|mouse[a-z]+|pointer[a-z]+|key(?:down|up|press)|focus(?:in|out)?|blur|change|input|submit|reset|select|wheel|scroll(?:end)?|drag[a-z]*|drop|copy|cut|paste|touch[a-z]+|animation[a-z]+|transition[a-z]+|toggle|begin|end|play(?:ing)?|pause|resize|(?:before)?unload|hashchange|message|pageshow|popstate|storage|show|search|invalid|readystatechange|start|finish|(?:before|after)print|loadstart|loadend|progress|canplay(?:through)?|ended|seek(?:ing|ed)|volumechange|timeupdate|durationchange|ratechange|waiting|stalled|suspend|emptied|abort|beforeinput|formdata|securitypolicyviolation|bounce|overflow|beforetoggle|content[a-z]+)"
    };
}

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("xss-script-tag", Xss, 1, Critical),
        r"<\s*/?\s*script(?:[\s/>]|$)",
    ),
    (
        rule("xss-event-handler-tag", Xss, 1, Critical),
        r"<[a-z][^>]*?[\s/\x22'`;]on[a-z]{3,}\s*=",
    ),
    (
        rule("xss-event-handler-breakout", Xss, 1, Critical),
        concat!(r"[\x22'`/;]\s*(?:/+\s*)?on", events!(), r"\s*="),
    ),
    (
        rule("xss-dangerous-tag", Xss, 1, Critical),
        r"<\s*(?:iframe|frame|frameset|object|embed|applet|base|meta|link|svg|math|isindex|xss|import|template|portal)(?:[\s/>]|$)",
    ),
    (
        rule("xss-script-uri", Xss, 1, Critical),
        r"(?:java|vb|live)\s*script\s*:\s*[^\s]*[(`=.\[/'\x22]",
    ),
    (
        rule("xss-data-uri", Xss, 1, Critical),
        r"data\s*:\s*(?:text/html|image/svg\+xml|application/(?:x-)?javascript|text/javascript)",
    ),
    (
        rule("xss-js-sink", Xss, 1, Critical),
        r"(?:^|[^a-z0-9_$.])(?:alert|prompt|confirm)(?:\(\s*[^\s)]|`|\s*\)\s*\(|\s*\.\s*(?:call|apply|bind)\s*\()",
    ),
    (
        rule("xss-js-dom", Xss, 1, Critical),
        r"document\s*\.\s*(?:cookie|domain|write(?:ln)?\s*\()|window\s*\.\s*location|\.innerhtml\s*=|(?:settimeout|setinterval|eval|execscript)\s*\(\s*['\x22`a-z]|string\s*\.\s*fromcharcode|\bconstructor\s*\(\s*['\x22`]",
    ),
    // A global object's members read by string (`window["alert"]`,
    // `self["\x24"]`, `(document)["cookie"]`): how a payload reaches `alert`
    // or `cookie` without writing the dotted name a filter looks for.
    (
        rule("xss-js-global-index", Xss, 1, Critical),
        r"(?:(?:^|[^a-z0-9_$.])(?:window|self|top|parent|frames|globalthis)|\(\s*document\s*\))\s*\[\s*[\x22'`][^\x22'`\s]*[\x22'`]\s*\]",
    ),
    (
        rule("xss-css-expression", Xss, 1, Critical),
        r"expression\s*\(|-moz-binding\s*:|behavior\s*:\s*url",
    ),
    (
        rule("xss-src-attr-js", Xss, 2, Error),
        r"<[a-z][^>]*?\s(?:src|href|action|formaction|data|xlink:href)\s*=\s*['\x22]?\s*(?:javascript|vbscript|data):",
    ),
    (
        rule("xss-html-tag", Xss, 3, Warning),
        r"<\s*/?\s*[a-z][a-z0-9-]*[\s/>]",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    // Every rule needs markup, a script URI, a call, or an attribute break.
    // Without markup every rule needs one of a few words; checking them first keeps
    // ordinary values (and UAs full of parentheses) off the regex set.
    static WORDS: Words<16> = Words::new([
        "alert",
        "prompt",
        "confirm",
        "document",
        "window",
        "eval",
        "settimeout",
        "setinterval",
        "fromcharcode",
        "constructor",
        "expression",
        "script",
        "data",
        "innerhtml",
        "behavior",
        "binding",
    ]);
    let breakout = t.has(b'=') && t.s.contains("on");
    if !t.has(b'<') && !breakout && !t.contains_any(&WORDS) {
        return;
    }
    TABLE.scan(t.s, out);
    // Filter-stripping evasion (`o<x>nfocus`): markup a sanitizer would delete to
    // reassemble the payload. Re-check with short tags between word characters removed.
    if t.has(b'<') && t.has(b'>') {
        if let Some(stripped) = strip_inner_tags(t.s) {
            TABLE.scan(&stripped, out);
        }
    }
}

/// Remove `<..>` runs of ≤ 8 bytes that sit directly between two word characters.
fn strip_inner_tags(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut changed = false;
    while i < b.len() {
        if b[i] == b'<' && i > 0 && b[i - 1].is_ascii_alphanumeric() {
            if let Some(len) = b[i..].iter().take(10).position(|c| *c == b'>') {
                if b.get(i + len + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'(')
                {
                    i += len + 1;
                    changed = true;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    changed.then(|| String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};

    #[test]
    fn attacks() {
        for p in [
            "window[\"alert\"](window[\"document\"][\"cookie\"])",
            "self[/*foo*/\"alert\"](1)",
            "(document)[\"cookie\"]",
            "<script>alert(1)</script>",
            "<svg/onload=alert(1)>",
            "<img src=x onerror=alert(document.domain)>",
            "\"><p x=1 onmouseenter=location=1>",
            "\" onfocus=\"x()",
            "javascript:void(0)",
            "<a href='data:text/html;base64,xx'>",
            "'-alert(1)//",
            "(alert)(1)",
            "confirm.call(null,1)",
            "prompt`1`",
            "<iframe src=//x>",
            "\"autof<x>ocus o<x>nfocus=alert<x>(1)//",
            "x=document.cookie",
        ] {
            assert!(fires(p, "xss-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "the window (left) pane, see [\"a b\"]",
            "myself['s] note",
            "JavaScript: Basics of JavaScript Language",
            "h2<h1",
            "see <b>bold</b> text and 3 < 4 > 2",
            "type <enter type here>.",
            "online=yes; onboarding=done",
            "Please confirm (by Friday) and alert the team.",
            "the standard <$ tag",
            "https://example.com/a.b?x=1",
            "a.alert_level = 3",
        ] {
            assert!(!fires(p, "xss-"), "{p}: {:?}", ids(p));
        }
    }
}
