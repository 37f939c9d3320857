//! An `http::Request` from the parts a JS caller has: method, URL and header
//! lines. Refuses what is not HTTP (the caller gets a `malformed` error)
//! rather than guessing, so the signature base is the one the edge signed.

use origin_sdk::VerifyError;

fn malformed(what: String) -> VerifyError {
    VerifyError::Malformed(what)
}

/// A JS string as the bytes of an HTTP field value. Node and Fetch expose
/// field bytes as one UTF-16 unit per byte (latin-1, a "ByteString"), so a
/// character above U+00FF cannot have come off the wire.
pub fn byte_string(s: &str) -> Option<Vec<u8>> {
    if s.is_ascii() {
        return Some(s.as_bytes().to_vec());
    }
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Builds the request; `headers` are (name, value) lines in message order,
/// repeated names kept. HTTP/2 pseudo-headers (`:path`) are not fields and are
/// skipped.
pub fn build<'a>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<http::Request<()>, VerifyError> {
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|_| malformed(format!("method `{}` is not an HTTP token", method.escape_debug())))?;
    let uri: http::Uri = url.parse().map_err(|_| malformed(format!("URL `{}` is not an absolute or origin-form URI", url.escape_debug())))?;
    let mut req = http::Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    let map = req.headers_mut();
    for (name, value) in headers {
        if name.starts_with(':') {
            continue;
        }
        let n = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| malformed(format!("header name `{}` is not a token", name.escape_debug())))?;
        let v = byte_string(value)
            .and_then(|b| http::HeaderValue::from_bytes(&b).ok())
            .ok_or_else(|| malformed(format!("header `{n}` has a value that is not an HTTP field value")))?;
        map.append(n, v);
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_bytes_and_refusals() {
        assert_eq!(byte_string("caf\u{e9}"), Some(b"caf\xe9".to_vec()));
        assert_eq!(byte_string("\u{20ac}"), None);
        let r = build("GET", "/a?b=1", [("Host", "h.example"), ("Accept", "x"), ("accept", "y"), (":path", "/a")]).unwrap();
        assert_eq!(r.headers().get_all("accept").iter().count(), 2);
        assert!(r.headers().get(":path").is_none());
        for (m, u, h) in [("GE T", "/", "a"), ("GET", "not a url", "a"), ("GET", "/", "bad name"), ("GET", "/", "\u{20ac}")] {
            let name = if h == "\u{20ac}" { "x" } else { h };
            let value = if h == "\u{20ac}" { h } else { "v" };
            assert!(matches!(build(m, u, [(name, value)]), Err(VerifyError::Malformed(_))), "{m} {u} {h}");
        }
        assert!(build("GET", "/", [("x", "a\nb")]).is_err());
    }
}
