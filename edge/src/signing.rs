//! Signing forwarded requests (RFC 9421) with origin-sdk's one implementation
//! of the signature base, so the origin checks exactly what the edge signed.

use origin_sdk::base::Message;
use origin_sdk::keys::SigningKey;
use origin_sdk::sign::{SignError, SignatureHeaders, Signer};

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
    pub url: &'a url::Url,
    pub headers: &'a [(String, String)],
    authority: String,
}

impl<'a> Outgoing<'a> {
    pub fn new(method: &'a str, url: &'a url::Url, headers: &'a [(String, String)]) -> Self {
        let host = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Self { method, url, headers, authority }
    }
}

impl Message for Outgoing<'_> {
    fn method(&self) -> Option<&str> {
        Some(self.method)
    }
    fn scheme(&self) -> Option<&str> {
        Some(self.url.scheme())
    }
    fn authority(&self) -> Option<&str> {
        Some(&self.authority)
    }
    fn path(&self) -> Option<&str> {
        Some(self.url.path())
    }
    fn query(&self) -> Option<&str> {
        self.url.query()
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
