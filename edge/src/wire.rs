//! The one-string framing between the shell's JavaScript glue and the core.
//!
//! Every JS↔wasm call costs about as much as a small Rust function does in
//! full, and reading a request field by field (one call per header name, per
//! value, per `request.cf` field) or writing headers one `append` at a time
//! made the boundary the edge's largest cost in workerd. So the glue hands
//! over, and takes back, one `\n`-separated string: fetch header names and
//! values never contain `\n` (the Headers class refuses CR and LF), and the
//! glue replaces it in the few `request.cf` strings that are not headers.

use crate::phases::respond::HeaderOp;
use crate::request::{BotManagement, CfInfo};

/// Fields before the headers in [`RequestParts`]' framing, in this order.
pub const REQUEST_FIELDS: [&str; 15] = [
    "method", "url", "country", "continent", "region", "regionCode", "city", "asn", "asOrganization", "colo",
    "httpProtocol", "tlsVersion", "botManagement", "botManagement.score", "botManagement.verifiedBot",
];

/// What the glue read from the request in one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParts {
    pub method: String,
    pub url: String,
    pub cf: CfInfo,
    /// Lowercase names, in the runtime's order (workerd sorts and combines them).
    pub headers: Vec<(String, String)>,
}

/// Parses `method \n url \n` the `request.cf` fields of [`REQUEST_FIELDS`]
/// (empty where absent or of another type) `\n` then `name \n value \n` per
/// header. Short or odd input yields what could be read, never a panic.
pub fn parse_request(text: &str) -> RequestParts {
    let mut it = text.split('\n');
    let mut next = || it.next().unwrap_or("");
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let method = next().to_string();
    let url = next().to_string();
    let mut cf = CfInfo {
        country: some(next()),
        continent: some(next()),
        region: some(next()),
        region_code: some(next()),
        city: some(next()),
        asn: next().parse().ok(),
        as_organization: some(next()),
        colo: some(next()),
        http_protocol: some(next()),
        tls_version: some(next()),
        bot_management: None,
    };
    let has_bm = next() == "1";
    let score = next().parse::<f64>().ok().filter(|s| (0.0..=100.0).contains(s)).map(|s| s as u8);
    let verified_bot = next() == "1";
    if has_bm {
        cf.bot_management = Some(BotManagement { score, verified_bot });
    }
    let mut headers = Vec::new();
    while let Some(name) = it.next() {
        let Some(value) = it.next() else { break };
        if !name.is_empty() {
            headers.push((name.to_ascii_lowercase(), value.to_string()));
        }
    }
    RequestParts { method, url, cf, headers }
}

/// `name \n value \n` per header, for the glue to build a `Headers` in one call.
pub fn header_lines<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::with_capacity(1024);
    for (n, v) in headers {
        out.push_str(n);
        out.push('\n');
        out.push_str(v);
        out.push('\n');
    }
    out
}

/// Header edits as `op \n name \n value \n` (`s` set, `d` delete, `a` set if
/// absent), for the glue to apply in one call. `None` for an edit the glue
/// cannot do alone (`AppendToken` reads the current value first).
pub fn op_line(op: &HeaderOp, out: &mut String) -> bool {
    let (code, name, value) = match op {
        HeaderOp::Set(n, v) => ("s", n, v.as_str()),
        HeaderOp::Remove(n) => ("d", n, ""),
        HeaderOp::SetIfAbsent(n, v) => ("a", n, v.as_str()),
        HeaderOp::AppendToken(..) => return false,
    };
    for part in [code, name.as_str(), value] {
        out.push_str(part);
        out.push('\n');
    }
    true
}

/// An absolute URL split into the parts the core keeps: scheme, host, port,
/// path, query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: Option<u16>,
    pub path: &'a str,
    pub query: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    /// The parts of a parsed URL (its host is already lowercase).
    pub fn of(u: &'a url::Url) -> Self {
        UrlParts { scheme: u.scheme(), host: u.host_str().unwrap_or_default(), port: u.port(), path: u.path(), query: u.query() }
    }
}

