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

#[cfg(test)]
mod tests {
    use super::*;

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
