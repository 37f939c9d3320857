//! Verifying an agent's request signature against its directory.

use std::fmt;

use origin_sdk::base::{Component, Message};
use origin_sdk::verify::{VerifyError, Verifier};

use super::agent::{claim, Claim};
use super::directory::Directory;
use super::TAG;
use crate::request::RequestInfo;

/// How fresh a signature must be: `created`..`expires` at most
/// `max_validity_secs` long, both checked with `max_skew_secs` of clock skew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub max_skew_secs: u64,
    pub max_validity_secs: u64,
}

impl Default for Window {
    fn default() -> Self {
        Self { max_skew_secs: 10, max_validity_secs: 300 }
    }
}

/// A verified agent: its directory origin and the key that signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAgent {
    /// `https://agent.example`: the agent's identity.
    pub origin: String,
    /// RFC 7638 thumbprint of the signing key.
    pub thumbprint: String,
}

/// Why a request stays unverified.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// `Signature-Agent` is not an acceptable origin; says why.
    BadAgent(String),
    /// The request signature failed (tag, window, coverage, key, bytes).
    Signature(VerifyError),
    /// `keyid` is not the thumbprint of any key in the directory.
    KeyidNotThumbprint(String),
    /// The directory's own signature failed.
    DirectorySignature(VerifyError),
    /// The directory could not be had; says why.
    DirectoryUnavailable(String),
    /// The agent or key is denied, or not among the allowed.
    Refused(String),
    /// The signature's `alg` is neither `ed25519` nor `rsa-pss-sha512`.
    UnsupportedAlgorithm(String),
    /// An `@authority`-only signature whose `keyid` is in no pinned directory.
    KeyidNotPinned(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAgent(why) => write!(f, "bad Signature-Agent: {why}"),
            Self::Signature(e) => write!(f, "request signature: {e}"),
            Self::KeyidNotThumbprint(k) => write!(f, "keyid `{k}` is not the thumbprint of a directory key"),
            Self::DirectorySignature(e) => write!(f, "directory signature: {e}"),
            Self::DirectoryUnavailable(why) => write!(f, "directory unavailable: {why}"),
            Self::Refused(why) => write!(f, "agent refused: {why}"),
            Self::UnsupportedAlgorithm(a) => write!(f, "algorithm `{a}` is not supported (ed25519 or rsa-pss-sha512)"),
            Self::KeyidNotPinned(k) => write!(f, "keyid `{k}` is in no pinned directory (a signature without Signature-Agent needs a pinned key)"),
        }
    }
}

/// The origin named by a `Signature-Agent` value: a structured-field string
/// (`"https://agent.example"`), a dictionary member (`sig1="https://…"`) or
/// a bare URL. HTTPS only, except plain HTTP to loopback (local testing).
pub fn agent_origin(value: &str) -> Result<String, String> {
    let v = value.trim();
    let v = match v.split_once('=') {
        Some((label, rest)) if !label.contains(':') && !label.starts_with('"') => rest.trim(),
        _ => v,
    };
    let v = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(v);
    let url = url::Url::parse(v).map_err(|e| format!("not a URL ({e})"))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        s => return Err(format!("scheme {s} (https required)")),
    }
    if host.is_empty() || !url.username().is_empty() || url.password().is_some() {
        return Err("no host, or credentials in the URL".into());
    }
    Ok(url.origin().ascii_serialization())
}

/// A request as RFC 9421 sees it. `@authority` is the `Host` the client
/// addressed (what the agent signed), else host and port from the URL.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    req: &'a RequestInfo,
    authority: String,
}

impl<'a> SignedRequest<'a> {
    pub fn new(req: &'a RequestInfo) -> Self {
        let authority = match (req.header("host"), req.port) {
            (Some(h), _) => h.trim().to_ascii_lowercase(),
            (None, Some(p)) => format!("{}:{p}", req.host),
            (None, None) => req.host.clone(),
        };
        Self { req, authority }
    }
}

impl Message for SignedRequest<'_> {
    fn method(&self) -> Option<&str> {
        Some(&self.req.method)
    }
    fn scheme(&self) -> Option<&str> {
        Some(&self.req.scheme)
    }
    fn authority(&self) -> Option<&str> {
        Some(&self.authority)
    }
    fn path(&self) -> Option<&str> {
        Some(&self.req.path)
    }
    fn query(&self) -> Option<&str> {
        self.req.query.as_deref()
    }
    fn field_values(&self, name: &str) -> Vec<&[u8]> {
        self.req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_bytes()).collect()
    }
    fn field_names(&self) -> Vec<&str> {
        self.req.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// Verifies `req`'s Web Bot Auth signature with the keys of the directory of
/// `origin` (already resolved from its `Signature-Agent`). A `Signature-Agent`
/// the signature does not cover is refused: anyone could have added it.
pub fn verify_request(req: &RequestInfo, origin: &str, dir: &Directory, window: Window, now_s: u64) -> Result<SignedAgent, Rejection> {
    let claim = claim(req)?;
    if claim.agent.is_none() && req.header("signature-agent").is_some() {
        return Err(Rejection::Signature(VerifyError::ComponentNotCovered("signature-agent".into())));
    }
    verify_claim(req, &claim, origin, dir, window, now_s)
}

/// Verifies the signature `claim` found, which must cover `@authority` and
/// the `Signature-Agent` entry it names (if it names one), with `dir`'s keys.
pub fn verify_claim(req: &RequestInfo, claim: &Claim, origin: &str, dir: &Directory, window: Window, now_s: u64) -> Result<SignedAgent, Rejection> {
    let mut required = vec![Component::new("@authority")];
    if let Some((_, covered)) = &claim.agent {
        required.push(covered.clone());
    }
    let verified = Verifier::new(dir.keys.clone())
        .label(Some(&claim.label))
        .required_tag(Some(TAG))
        .required_components(required)
        .require_nonce(false)
        .max_skew(window.max_skew_secs)
        .max_validity(window.max_validity_secs)
        .verify_signature(&SignedRequest::new(req), now_s)
        .map_err(|e| match e {
            VerifyError::UnknownKeyId(k) => Rejection::KeyidNotThumbprint(k),
            e => Rejection::Signature(e),
        })?;
    Ok(SignedAgent { origin: origin.to_string(), thumbprint: verified.keyid })
}
