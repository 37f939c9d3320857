//! Path traversal and local file inclusion: `..` segments (any slash, encoded or
//! overlong forms after decoding), well-known sensitive files, and stream wrappers.

use super::extract::Kind;
use super::rules::{rule, Category::Traversal, PatternTable, Rule, Severity::*};
use super::scan::Text;

/// Extensions of files a web request has no business naming through a path:
/// configuration, logs, credentials, databases, backups, server-side code.
macro_rules! sensitive_ext {
    () => {
        r"(?:conf|cnf|cfg|ini|log|pass(?:wd)?|htpasswd|htaccess|pdb|pem|key|bak|old|orig|swp|sql|sqlite3?|db|mdb|history|env|properties)"
    };
}

/// Server-side code: naming one *after a hop up* is file inclusion; naming one in a
/// plain path (`next=/admin/index.php`) is an ordinary link.
macro_rules! code_ext {
    () => {
        r"(?:inc|php\d?|phtml|asp|aspx|jsp|cgi)"
    };
}

/// Directories at the root of a Unix or Windows file system (and of the usual
/// web-server bundles): a parameter that *is* a path into one of them names a file.
macro_rules! system_dirs {
    () => {
        r"(?:etc|proc|sys|var|usr|opt|root|boot|dev|bin|sbin|windows|winnt|inetpub|xampp|wamp|lampp|appserv|program files(?: \(x86\))?|apache\d*|nginx|php\d*|mysql)"
    };
}

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    // Two or more `..` hops, or `/../` inside a path: clients normalise these away, so
    // only a crafted request carries them. `..;/` is Tomcat's path-parameter form.
    (
        rule("traversal-dotdot-multi", Traversal, 1, Critical),
        r"(?:\.{2,};?[/\\]+){2,}|[/\\]\.{2,};?[/\\]+\.{2,}(?:[/\\]|$)",
    ),
    (
        rule("traversal-dotdot", Traversal, 1, Warning),
        r"(?:^|[/\\=])\.{2,};?[/\\]|[/\\]\.{2,}$",
    ),
    // One hop up to a file of a sensitive kind, or to a dot file.
    (
        rule("traversal-dotdot-to-file", Traversal, 1, Critical),
        concat!(
            r"(?:^|[/\\=])\.{2,}[/\\]+(?:[^/\\\s]+[/\\]+)*(?:[^/\\\s]*\.(?:",
            sensitive_ext!(),
            "|",
            code_ext!(),
            r")(?:$|[^a-z0-9])|\.[a-z_])"
        ),
    ),
    // Overlong / non-standard encodings of `.` `/` `\` that survive one decode pass.
    (
        rule("traversal-overlong", Traversal, 1, Critical),
        r"%c0%a[ef]|%c1%[89]c|%e0%80%ae|%c0%2e|%u2215|%u2216|%uff0e|%c0%5c",
    ),
    (
        rule("traversal-unix-file", Traversal, 1, Critical),
        r"(?:^|[/\\=:])(?:etc[/\\]+(?:passwd|shadow|group|hosts|issue|crontab|sudoers|master\.passwd|hostname|resolv\.conf|ssh[/\\])|proc[/\\]+(?:self|\d+|[a-z]+info|version|mounts|net|partitions|interrupts|swaps|cmdline|environ|stat|modules|kcore|loadavg)\b|(?:root|home[/\\]+[^/\\]+)[/\\]+\.(?:ssh|bash_history|aws)|var[/\\]+log[/\\]|dev[/\\]+(?:tcp|udp)[/\\])",
    ),
    (
        rule("traversal-windows-file", Traversal, 1, Critical),
        r"(?:win\.ini|boot\.ini|system32[/\\]|ntuser\.dat|sam[/\\]|[a-z]:[/\\]+(?:windows|winnt|inetpub)[/\\]|\\\\[^\\/]+\\[a-z]\$)",
    ),
    (
        rule("traversal-app-secret", Traversal, 1, Critical),
        r"(?:^|[/\\])(?:\.htaccess|\.htpasswd|\.git[/\\](?:config|head)|\.env(?:$|[./])|wp-config\.php|web\.config|id_rsa|id_ed25519|\.aws[/\\]credentials|\.kube[/\\]config)",
    ),
    // Shell and tool dot files (history, credentials, rc files).
    (
        rule("traversal-dot-file", Traversal, 1, Critical),
        r"(?:^|[/\\~=])\.(?:bash[a-z_]*|zsh[a-z_]*|profile|netrc|rhosts|shosts|forward|[a-z_]*history|viminfo|logout|login|cshrc|tcshrc|kshrc|ssh[/\\]|gnupg|lesshst|xauthority|pgpass|git-credentials|npmrc|my\.cnf|pass(?:wd)?)(?:$|[/\\])",
    ),
    (
        rule("traversal-wrapper", Traversal, 1, Critical),
        r"\b(?:php|file|expect|phar|zip|glob|data|zlib|compress\.zlib|compress\.bzip2|ogg|rar|ssh2\.[a-z]+)://",
    ),
    (
        rule("traversal-ssrf-scheme", Traversal, 1, Critical),
        r"\b(?:gopher|dict|jar|netdoc|ldap|tftp)://",
    ),
    // Cloud instance metadata and container-host names: a request has no
    // business naming them, and a server that fetches them hands out its
    // credentials. (Loopback is left alone: native apps' OAuth redirects use it.)
    (
        rule("traversal-ssrf-metadata", Traversal, 1, Critical),
        r"\b169\.254\.169\.254\b|\bfd00:ec2::254\b|\b100\.100\.100\.200\b|\bmetadata\.(?:google\.internal|azure\.com)\b|\b(?:host|gateway|kubernetes)\.docker\.internal\b|\bhost\.containers\.internal\b",
    ),
]);

