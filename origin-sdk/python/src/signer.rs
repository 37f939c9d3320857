//! `_native.sign`: the edge's signer, for tests and for apps that want to
//! exercise their verification with signed requests.

use crate::request::{fields, Request};
use origin_sdk::{SigningKey, Signer};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A signing key from `keyid:ed25519:BASE64_SEED` or `keyid:hmac:BASE64`
/// (the edge's `EDGE_SIGNING_KEY` format).
fn signing_key(spec: &str) -> PyResult<SigningKey> {
    let bad = |why: String| PyValueError::new_err(format!("signing key: {why}"));
    let mut parts = spec.trim().splitn(3, ':');
    let (keyid, alg, material) = match (parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(a), Some(m)) if !k.is_empty() => (k, a, m),
        _ => return Err(bad("expected `keyid:ed25519:BASE64` or `keyid:hmac:BASE64`".into())),
    };
    match alg {
        "ed25519" => SigningKey::ed25519_from_base64(keyid, material),
        "hmac" => SigningKey::hmac_from_base64(keyid, material),
        other => return Err(bad(format!("unknown algorithm `{other}`"))),
    }
    .map_err(|e| bad(e.to_string()))
}

/// Signs like the edge: returns `(signature_input, signature)` field values
/// over the default components, which must all be present in `headers`.
#[pyfunction]
#[pyo3(signature = (key, method, url, headers, created, nonce, validity=60))]
pub fn sign(key: &str, method: &str, url: &str, headers: &Bound<'_, PyAny>, created: u64, nonce: &str, validity: u64) -> PyResult<(String, String)> {
    let req = Request::new(method, url, fields(headers)?);
    let out = Signer::new(signing_key(key)?)
        .validity(validity)
        .signature_headers(&req, created, nonce)
        .map_err(|e| PyValueError::new_err(format!("cannot sign: {e}")))?;
    Ok((out.signature_input, out.signature))
}
