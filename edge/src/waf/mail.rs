//! Mail command/header injection: a line break followed by a mail header (`Bcc:`), an
//! SMTP verb, or an IMAP tagged command — what a value spliced into a mail transaction
//! needs to add recipients or commands.

use super::rules::{rule, Category::Mail, PatternTable, Rule, Severity::*};
use super::scan::Text;

pub(super) static TABLE: PatternTable = PatternTable::new(&[
    (
        rule("mail-header-injection", Mail, 1, Critical),
        r"[\r\n]\s*(?:bcc|cc|to|from|reply-to|sender|return-path)\s*:\s*[^\s@]*@|[\r\n]\s*bcc\s*:",
    ),
    (
        rule("mail-smtp-command", Mail, 1, Critical),
        r"[\r\n]\s*(?:rcpt\s+to|mail\s+from)\s*:|[\r\n]\s*(?:data|quit|rset|noop|starttls|turn)\s*(?:[\r\n]|$)|[\r\n]\s*(?:helo|ehlo|vrfy|expn)\s+[a-z0-9.-]+\s*(?:[\r\n]|$)",
    ),
    (
        rule("mail-imap-command", Mail, 1, Critical),
        r"[\r\n]\s*(?:[a-z]{1,8}\d+|\d+[a-z]+)[a-z0-9]*\s+(?:(?:capability|logout|noop|starttls|check|close|expunge|idle)\s*(?:[\r\n]|$)|(?:uid\s+)?(?:fetch|store|copy|move|search)\s+[\d:*,]+|(?:login|authenticate|select|examine|create|delete|rename|subscribe|list|lsub|status|append)\s+\S)",
    ),
]);

pub fn detect(t: &Text<'_>, out: &mut Vec<&'static Rule>) {
    if t.has_any(b"\r\n") {
        TABLE.scan(t.s, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{fires, ids};

    #[test]
    fn attacks() {
        for p in [
            "a@b.c%0d%0aBcc: x@evil.com",
            "\r\nV100 CAPABILITY\r\nV101 FETCH 4791",
            "\r\nQUIT\r\n",
            "\nRCPT TO: test@evil.com\n",
            "x\ncc: y@evil.com",
        ] {
            assert!(fires(p, "mail-"), "{p}: {:?}", ids(p));
        }
    }

    #[test]
    fn benign() {
        for p in [
            "Dear team,\nto: whom it may concern",
            "Step\n2 list the items",
            "line\ndata is here",
            "hello\nworld",
        ] {
            assert!(!fires(p, "mail-"), "{p}: {:?}", ids(p));
        }
    }
}
