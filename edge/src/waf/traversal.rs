//! Path traversal and local file inclusion: `..` segments (any slash, encoded or
//! overlong forms after decoding), well-known sensitive files, and stream wrappers.

use super::extract::Kind;
use super::rules::{rule, Category::Traversal, PatternTable, Rule, Severity::*};
use super::scan::Text;

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    // Two or more `..` hops, or `/../` inside a path: clients normalise these away, so
    // only a crafted request carries them.
    (
        rule("traversal-dotdot-multi", Traversal, 1, Critical),
        r"(?:\.{2,}[/\\]+){2,}|[/\\]\.{2,}[/\\]+\.{2,}(?:[/\\]|$)",
    ),
    (
        rule("traversal-dotdot", Traversal, 1, Warning),
        r"(?:^|[/\\=])\.{2,}[/\\]|[/\\]\.{2,}$",
    ),
    // Overlong / non-standard encodings of `.` `/` `\` that survive one decode pass.
    (
        rule("traversal-overlong", Traversal, 1, Critical),
        r"%c0%a[ef]|%c1%[89]c|%e0%80%ae|%c0%2e|%u2215|%u2216|%uff0e|%c0%5c",
    ),
    (
        rule("traversal-unix-file", Traversal, 1, Critical),
        r"(?:^|[/\\=:])(?:etc[/\\]+(?:passwd|shadow|group|hosts|issue|crontab|sudoers|master\.passwd|hostname|resolv\.conf|ssh[/\\])|proc[/\\]+(?:self|\d+)[/\\]|(?:root|home[/\\]+[^/\\]+)[/\\]+\.(?:ssh|bash_history|aws)|var[/\\]+log[/\\]|dev[/\\]+(?:tcp|udp)[/\\])",
    ),
    (
        rule("traversal-windows-file", Traversal, 1, Critical),
        r"(?:win\.ini|boot\.ini|system32[/\\]|ntuser\.dat|sam[/\\]|[a-z]:[/\\]+(?:windows|winnt|inetpub)[/\\]|\\\\[^\\/]+\\[a-z]\$)",
    ),
    (
        rule("traversal-app-secret", Traversal, 1, Critical),
        r"(?:^|[/\\])(?:\.htaccess|\.htpasswd|\.git[/\\](?:config|head)|\.env(?:$|[./])|wp-config\.php|web\.config|id_rsa|id_ed25519|\.aws[/\\]credentials|\.kube[/\\]config)",
    ),
    (
        rule("traversal-wrapper", Traversal, 1, Critical),
        r"\b(?:php|file|expect|phar|zip|glob|data|zlib|compress\.zlib|compress\.bzip2|ogg|rar|ssh2\.[a-z]+)://",
    ),
    (
        rule("traversal-ssrf-scheme", Traversal, 1, Critical),
        r"\b(?:gopher|dict|jar|netdoc|ldap|tftp)://",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if !t.has_any(b"/\\") {
        // Without a slash only an overlong-encoded one can be left to find.
        let overlong = t.has(b'%') && ["%c0", "%c1", "%e0", "%u"].iter().any(|m| t.s.contains(m));
        if !overlong {
            return;
        }
    }
    let start = out.len();
    TABLE.scan(t.s, out);
    // In the URL path a single `/../` is already abnormal (browsers resolve it).
    if t.kind == Kind::Path && out[start..].iter().any(|r| r.id == "traversal-dotdot") {
        out.push(&PATH_DOTDOT);
    }
}

static PATH_DOTDOT: Rule = rule("traversal-dotdot-in-path", Traversal, 1, Error);

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};

    #[test]
    fn attacks() {
        for p in [
            "../../etc/passwd",
            "..%2f..%2f..%2fetc%2fhosts",
            "%252e%252e%252f%252e%252e%252fboot.ini",
            "..\\..\\windows\\win.ini",
            "%c0%ae%c0%ae%c0%afetc",
            "/proc/self/environ",
            "php://filter/convert.base64-encode/resource=index",
            "file:///etc/shadow",
            "expect://id",
            "\\\\::1\\c$\\users\\default\\ntuser.dat",
            "....//....//x",
            "/var/www/../../.git/config",
        ] {
            assert!(fires(p, "traversal-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "/static/app.v1.2.js",
            "see chapter 1... then 2",
            "https://example.com/a/b.html",
            "C:\\Users\\me\\Documents\\report.docx",
            "a.b.c@example.com",
            "../images/logo.png",
            "I keep my etc stuff in /home",
            "the file is named passwd.txt",
        ] {
            // A single relative hop is only a warning, below the blocking threshold.
            assert!(super::super::test_util::score(p) < 5, "{p}: {:?}", ids(p));
        }
    }
}
