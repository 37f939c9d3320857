//! Splits a request into named fields (the CRS "targets"): path, query and form
//! parameters, cookies, inspectable headers, multipart fields and filenames, JSON keys and
//! string values, XML text and attribute values. Values stay raw (undecoded) so that the
//! decode chain sees exactly what the attacker sent.

use std::borrow::Cow;

use super::decode::{html_decode, truncate, url_decode};
use super::Inspectable;

/// Fields taken from one request; the rest are ignored (bounded work).
pub const MAX_FIELDS: usize = 256;
/// JSON nesting followed.
pub const MAX_JSON_DEPTH: usize = 32;
/// Characters of a field name kept in its target label.
const MAX_NAME: usize = 64;

/// What a field is, which decides the detectors that run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Path,
    /// A parameter/JSON key (NoSQL operators, prototype pollution live here).
    Key,
    Value,
    Header,
    /// A whole XML document: only structure-level (XXE) rules apply.
    XmlDoc,
}

#[derive(Debug)]
pub struct Field<'a> {
    pub target: String,
    pub value: Cow<'a, str>,
    pub kind: Kind,
}

/// Headers never inspected: credentials (never logged or matched), Cloudflare/edge trust
/// headers (set by infrastructure, not the client), and fixed-grammar negotiation headers
/// whose syntax (`*/*;q=0.8`) only produces false positives.
fn skip_header(name: &str) -> bool {
    const SKIP: &[&str] = &[
        "authorization",
        "proxy-authorization",
        "cookie",
        "content-length",
        "content-type",
        "accept",
        "accept-encoding",
        "accept-language",
        "connection",
        "cache-control",
        "pragma",
        "upgrade-insecure-requests",
        "if-none-match",
        "if-modified-since",
        "priority",
        "dnt",
        "te",
        "host",
        "cdn-loop",
        "true-client-ip",
        "x-real-ip",
    ];
    SKIP.iter().any(|s| s.eq_ignore_ascii_case(name))
        || starts_with_ci(name, "cf-")
        || starts_with_ci(name, "x-edge-")
        || starts_with_ci(name, "sec-ch-")
        || starts_with_ci(name, "sec-fetch-")
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn label(prefix: &str, name: &str) -> String {
    let name = truncate(name, MAX_NAME);
    let mut s = String::with_capacity(prefix.len() + 1 + name.len());
    s.push_str(prefix);
    s.push(':');
    // ASCII names (nearly all) only need a byte check; C1 controls need chars.
    let control = if name.is_ascii() {
        name.bytes().any(|b| b.is_ascii_control())
    } else {
        name.chars().any(char::is_control)
    };
    if control {
        s.extend(name.chars().map(|c| if c.is_control() { '?' } else { c }));
    } else {
        s.push_str(name);
    }
    s
}

/// Only names with punctuation can carry an attack; plain identifiers are skipped.
fn interesting_key(k: &str) -> bool {
    !k.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

struct Sink<'a> {
    out: Vec<Field<'a>>,
}

impl<'a> Sink<'a> {
    fn push(&mut self, target: String, value: Cow<'a, str>, kind: Kind) {
        if self.out.len() < MAX_FIELDS && !value.is_empty() {
            self.out.push(Field {
                target,
                value,
                kind,
            });
        }
    }

    fn full(&self) -> bool {
        self.out.len() >= MAX_FIELDS
    }
}

/// All fields of `req`, with at most `body_limit` body bytes looked at.
pub fn fields<'a>(req: &Inspectable<'a>, body_limit: usize) -> Vec<Field<'a>> {
    let mut sink = Sink { out: Vec::new() };
    sink.push("path".into(), Cow::Borrowed(req.path), Kind::Path);
    pairs(&mut sink, "query", req.query, '&');
    for (name, value) in &req.headers {
        if name.eq_ignore_ascii_case("cookie") {
            for part in value.split(';') {
                let (k, v) = part.trim().split_once('=').unwrap_or(("", part.trim()));
                sink.push(label("cookie", k), Cow::Borrowed(v), Kind::Value);
            }
        } else if !skip_header(name) {
            sink.push(
                label("header", &name.to_ascii_lowercase()),
                Cow::Borrowed(value),
                Kind::Header,
            );
        }
    }
    let body = &req.body[..req.body.len().min(body_limit)];
    if !body.is_empty() && !sink.full() {
        body_fields(&mut sink, req.content_type.unwrap_or(""), body);
    }
    sink.out
}