/// Rules for values only: a URL path is a path by nature, a parameter is not.
pub(super) static VALUE_TABLE: PatternTable = PatternTable::new(&[
    // The whole value is an absolute path into a system directory.
    (
        rule("traversal-system-path", Traversal, 1, Critical),
        concat!(
            r"^[\s'\x22]*(?:file:/*)?(?:[a-z]:)?[/\\]+(?:(?:private|volumes[/\\]+[^/\\]+)[/\\]+)*",
            system_dirs!(),
            r"(?:[/\\]|$)"
        ),
    ),
    // A path (a separator; no scheme, query, markup or shell punctuation) ending in a
    // file of a sensitive kind, or in a web server's access/error log.
    (
        rule("traversal-sensitive-file", Traversal, 1, Critical),
        concat!(
            r"^\s*(?:[a-z]:)?[^<>'\x22;|&`:?]*[/\\][^<>;|&`:?]*(?:\.",
            sensitive_ext!(),
            r"|[/\\_.-](?:access|error)[_.-]?log)\s*$"
        ),
    ),
]);

/// A URL path segment naming a hidden file or directory (`/.env`, `/.git/config`,
/// `/.aws/credentials`, `/.cursor/mcp.json`): where tools keep secrets, never
/// meant to be served. `/.well-known/` (RFC 8615) is the one exception, as in
/// h5bp's nginx rule `location ~* /\.(?!well-known\/) { deny all; }`.
static HIDDEN_PATH: Rule = rule("traversal-hidden-path", Traversal, 1, Critical);

fn has_hidden_segment(path: &str) -> bool {
    path.split(['/', '\\']).any(|seg| seg.len() > 1 && seg.starts_with('.') && seg != ".." && seg != ".well-known")
}

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if t.kind == Kind::Path && t.s.contains("/.") && has_hidden_segment(t.s) {
        out.push(&HIDDEN_PATH);
    }
    let dotted = t.s.starts_with('.') || t.s.contains("..");
    if !t.has_any(b"/\\") && !dotted {
        // Without a slash only an overlong-encoded one can be left to find.
        let overlong = t.has(b'%') && ["%c0", "%c1", "%e0", "%u"].iter().any(|m| t.s.contains(m));
        if !overlong {
            return;
        }
    }
    let start = out.len();
    TABLE.scan(t.s, out);
    if t.kind != Kind::Path {
        VALUE_TABLE.scan(t.s, out);
    }
    // `..2f..2fetc2fpasswd`: percent signs stripped by a proxy or a naive decoder leave
    // the hex of the slash behind; read it as the slash it was.
    if dotted && (t.s.contains("..2f") || t.s.contains("..5c")) {
        let slashed = t.s.replace("2f", "/").replace("5c", "\\");
        TABLE.scan(&slashed, out);
    }
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
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "url=http://metadata.google.internal/computeMetadata/v1/",
            "http://host.docker.internal:2375/containers/json",
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
            "..2f..2f..2fetc2fpasswd%00",
            "%e2%80%a5%ef%bc%8f%e2%80%a5%ef%bc%8f%ef%bd%85%ef%bd%94%e2%85%bd%ef%bc%8f%ef%bd%90%ef%bd%81%ef%bd%93%ef%bd%93%ef%bd%97%ef%bd%84",
            "/etc/apache2/sites-enabled/000-default",
            "/proc/version",
            "c:/Program Files/Apache Group/Apache/logs/access.log",
            "/usr/local/apache/logs/error_log",
            "~/.bash_history",
            "/.netrc",
            "../logs/app.log",
            "../../config.inc.php",
            ".htpasswd",
            "..;/..;/WEB-INF/web.xml",
        ] {
            assert!(fires(p, "traversal-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "http://127.0.0.1:8123/oauth/callback",
            "169.254.1.1 is a link-local address",
            "/static/app.v1.2.js",
            "see chapter 1... then 2",
            "https://example.com/a/b.html",
            "C:\\Users\\me\\Documents\\report.docx",
            "a.b.c@example.com",
            "../images/logo.png",
            "I keep my etc stuff in /home",
            "the file is named passwd.txt",
            "/admin/index.php",
            "https://example.com/login.php?next=/etc",
            "docs/2024/report.pdf",
            "/home/dashboard",
            "/system/settings",
            "/.well-known/openid-configuration",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36",
        ] {
            // A single relative hop is only a warning, below the blocking threshold.
            assert!(super::super::test_util::score(p) < 5, "{p}: {:?}", ids(p));
        }
    }
}
