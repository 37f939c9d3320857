//! Key directories: a JWKS of Ed25519 and RSA (`rsa-pss-sha512`) keys, each
//! known by its RFC 7638 thumbprint, served with a signature by one of its own keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use origin_sdk::base::{Component, Message};
use origin_sdk::sf::BareItem;
use origin_sdk::keys::{KeySet, VerifyingKey};
use origin_sdk::verify::Verifier;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::verify::{Rejection, Window};
use super::{DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, DIRECTORY_TAG};

/// Most keys taken from one directory; real ones hold one or two.
const MAX_KEYS: usize = 16;

/// An agent's verified keys, each with `keyid` = its thumbprint.
#[derive(Clone, Default)]
pub struct Directory {
    pub keys: KeySet,
    pub thumbprints: Vec<String>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").field("thumbprints", &self.thumbprints).finish()
    }
}

impl PartialEq for Directory {
    fn eq(&self, other: &Self) -> bool {
        self.thumbprints == other.thumbprints
    }
}

/// RFC 7638 JWK SHA-256 thumbprint of an Ed25519 public key: the members
/// `crv`, `kty`, `x` in lexicographic order, no whitespace.
pub fn thumbprint(public: &[u8; 32]) -> String {
    let x = URL_SAFE_NO_PAD.encode(public);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
}

/// RFC 7638 thumbprint of an RSA public key (big-endian `n`, `e`): the
/// members `e`, `kty`, `n`, with the integers in their minimal encoding.
pub fn rsa_thumbprint(n: &[u8], e: &[u8]) -> String {
    let minimal = |b: &[u8]| -> String {
        let start = b.iter().position(|&x| x != 0).unwrap_or(b.len().saturating_sub(1));
        URL_SAFE_NO_PAD.encode(b.get(start..).unwrap_or_default())
    };
    let canonical = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, minimal(e), minimal(n));
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[derive(Deserialize)]
struct PublicJwk {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    n: Option<String>,
    e: Option<String>,
    alg: Option<String>,
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// The key a directory entry holds, with its thumbprint as keyid; `None` for
/// keys the edge does not verify with (other types, an RSA key whose `alg` is
/// not PS512, RSA under 2048 bits).
fn directory_key(jwk: PublicJwk) -> Option<(String, VerifyingKey)> {
    match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("OKP", Some("Ed25519")) => {
            let public = <[u8; 32]>::try_from(b64url(jwk.x.as_deref()?)?.as_slice()).ok()?;
            let id = thumbprint(&public);
            VerifyingKey::ed25519(id.clone(), &public).ok().map(|k| (id, k))
        }
        ("RSA", _) if jwk.alg.as_deref().is_none_or(|a| a == "PS512") => {
            let (n, e) = (b64url(jwk.n.as_deref()?)?, b64url(jwk.e.as_deref()?)?);
            let id = rsa_thumbprint(&n, &e);
            VerifyingKey::rsa_pss_sha512(id.clone(), &n, &e).ok().map(|k| (id, k))
        }
        _ => None,
    }
}

/// Parses a directory (a JWKS). Keys other than OKP/Ed25519 and RSA are
/// skipped; a directory without a usable key is an error.
pub fn parse_directory(bytes: &[u8]) -> Result<Directory, String> {
    let jwks: Jwks = serde_json::from_slice(bytes).map_err(|e| format!("directory is not a JWKS: {e}"))?;
    let mut dir = Directory::default();
    for value in jwks.keys.into_iter().take(MAX_KEYS) {
        let Ok(jwk) = serde_json::from_value::<PublicJwk>(value) else { continue };
        let Some((id, key)) = directory_key(jwk) else { continue };
        if !dir.thumbprints.contains(&id) {
            dir.keys.insert(key);
            dir.thumbprints.push(id);
        }
    }
    if dir.thumbprints.is_empty() {
        return Err("directory has no Ed25519 or RSA key".into());
    }
    Ok(dir)
}

/// A directory is served as `application/http-message-signatures-directory+json`
/// (plain `application/json` from servers that predate the draft's type is
/// accepted): an HTML error page or a text file is not a key directory.
pub fn directory_media_type(headers: &[(String, String)]) -> Result<(), String> {
    let ct = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str());
    let essence = ct.map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some(DIRECTORY_MEDIA_TYPE | "application/json") => Ok(()),
        Some(other) => Err(format!("content-type `{other}` is not {DIRECTORY_MEDIA_TYPE}")),
        None => Err(format!("no content-type (expected {DIRECTORY_MEDIA_TYPE})")),
    }
}

/// The directory URL of an agent origin (`https://agent.example`).
pub fn directory_url(origin: &str) -> String {
    format!("{}{DIRECTORY_PATH}", origin.trim_end_matches('/'))
}

/// A directory response as a signed message: its signature covers
/// `"@authority";req`, the authority of the request that fetched it
/// (draft-meunier-http-message-signatures-directory).
#[derive(Debug)]
pub struct DirectoryResponse<'a> {
    pub authority: &'a str,
    pub headers: &'a [(String, String)],
}

impl Message for DirectoryResponse<'_> {
    fn method(&self) -> Option<&str> {
        None
    }
    fn scheme(&self) -> Option<&str> {
        None
    }
    fn authority(&self) -> Option<&str> {
        Some(self.authority)
    }
    fn path(&self) -> Option<&str> {
        None
    }
    fn query(&self) -> Option<&str> {
        None
    }
    fn field_values(&self, name: &str) -> Vec<&[u8]> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_bytes()).collect()
    }
    fn field_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
    /// The fetching request is known only by its authority, which this value
    /// already carries: `;req` components read it from here.
    fn related_request(&self) -> Option<&dyn Message> {
        Some(self)
    }
}

/// The components a directory response signature must cover: `"@authority";req`.
pub fn directory_components() -> Vec<Component> {
    vec![Component::new("@authority").with_param("req", BareItem::Boolean(true))]
}

/// Checks that a fetched directory is signed by one of its own keys
/// (`tag="http-message-signatures-directory"`, `@authority` covered, fresh):
/// a response from somewhere else cannot plant keys.
pub fn verify_directory_response(dir: &Directory, resp: &DirectoryResponse<'_>, window: Window, now_s: u64) -> Result<(), Rejection> {
    Verifier::new(dir.keys.clone())
        .required_tag(Some(DIRECTORY_TAG))
        .required_components(directory_components())
        .require_nonce(false)
        .max_skew(window.max_skew_secs)
        .max_validity(window.max_validity_secs)
        .verify_signature(resp, now_s)
        .map(|_| ())
        .map_err(Rejection::DirectorySignature)
}