/// `a=1&b=2` style pairs (query strings, urlencoded forms). Values stay raw.
fn pairs<'a>(sink: &mut Sink<'a>, prefix: &str, s: &'a str, sep: char) {
    for part in s.split(sep) {
        if sink.full() {
            return;
        }
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let name = url_decode(k).map(Cow::Owned).unwrap_or(Cow::Borrowed(k));
        if interesting_key(&name) {
            sink.push(label(prefix, &name), Cow::Borrowed(k), Kind::Key);
        }
        sink.push(label(prefix, &name), Cow::Borrowed(v), Kind::Value);
    }
}

fn body_fields<'a>(sink: &mut Sink<'a>, content_type: &str, body: &'a [u8]) {
    let ct = content_type.trim().to_ascii_lowercase();
    let mime = ct.split(';').next().unwrap_or("").trim();
    let text = String::from_utf8_lossy(body);
    if mime == "application/x-www-form-urlencoded" {
        match text {
            Cow::Borrowed(t) => pairs(sink, "body", t, '&'),
            Cow::Owned(t) => owned_pairs(sink, &t),
        }
    } else if mime == "multipart/form-data" {
        multipart(sink, &ct, content_type, &text);
    } else if mime.ends_with("json") {
        if !json(sink, body) {
            sink.push("body".into(), text, Kind::Value);
        }
    } else if mime.ends_with("xml") {
        xml(sink, &text);
        sink.push("body".into(), text, Kind::XmlDoc);
    } else if mime.starts_with("image/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime == "application/octet-stream"
        || mime == "application/grpc"
    {
        // Binary payloads: signatures would only produce noise.
    } else {
        // Unknown or missing type: sniff JSON/XML, else inspect the text as one value.
        let t = text.trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            if json(sink, body) {
                return;
            }
        } else if t.starts_with('<') {
            xml(sink, &text);
            sink.push("body".into(), Cow::Owned(text.to_string()), Kind::XmlDoc);
        }
        sink.push("body".into(), text, Kind::Value);
    }
}

fn owned_pairs(sink: &mut Sink<'_>, s: &str) {
    for part in s.split('&') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let name = url_decode(k).unwrap_or_else(|| k.to_string());
        sink.push(label("body", &name), Cow::Owned(v.to_string()), Kind::Value);
    }
}

/// Value of `key=` in a header parameter list (`boundary=...`, `name="..."`).
fn param<'s>(header: &'s str, lower: &str, key: &str) -> Option<&'s str> {
    let mut from = 0;
    while let Some(pos) = lower.get(from..)?.find(key) {
        let at = from + pos;
        let boundary_ok = at == 0 || matches!(lower.as_bytes()[at - 1], b';' | b' ' | b'\t');
        if boundary_ok && lower.as_bytes().get(at + key.len()) == Some(&b'=') {
            let rest = header.get(at + key.len() + 1..)?;
            return Some(if let Some(q) = rest.strip_prefix('"') {
                q.split('"').next().unwrap_or("")
            } else {
                rest.split(';').next().unwrap_or("").trim()
            });
        }
        from = at + key.len();
    }
    None
}

