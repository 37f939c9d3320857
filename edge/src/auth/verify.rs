//! Compact JWS parsing and JWT validation: `&str` → [`UntrustedToken`] →
//! (signature) [`VerifiedJws`] → (claims) [`VerifiedToken`].
//!
//! Cryptography is delegated to `jwt-compact`'s algorithm implementations;
//! parsing is done here because it must be stricter than jwt-compact's
//! (duplicate JSON members, `crit`, key-reference headers, non-JSON JWS
//! payloads for the JWS-level API).

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Map, Value};

use super::{
    error::{JwtError, Part},
    json::{self, JsonError},
    keys::{Alg, KeyLookupError, KeyStore},
    policy::Policy,
};

/// Longest token accepted (bytes). Longer ones are refused before any
/// decoding so an attacker can't make us base64/JSON-parse megabytes.
pub const MAX_TOKEN_LEN: usize = 8192;

/// Header members that would let the token choose its own key.
const KEY_REFERENCE_HEADERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

/// A structurally valid compact JWS whose signature is not yet checked.
#[derive(Debug, Clone)]
pub struct UntrustedToken<'a> {
    signing_input: &'a str,
    header: Map<String, Value>,
    alg: Alg,
    kid: Option<String>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> UntrustedToken<'a> {
    /// Strictly parses a compact JWS: exactly three segments of canonical
    /// unpadded base64url (no whitespace, no `=`), a JSON-object header
    /// without duplicate members, a supported `alg`, no `crit`, and no
    /// `jku`/`x5u`/`jwk`/`x5c`.
    pub fn parse(token: &'a str) -> Result<Self, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::TokenTooLarge);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::InvalidStructure);
        };
        // An empty payload is a valid JWS (RFC 7515 allows it); header and
        // signature are not optional for us.
        if header_b64.is_empty() || signature_b64.is_empty() {
            return Err(JwtError::InvalidStructure);
        }
        let header_bytes = decode(header_b64, Part::Header)?;
        let payload = decode(payload_b64, Part::Payload)?;
        let signature = decode(signature_b64, Part::Signature)?;

        let header = json::parse_object(&header_bytes).map_err(|e| json_error(e, Part::Header))?;
        let alg = match header.get("alg") {
            Some(Value::String(name)) if name.eq_ignore_ascii_case("none") => {
                return Err(JwtError::AlgNone)
            }
            Some(Value::String(name)) => {
                Alg::from_name(name).ok_or(JwtError::UnsupportedAlgorithm)?
            }
            _ => return Err(JwtError::MalformedHeader("alg")),
        };
        if header.contains_key("crit") {
            return Err(JwtError::UnsupportedCritical);
        }
        if let Some(name) = KEY_REFERENCE_HEADERS
            .into_iter()
            .find(|h| header.contains_key(*h))
        {
            return Err(JwtError::ForbiddenHeader(name));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(JwtError::MalformedHeader("kid")),
        };
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
        Ok(Self {
            signing_input,
            header,
            alg,
            kid,
            payload,
            signature,
        })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The header's `kid`, if any (untrusted).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The decoded header (untrusted).
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// Selects keys by `kid`/`alg` and checks the signature.
    pub fn verify_signature(self, keys: &KeyStore) -> Result<VerifiedJws, JwtError> {
        let candidates =
            keys.candidates(self.kid.as_deref(), self.alg)
                .map_err(|err| match err {
                    KeyLookupError::UnknownKid => JwtError::UnknownKid,
                    KeyLookupError::NoKeyForAlgorithm => JwtError::NoMatchingKey,
                    _ => JwtError::AlgorithmMismatch {
                        key_alg: self
                            .kid
                            .as_deref()
                            .and_then(|kid| keys.iter().find(|k| k.kid() == Some(kid)))
                            .map_or(self.alg, |k| k.alg()),
                    },
                })?;
        let message = self.signing_input.as_bytes();
        if !candidates
            .iter()
            .any(|key| key.verify(message, &self.signature))
        {
            return Err(JwtError::InvalidSignature);
        }
        Ok(VerifiedJws {
            header: self.header,
            payload: self.payload,
            kid: self.kid,
            alg: self.alg,
        })
    }
}