/// `request.url` split without a parse when it is in the canonical form the
/// runtime serializes (lowercase `http(s)` scheme and host, no default port,
/// no userinfo, dot segments or characters a parser would encode), where a
/// URL parser would give back the same parts; `None` for anything else, which
/// the caller parses in full. A test compares the two on generated URLs.
pub fn split_canonical_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let slash = rest.find('/')?;
    let (authority, target) = rest.split_at(slash);
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => {
            let bytes = p.as_bytes();
            if bytes.is_empty() || bytes.len() > 5 || bytes[0] == b'0' || !bytes.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let port: u16 = p.parse().ok()?;
            (h, (port != default_port).then_some(port)?.into())
        }
        None => (authority, None),
    };
    if !canonical_host(host) {
        return None;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let kept = |b: u8, extra: &[u8]| (0x21..0x7f).contains(&b) && !b"\"#<>`{}\\^|'".contains(&b) && !extra.contains(&b);
    let encoded_dot = path.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'e'));
    if !path.bytes().all(|b| kept(b, b"?")) || path.contains("/.") || encoded_dot {
        return None;
    }
    if !query.unwrap_or("").bytes().all(|b| kept(b, b"")) {
        return None;
    }
    Some(UrlParts { scheme, host, port, path, query })
}

/// A host a URL parser keeps as is: a lowercase ASCII domain of non-empty
/// labels (no punycode, which it would check) not ending in a number, or a
/// dotted-quad IPv4 address without leading zeros.
fn canonical_host(host: &str) -> bool {
    let ok_label = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if host.is_empty() || !host.split('.').all(ok_label) || host.contains("xn--") {
        return false;
    }
    let last_is_number = host.rsplit('.').next().is_some_and(|l| l.starts_with(|c: char| c.is_ascii_digit()));
    if !last_is_number {
        return true;
    }
    host.split('.').count() == 4
        && host.split('.').all(|l| {
            l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) && (l.len() == 1 || !l.starts_with('0')) && l.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the split answers, it gives what a full parse gives, on URLs
    /// built from the characters and shapes that parsers treat specially.
    #[test]
    fn canonical_split_agrees_with_a_parse() {
        use proptest::prelude::*;
        let plain = prop::sample::select(vec!["a", "b", "/", "-", "=", "&", "1", "%41", "~"]);
        let odd = prop::sample::select(vec![
                "a", "Z", "0", "9", "-", ".", "..", "/", "//", "%2e", "%2E", "%41", "%", "?", "#", "@", ":", "\\", " ", "\"", "'", "<",
                "`", "{", "^", "|", "~", "!", "$", "&", "=", "+", ",", ";", "[", "]", "é", "\t", "xn--", "0x", "256", "08",
        ]);
        let part = prop::collection::vec(prop_oneof![6 => plain, 1 => odd], 0..8).prop_map(|v| v.concat());
        let scheme = prop::sample::select(vec!["http", "https", "http", "https", "HTTP", "ftp", "ws"]);
        let host = prop::sample::select(vec![
            "shop.example", "shop.example", "shop.example", "127.0.0.1", "Shop.example", "127.0.0.1", "127.1", "0x7f.0.0.1", "010.0.0.1", "256.0.0.1", "a..b", "1.2.3", "app-1.internal",
            "xn--caf-dma.example", "user@host", "[::1]", "example.com.", "9ab", "ab.9",
        ]);
        let port = prop::sample::select(vec!["", "", "", "", ":8080", ":80", ":443", ":8080", ":0", ":08080", ":65535", ":65536", ":"]);
        let urls = (scheme, host, port, part.clone(), prop::option::of(part)).prop_map(|(s, h, p, path, q)| {
            let mut u = format!("{s}://{h}{p}/{path}");
            if let Some(q) = q {
                u.push('?');
                u.push_str(&q);
            }
            u
        });
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config { cases: 4000, ..Default::default() });
        let fast = std::cell::Cell::new(0);
        runner
            .run(&urls, |u| {
                if let Some(parts) = split_canonical_url(&u) {
                    fast.set(fast.get() + 1);
                    let parsed = url::Url::parse(&u).map_err(|e| TestCaseError::fail(format!("{u}: {e}")))?;
                    prop_assert_eq!(parts, UrlParts::of(&parsed), "{}", u);
                }
                Ok(())
            })
            .unwrap();
        assert!(fast.get() > 300, "the split should answer for plain URLs ({} of 4000)", fast.get());
    }

    #[test]
    fn canonical_split_of_plain_urls() {
        let p = split_canonical_url("https://shop.example:8443/a/b%20c?q=1&r").unwrap();
        assert_eq!((p.scheme, p.host, p.port, p.path, p.query), ("https", "shop.example", Some(8443), "/a/b%20c", Some("q=1&r")));
        assert_eq!(split_canonical_url("http://127.0.0.1/health").map(|p| p.port), Some(None));
        for odd in ["http://a/./b", "http://a:80/", "http://A/", "http://a/b#f", "http://u@a/", "http://a/%2E%2E/", "file:///x", "http://a"] {
            assert_eq!(split_canonical_url(odd), None, "{odd}");
        }
    }

    fn framed(cf: [&str; 13], headers: &[(&str, &str)]) -> String {
        let mut s = format!("GET\nhttps://shop.example/a?b=1\n{}\n", cf.join("\n"));
        s.push_str(&header_lines(headers.iter().copied()));
        s
    }

    #[test]
    fn request_round_trip() {
        let text = framed(
            ["DE", "EU", "Hesse", "HE", "Frankfurt", "3320", "Deutsche Telekom", "FRA", "HTTP/2", "TLSv1.3", "1", "87", "1"],
            &[("accept", "*/*"), ("X-Mixed", "a, b"), ("empty", "")],
        );
        let p = parse_request(&text);
        assert_eq!((p.method.as_str(), p.url.as_str()), ("GET", "https://shop.example/a?b=1"));
        assert_eq!(p.cf.country.as_deref(), Some("DE"));
        assert_eq!(p.cf.region_code.as_deref(), Some("HE"));
        assert_eq!(p.cf.asn, Some(3320));
        assert_eq!(p.cf.as_organization.as_deref(), Some("Deutsche Telekom"));
        assert_eq!(p.cf.tls_version.as_deref(), Some("TLSv1.3"));
        assert_eq!(p.cf.bot_management, Some(BotManagement { score: Some(87), verified_bot: true }));
        assert_eq!(
            p.headers,
            [("accept".to_string(), "*/*".to_string()), ("x-mixed".into(), "a, b".into()), ("empty".into(), "".into())]
        );
    }

    #[test]
    fn absent_and_odd_fields_are_none() {
        let p = parse_request(&framed(["", "", "", "", "", "AS13", "", "", "", "", "", "", ""], &[]));
        assert_eq!(p.cf, CfInfo::default());
        assert!(p.headers.is_empty());
        let p = parse_request(&framed(["", "", "", "", "", "", "", "", "", "", "1", "999", ""], &[]));
        assert_eq!(p.cf.bot_management, Some(BotManagement { score: None, verified_bot: false }));
    }

    #[test]
    fn truncated_input_never_panics() {
        let full = framed(["DE"; 13], &[("a", "1"), ("b", "2")]);
        for cut in 0..full.len() {
            let _ = parse_request(&full[..cut]);
        }
        assert_eq!(parse_request("").headers, []);
    }

    #[test]
    fn ops_framing() {
        let mut s = String::new();
        assert!(op_line(&HeaderOp::Set("x-a".into(), "1".into()), &mut s));
        assert!(op_line(&HeaderOp::Remove("server".into()), &mut s));
        assert!(op_line(&HeaderOp::SetIfAbsent("x-b".into(), "2".into()), &mut s));
        assert!(!op_line(&HeaderOp::AppendToken("vary".into(), "origin".into()), &mut s));
        assert_eq!(s, "s\nx-a\n1\nd\nserver\n\na\nx-b\n2\n");
    }
}