fn multipart(sink: &mut Sink<'_>, lower_ct: &str, ct: &str, body: &str) {
    let Some(boundary) = param(ct, lower_ct, "boundary").filter(|b| !b.is_empty()) else {
        sink.push("body".into(), Cow::Owned(body.to_string()), Kind::Value);
        return;
    };
    let delim = format!("--{boundary}");
    for part in body.split(delim.as_str()).skip(1) {
        if sink.full() || part.starts_with("--") {
            break;
        }
        let part = part
            .strip_prefix("\r\n")
            .or_else(|| part.strip_prefix('\n'))
            .unwrap_or(part);
        let (head, content) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))
            .unwrap_or((part, ""));
        let content = content
            .strip_suffix("\r\n")
            .or_else(|| content.strip_suffix('\n'))
            .unwrap_or(content);
        let head_lower = head.to_ascii_lowercase();
        let name = param(head, &head_lower, "name").unwrap_or("");
        let target = label("body", name);
        if interesting_key(name) {
            sink.push(target.clone(), Cow::Owned(name.to_string()), Kind::Key);
        }
        match param(head, &head_lower, "filename") {
            // File content is opaque data; its name is attacker-chosen text.
            Some(filename) => sink.push(target, Cow::Owned(filename.to_string()), Kind::Value),
            None => sink.push(target, Cow::Owned(content.to_string()), Kind::Value),
        }
    }
}

/// Walk a JSON document; `false` if it does not parse.
fn json(sink: &mut Sink<'_>, body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let mut path = String::new();
    walk_json(sink, v, &mut path, 0);
    true
}

