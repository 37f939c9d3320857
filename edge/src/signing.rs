//! Signing forwarded requests (RFC 9421) with origin-sdk's one implementation
//! of the signature base, so the origin checks exactly what the edge signed.

use std::borrow::Cow;

use origin_sdk::base::Message;
use origin_sdk::keys::SigningKey;
use origin_sdk::sign::{SignError, SignatureHeaders, Signer};

use crate::rules::Server;

/// Name of the Worker secret holding the signing key, set with
/// `wrangler secret put EDGE_SIGNING_KEY`. Never read from KV.
pub const SECRET_NAME: &str = "EDGE_SIGNING_KEY";

/// Parses the secret: `keyid:ed25519:BASE64_SEED` (32-byte Ed25519 seed; the
/// origin holds only the public key) or `keyid:hmac:BASE64_SECRET`.
///
/// The error never repeats the secret.
pub fn signing_key(spec: &str) -> Result<SigningKey, String> {
    let mut parts = spec.trim().splitn(3, ':');
    let (Some(keyid), Some(alg), Some(material)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("{SECRET_NAME} must be keyid:ed25519:BASE64 or keyid:hmac:BASE64"));
    };
    if keyid.is_empty() {
        return Err(format!("{SECRET_NAME} has an empty keyid"));
    }
    let key = match alg {
        "ed25519" => SigningKey::ed25519_from_base64(keyid, material),
        "hmac" | "hmac-sha256" => SigningKey::hmac_from_base64(keyid, material),
        other => return Err(format!("{SECRET_NAME}: unknown algorithm {other:?} (ed25519 or hmac)")),
    };
    key.map_err(|e| format!("{SECRET_NAME}: {e}"))
}

/// The request as it will leave the edge.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub method: &'a str,
    pub headers: &'a [(String, String)],
    scheme: Cow<'a, str>,
    authority: Cow<'a, str>,
    path: Cow<'a, str>,
    query: Option<&'a str>,
}

impl<'a> Outgoing<'a> {
    pub fn new(method: &'a str, url: &'a url::Url, headers: &'a [(String, String)]) -> Self {
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Self { method, headers, scheme: url.scheme().into(), authority: authority.into(), path: url.path().into(), query: url.query() }
    }

    /// To `server` for a request's (parsed, so already normalized) path and
    /// query: the parts [`Server::url_for`] joins, without parsing the joined
    /// URL again (the server's base was parsed when the document was).
    pub fn to_server(method: &'a str, server: &'a Server, path: &'a str, query: Option<&'a str>, headers: &'a [(String, String)]) -> Self {
        let (scheme, authority) = server.base.split_once("://").unwrap_or(("", &server.base));
        let path = if server.path_prefix.is_empty() { Cow::Borrowed(path) } else { Cow::Owned(format!("{}{path}", server.path_prefix)) };
        Self { method, headers, scheme: scheme.into(), authority: authority.into(), path, query }
    }
}

impl Message for Outgoing<'_> {
    fn method(&self) -> Option<&str> {
        Some(self.method)
    }
    fn scheme(&self) -> Option<&str> {
        Some(&self.scheme)
    }
    fn authority(&self) -> Option<&str> {
        Some(&self.authority)
    }
    fn path(&self) -> Option<&str> {
        Some(&self.path)
    }
    fn query(&self) -> Option<&str> {
        self.query
    }
    fn field_values(&self, name: &str) -> Vec<&[u8]> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_bytes()).collect()
    }
    fn field_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// Signs an outgoing request; `created` in seconds, `nonce` the request id.
pub fn sign(signer: &Signer, out: &Outgoing<'_>, created: u64, nonce: &str) -> Result<SignatureHeaders, SignError> {
    signer.signature_headers(out, created, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts handed over without a parse sign what the parsed joined URL
    /// signs, for servers with and without a port and a path prefix.
    #[test]
    fn to_server_signs_what_the_joined_url_signs() {
        let headers = vec![("accept".to_string(), "*/*".to_string())];
        let params = origin_sdk::SignatureParams::new(["@method", "@authority", "@scheme", "@path", "@query", "@target-uri"].map(origin_sdk::Component::new));
        for base in ["http://127.0.0.1:9000", "https://app.internal", "https://App.Example:8443/api/v1/", "http://app/p%20q"] {
            let server = Server::parse(base, 1).expect("server");
            for (path, query) in [("/", None), ("/a/b%2Fc", Some("x=1&y=%20")), ("/caf%C3%A9", Some(""))] {
                let joined = url::Url::parse(&server.url_for(path, query)).expect("url");
                let by_parse = origin_sdk::signature_base(&Outgoing::new("GET", &joined, &headers), &params);
                let by_parts = origin_sdk::signature_base(&Outgoing::to_server("GET", &server, path, query, &headers), &params);
                assert_eq!(by_parts, by_parse, "{base} {path} {query:?}");
            }
        }
    }
}