/// A JWS whose signature verified against a configured key. The payload is
/// arbitrary bytes: use [`verify`] for JWTs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedJws {
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
    pub kid: Option<String>,
    pub alg: Alg,
}

/// A JWT that passed signature and policy checks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// `sub`, if present (must be a string).
    pub sub: Option<String>,
    /// Value of [`super::ForwardRule::user_claim`] (string, or number as
    /// decimal), if present.
    pub user: Option<String>,
    /// The policy's forwarded claims that were present.
    pub forwarded_claims: Map<String, Value>,
    /// Header `kid`, if any.
    pub kid: Option<String>,
    /// Algorithm the signature was verified with.
    pub alg: Alg,
    /// `exp` in seconds, if present (e.g. to bound a cache entry).
    pub expires_at: Option<u64>,
    /// All claims, e.g. for rate-limit keys on a claim.
    pub claims: Map<String, Value>,
}

impl VerifiedToken {
    /// A claim as a string usable as a key: strings as-is, numbers and
    /// booleans in JSON form; `None` for missing/null/objects/arrays.
    pub fn claim_str(&self, name: &str) -> Option<String> {
        scalar_string(self.claims.get(name)?)
    }
}

/// Verifies a compact JWS signature only (no claims, payload may be any
/// bytes).
pub fn verify_jws(token: &str, keys: &KeyStore) -> Result<VerifiedJws, JwtError> {
    UntrustedToken::parse(token)?.verify_signature(keys)
}

/// Verifies a JWT: signature with a pinned key, then `exp`/`nbf`/`iat`,
/// `iss`, `aud`, required claims and scopes against `policy` at `now_s`
/// (Unix seconds, injected so the core stays clock-free).
pub fn verify(
    token: &str,
    keys: &KeyStore,
    policy: &Policy,
    now_s: u64,
) -> Result<VerifiedToken, JwtError> {
    let jws = verify_jws(token, keys)?;
    let claims = json::parse_object(&jws.payload).map_err(|e| json_error(e, Part::Payload))?;
    check_claims(&claims, policy, now_s)?;

    let sub = match claims.get("sub") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(JwtError::MalformedClaim("sub")),
    };
    let user = claims
        .get(&policy.forward.user_claim)
        .and_then(|v| match v {
            Value::String(_) | Value::Number(_) => scalar_string(v),
            _ => None,
        });
    let forwarded_claims = policy
        .forward
        .claims
        .iter()
        .filter_map(|name| claims.get(name).map(|v| (name.clone(), v.clone())))
        .collect();
    let expires_at = numeric_date(&claims, "exp", Round::Down)?
        .map(|exp| exp.clamp(0, i128::from(u64::MAX)) as u64);
    Ok(VerifiedToken {
        sub,
        user,
        forwarded_claims,
        kid: jws.kid,
        alg: jws.alg,
        expires_at,
        claims,
    })
}