/// Takes the document by value so string values and keys move into fields uncopied.
fn walk_json(sink: &mut Sink<'_>, v: serde_json::Value, path: &mut String, depth: usize) {
    if depth > MAX_JSON_DEPTH || sink.full() {
        return;
    }
    match v {
        serde_json::Value::String(s) => {
            let name = if path.is_empty() {
                "body".to_string()
            } else {
                label("body", path)
            };
            sink.push(name, Cow::Owned(s), Kind::Value);
        }
        serde_json::Value::Array(items) => {
            for item in items {
                walk_json(sink, item, path, depth + 1);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(truncate(&k, MAX_NAME));
                if interesting_key(&k) {
                    sink.push(label("body", path), Cow::Owned(k), Kind::Key);
                }
                walk_json(sink, item, path, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Flat XML scan: text nodes (entity-decoded, CDATA as-is) under `body:ELEMENT` and
/// attribute values under `body:ELEMENT@ATTR`. Not a validating parser; it only needs
/// to surface the strings an application would read.
fn xml(sink: &mut Sink<'_>, doc: &str) {
    let mut rest = doc;
    let mut element = String::new();
    while !rest.is_empty() && !sink.full() {
        let Some(lt) = rest.find('<') else {
            push_text(sink, &element, rest);
            return;
        };
        push_text(sink, &element, &rest[..lt]);
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").unwrap_or(r.len());
            push_text(sink, &element, &r[..end]);
            rest = r.get(end + 3..).unwrap_or("");
            continue;
        }
        if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.find("-->").and_then(|e| r.get(e + 3..)).unwrap_or("");
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[1..end];
        rest = rest.get(end + 1..).unwrap_or("");
        if tag.starts_with(['?', '!', '/']) {
            continue;
        }
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        element = truncate(&tag[..name_end], MAX_NAME).to_string();
        let mut attrs = &tag[name_end..];
        while let Some(eq) = attrs.find('=') {
            let attr = attrs[..eq].trim();
            let after = attrs[eq + 1..].trim_start();
            let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                break;
            };
            let val_all = &after[1..];
            let close = val_all.find(q).unwrap_or(val_all.len());
            let val = &val_all[..close];
            let decoded = html_decode(val).unwrap_or_else(|| val.to_string());
            sink.push(
                label("body", &format!("{element}@{attr}")),
                Cow::Owned(decoded),
                Kind::Value,
            );
            attrs = val_all.get(close + 1..).unwrap_or("");
        }
    }
}

fn push_text(sink: &mut Sink<'_>, element: &str, text: &str) {
    let t = text.trim();
    if t.is_empty() {
        return;
    }
    let decoded = html_decode(t).unwrap_or_else(|| t.to_string());
    let name = if element.is_empty() {
        "body".to_string()
    } else {
        label("body", element)
    };
    sink.push(name, Cow::Owned(decoded), Kind::Value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(ct: &'a str, body: &'a [u8]) -> Inspectable<'a> {
        Inspectable {
            path: "/a",
            query: "id=1&a%5B%24ne%5D=2&&flag",
            headers: vec![
                ("User-Agent", "x"),
                ("Authorization", "Bearer secret"),
                ("Cookie", "s=abc; t=d"),
                ("cf-connecting-ip", "1.2.3.4"),
                ("X-Custom", "v"),
            ],
            content_type: Some(ct),
            body,
        }
    }

    fn targets(f: &[Field<'_>]) -> Vec<String> {
        f.iter()
            .map(|f| format!("{}={:?}", f.target, f.kind))
            .collect()
    }

    #[test]
    fn query_headers_cookies() {
        let r = req("", b"");
        let t = targets(&fields(&r, 100));
        assert_eq!(
            t,
            [
                "path=Path",
                "query:id=Value",
                "query:a[$ne]=Key",
                "query:a[$ne]=Value",
                "header:user-agent=Header",
                "cookie:s=Value",
                "cookie:t=Value",
                "header:x-custom=Header"
            ]
            .map(String::from)
            .to_vec()
        );
        // `flag` has an empty value (dropped) and a plain name (not a key target).
    }

    #[test]
    fn json_form_multipart_xml() {
        let r = req(
            "application/json",
            br#"{"a":{"b":["x",{"$gt":"y"}]},"n":1}"#,
        );
        let f = fields(&r, 1000);
        assert!(f.iter().any(|f| f.target == "body:a.b" && f.value == "x"));
        assert!(f
            .iter()
            .any(|f| f.target == "body:a.b.$gt" && f.kind == Kind::Key));
        let r = req("application/x-www-form-urlencoded", b"q=%27+or&z=");
        assert!(fields(&r, 1000)
            .iter()
            .any(|f| f.target == "body:q" && f.value == "%27+or"));
        let mp = b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"../x.php\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n";
        let r = req("multipart/form-data; boundary=XyZ", mp);
        let f = fields(&r, 1000);
        assert!(f.iter().any(|f| f.target == "body:f" && f.value == "hello"));
        assert!(f
            .iter()
            .any(|f| f.target == "body:up" && f.value == "../x.php"));
        assert!(!f.iter().any(|f| f.value.contains("PNG")));
        let r = req(
            "text/xml",
            b"<?xml version=\"1.0\"?><a k=\"v&amp;w\"><b>t&lt;x</b><![CDATA[c]]></a>",
        );
        let f = fields(&r, 1000);
        assert!(f.iter().any(|f| f.target == "body:a@k" && f.value == "v&w"));
        assert!(f.iter().any(|f| f.target == "body:b" && f.value == "t<x"));
        assert!(f.iter().any(|f| f.kind == Kind::XmlDoc));
    }

    #[test]
    fn bounded() {
        let q = "a=1&".repeat(10_000);
        let r = Inspectable {
            query: &q,
            ..Default::default()
        };
        assert!(fields(&r, 0).len() <= MAX_FIELDS);
        let deep = "[".repeat(10_000);
        let r = Inspectable {
            content_type: Some("application/json"),
            body: deep.as_bytes(),
            ..Default::default()
        };
        let _ = fields(&r, 100_000);
        for ct in [
            "multipart/form-data; boundary=",
            "multipart/form-data",
            "text/xml",
            "application/json",
        ] {
            for body in [
                &b"<"[..],
                b"<a b=",
                b"<a b='",
                b"--",
                b"<![CDATA[",
                b"<!--",
                b"\xff\xfe",
            ] {
                let r = Inspectable {
                    content_type: Some(ct),
                    body,
                    ..Default::default()
                };
                let _ = fields(&r, 100);
            }
        }
    }
}