fn check_claims(claims: &Map<String, Value>, policy: &Policy, now_s: u64) -> Result<(), JwtError> {
    let now = i128::from(now_s);
    let leeway = i128::from(policy.leeway_s);

    // RFC 7519 §4.1.4: valid only while now < exp.
    match numeric_date(claims, "exp", Round::Down)? {
        Some(exp) if now >= exp.saturating_add(leeway) => return Err(JwtError::Expired),
        None if policy.require_exp => return Err(JwtError::MissingClaim("exp".to_owned())),
        _ => {}
    }
    // §4.1.5: valid once now >= nbf.
    if let Some(nbf) = numeric_date(claims, "nbf", Round::Up)? {
        if now.saturating_add(leeway) < nbf {
            return Err(JwtError::NotYetValid);
        }
    }
    if let Some(iat) = numeric_date(claims, "iat", Round::Up)? {
        if iat > now.saturating_add(i128::from(policy.max_iat_future_s)) {
            return Err(JwtError::IssuedInFuture);
        }
    }

    if !policy.issuers.is_empty() {
        match claims.get("iss") {
            None | Some(Value::Null) => return Err(JwtError::MissingClaim("iss".to_owned())),
            Some(Value::String(iss)) if policy.issuers.iter().any(|i| i == iss) => {}
            Some(Value::String(_)) => return Err(JwtError::InvalidIssuer),
            Some(_) => return Err(JwtError::MalformedClaim("iss")),
        }
    }

    if !policy.audiences.is_empty() {
        let accepted = |aud: &str| policy.audiences.iter().any(|a| a == aud);
        match claims.get("aud") {
            None | Some(Value::Null) => return Err(JwtError::MissingClaim("aud".to_owned())),
            Some(Value::String(aud)) => {
                if !accepted(aud) {
                    return Err(JwtError::InvalidAudience);
                }
            }
            Some(Value::Array(auds)) => {
                let mut any = false;
                for aud in auds {
                    match aud {
                        Value::String(aud) => any |= accepted(aud),
                        _ => return Err(JwtError::MalformedClaim("aud")),
                    }
                }
                if !any {
                    return Err(JwtError::InvalidAudience);
                }
            }
            Some(_) => return Err(JwtError::MalformedClaim("aud")),
        }
    }

    for name in &policy.required_claims {
        if matches!(claims.get(name), None | Some(Value::Null)) {
            return Err(JwtError::MissingClaim(name.clone()));
        }
    }

    if let Some(rule) = &policy.scopes {
        let insufficient = || JwtError::InsufficientScope {
            scope: if rule.all_of.is_empty() {
                rule.any_of.clone()
            } else {
                rule.all_of.clone()
            },
        };
        let granted: Vec<&str> = match claims.get(&rule.claim) {
            Some(Value::String(s)) => s.split_ascii_whitespace().collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => return Err(insufficient()),
        };
        let has = |s: &String| granted.contains(&s.as_str());
        if !rule.all_of.iter().all(has) {
            return Err(insufficient());
        }
        if !rule.any_of.is_empty() && !rule.any_of.iter().any(has) {
            return Err(insufficient());
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Round {
    /// For `exp`: a fractional expiry counts as the earlier second.
    Down,
    /// For `nbf`/`iat`: a fractional start counts as the later second.
    Up,
}

/// Reads a NumericDate (RFC 7519 §2): a JSON number of seconds, possibly
/// fractional. Any other type is malformed rather than "absent".
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
    round: Round,
) -> Result<Option<i128>, JwtError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let Value::Number(n) = value else {
        return Err(JwtError::MalformedClaim(name));
    };
    if let Some(v) = n.as_u64() {
        return Ok(Some(i128::from(v)));
    }
    if let Some(v) = n.as_i64() {
        return Ok(Some(i128::from(v)));
    }
    match n.as_f64() {
        // `as` saturates, so huge values stay ordered correctly.
        Some(f) if f.is_finite() => Ok(Some(match round {
            Round::Down => f.floor() as i128,
            Round::Up => f.ceil() as i128,
        })),
        _ => Err(JwtError::MalformedClaim(name)),
    }
}

fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Canonical unpadded base64url only. base64ct is constant-time and rejects
/// `=`, whitespace, non-alphabet bytes and non-zero trailing bits (so each
/// token has exactly one encoding).
fn decode(segment: &str, part: Part) -> Result<Vec<u8>, JwtError> {
    if !segment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(JwtError::InvalidBase64(part));
    }
    Base64UrlUnpadded::decode_vec(segment).map_err(|_| JwtError::InvalidBase64(part))
}

fn json_error(err: JsonError, part: Part) -> JwtError {
    match err {
        JsonError::DuplicateKey => JwtError::DuplicateJsonKey(part),
        JsonError::Syntax | JsonError::NotObject => JwtError::InvalidJson(part),
    }
}
