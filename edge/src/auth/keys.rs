//! Verification keys: a JWKS (RFC 7517) plus named HMAC secrets, each key
//! pinned to exactly one algorithm.
//!
//! Pinning is the defence against key confusion: the token header only
//! *selects* a key (by `kid`); it never decides how the key is used. An RSA
//! public key pinned to RS256 can never become an HMAC secret.

use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::{
    alg::{Ed25519, Es256, Hs256, Hs256Key, Hs384, Hs384Key, Hs512, Hs512Key, Rsa, RsaPublicKey},
    Algorithm, AlgorithmSignature,
};
use rsa::{traits::PublicKeyParts, BigUint};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json;

type P256Key = <Es256 as Algorithm>::VerifyingKey;
type Ed25519Key = <Ed25519 as Algorithm>::VerifyingKey;

/// Most keys tried for one token, so a token cannot make us run many
/// expensive signature checks.
pub const MAX_CANDIDATES: usize = 4;

/// Smallest RSA modulus accepted (RFC 7518 §3.3 requires ≥ 2048 bits).
pub const MIN_RSA_BITS: usize = 2048;

/// A JWS algorithm we can verify. Anything else (including `none`) is
/// refused before a key is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Alg {
    #[serde(rename = "HS256")]
    Hs256,
    #[serde(rename = "HS384")]
    Hs384,
    #[serde(rename = "HS512")]
    Hs512,
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "RS384")]
    Rs384,
    #[serde(rename = "RS512")]
    Rs512,
    #[serde(rename = "PS256")]
    Ps256,
    #[serde(rename = "PS384")]
    Ps384,
    #[serde(rename = "PS512")]
    Ps512,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl Alg {
    /// The JOSE name (`"RS256"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Exact, case-sensitive match on the JOSE name (RFC 7515 §4.1.1).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "HS256" => Self::Hs256,
            "HS384" => Self::Hs384,
            "HS512" => Self::Hs512,
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "PS256" => Self::Ps256,
            "PS384" => Self::Ps384,
            "PS512" => Self::Ps512,
            "ES256" => Self::Es256,
            "EdDSA" => Self::EdDsa,
            _ => return None,
        })
    }

    fn is_hmac(self) -> bool {
        matches!(self, Self::Hs256 | Self::Hs384 | Self::Hs512)
    }

    fn is_rsa(self) -> bool {
        matches!(
            self,
            Self::Rs256 | Self::Rs384 | Self::Rs512 | Self::Ps256 | Self::Ps384 | Self::Ps512
        )
    }

    /// RFC 7518 §3.2: an HMAC key must be at least as long as the hash.
    fn min_hmac_len(self) -> usize {
        match self {
            Self::Hs384 => 48,
            Self::Hs512 => 64,
            _ => 32,
        }
    }

    pub(crate) fn rsa(self) -> Rsa {
        match self {
            Self::Rs384 => Rsa::rs384(),
            Self::Rs512 => Rsa::rs512(),
            Self::Ps256 => Rsa::ps256(),
            Self::Ps384 => Rsa::ps384(),
            Self::Ps512 => Rsa::ps512(),
            _ => Rsa::rs256(),
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key could not be loaded. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The JWKS document is not a JSON object with a `keys` array (or has
    /// duplicate members).
    MalformedJwks,
    /// A JWK is not an object or a member has the wrong JSON type.
    MalformedJwk,
    /// `kty` is missing or not one we verify with (e.g. `oct` in a JWKS
    /// without `allow_oct`).
    UnsupportedKeyType,
    /// `crv` is not P-256 (EC) or Ed25519 (OKP).
    UnsupportedCurve,
    /// The JWK's `alg` is unknown to us or does not fit its key type.
    UnsupportedAlgorithm,
    /// `use` is not `sig`, or `key_ops` lacks `verify`.
    NotForVerification,
    /// A key parameter is missing, not base64url, or not a valid key.
    InvalidKeyMaterial(&'static str),
    /// RSA modulus under [`MIN_RSA_BITS`], HMAC secret shorter than the hash,
    /// or a small-order Ed25519 point.
    WeakKey,
    /// More keys than [`JwksOptions::max_keys`].
    TooManyKeys,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedJwks => f.write_str("malformed JWKS document"),
            Self::MalformedJwk => f.write_str("malformed JWK"),
            Self::UnsupportedKeyType => f.write_str("unsupported key type"),
            Self::UnsupportedCurve => f.write_str("unsupported curve"),
            Self::UnsupportedAlgorithm => f.write_str("unsupported or mismatched key algorithm"),
            Self::NotForVerification => f.write_str("key is not for signature verification"),
            Self::InvalidKeyMaterial(param) => write!(f, "invalid key parameter `{param}`"),
            Self::WeakKey => f.write_str("key too weak"),
            Self::TooManyKeys => f.write_str("too many keys"),
        }
    }
}

impl std::error::Error for KeyError {}

/// How JWKS keys without an `alg` member get pinned, and load limits.
///
/// JSON field names: `rsa_alg`, `allow_oct`, `max_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwksOptions {
    /// Algorithm for RSA keys with no `alg` (default RS256; e.g. PS256 for an
    /// IdP that only signs with PSS).
    pub rsa_alg: Alg,
    /// Accept `oct` (HMAC) keys inside a JWKS. Off by default: a published
    /// key set should never carry shared secrets; use
    /// [`KeyStore::add_secret`] for those.
    pub allow_oct: bool,
    /// Upper bound on keys kept from one document (default 32).
    pub max_keys: usize,
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self {
            rsa_alg: Alg::Rs256,
            allow_oct: false,
            max_keys: 32,
        }
    }
}

/// What [`KeyStore::add_jwks`] did with each key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwksReport {
    /// Keys added to the store.
    pub loaded: usize,
    /// Keys left out (with their `kid`, if it was a string) and why. A JWKS
    /// commonly mixes in encryption keys or other curves, so one unusable key
    /// does not fail the document.
    pub skipped: Vec<(Option<String>, KeyError)>,
}

enum Material {
    Hs256(Hs256Key),
    Hs384(Hs384Key),
    Hs512(Hs512Key),
    Rsa(RsaPublicKey),
    P256(P256Key),
    Ed25519(Ed25519Key),
}

/// One verification key and the single algorithm it may be used with.
pub struct Key {
    kid: Option<String>,
    alg: Alg,
    material: Material,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print material: HMAC keys are secrets.
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// The key's `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Checks `signature` over `message` with the pinned algorithm.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Hs256(k) => check(&Hs256, k, message, signature),
            Material::Hs384(k) => check(&Hs384, k, message, signature),
            Material::Hs512(k) => check(&Hs512, k, message, signature),
            Material::Rsa(k) => {
                // The rsa crate checks this too; doing it here keeps a
                // truncated/padded signature from reaching big-int code.
                signature.len() == k.size() && check(&self.alg.rsa(), k, message, signature)
            }
            Material::P256(k) => {
                es256_scalars_in_range(signature) && check(&Es256, k, message, signature)
            }
            Material::Ed25519(k) => check(&Ed25519, k, message, signature),
        }
    }
}

fn check<A: Algorithm>(alg: &A, key: &A::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    if let Some(len) = A::Signature::LENGTH {
        if signature.len() != len.get() {
            return false;
        }
    }
    match A::Signature::try_from_slice(signature) {
        Ok(sig) => alg.verify_signature(&sig, key, message),
        Err(_) => false,
    }
}

/// Order of the P-256 group, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// ES256 signatures are raw `r || s` (RFC 7518 §3.4); both must be in
/// `1..n`. The p256 crate enforces this as well; checking explicitly keeps
/// the guarantee independent of the backend (CVE-2022-21449 class bugs).
pub(crate) fn es256_scalars_in_range(signature: &[u8]) -> bool {
    if signature.len() != 64 {
        return false;
    }
    let (r, s) = signature.split_at(32);
    let in_range = |x: &[u8]| x.iter().any(|&b| b != 0) && x < &P256_N[..];
    in_range(r) && in_range(s)
}

/// The configured verification keys.
#[derive(Debug, Default)]
pub struct KeyStore {
    keys: Vec<Key>,
}

/// Why no key could be chosen for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyLookupError {
    /// No key has the token's `kid`: the JWKS may have rotated, so the shell
    /// may refetch it (with a cooldown).
    UnknownKid,
    /// Keys with this `kid` exist but none is pinned to the header's `alg`.
    AlgorithmMismatch,
    /// The token has no `kid` and no key is pinned to its `alg`.
    NoKeyForAlgorithm,
}

impl KeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a JWKS document into a new store; unusable keys are skipped
    /// (see [`KeyStore::add_jwks`]).
    pub fn from_jwks(jwks: &[u8], options: &JwksOptions) -> Result<Self, KeyError> {
        let mut store = Self::new();
        store.add_jwks(jwks, options)?;
        Ok(store)
    }

    /// Adds every usable key of a JWKS document (`{"keys": [...]}`).
    ///
    /// Fails only if the document itself is malformed; individual keys that
    /// cannot be used are listed in the report.
    pub fn add_jwks(&mut self, jwks: &[u8], options: &JwksOptions) -> Result<JwksReport, KeyError> {
        let doc = json::parse_object(jwks).map_err(|_| KeyError::MalformedJwks)?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(KeyError::MalformedJwks);
        };
        let mut report = JwksReport::default();
        for entry in entries {
            let kid = entry.get("kid").and_then(Value::as_str).map(str::to_owned);
            if report.loaded >= options.max_keys {
                report.skipped.push((kid, KeyError::TooManyKeys));
                continue;
            }
            match parse_jwk(entry, options) {
                Ok(key) => {
                    self.keys.push(key);
                    report.loaded += 1;
                }
                Err(err) => report.skipped.push((kid, err)),
            }
        }
        Ok(report)
    }

    /// Adds a parsed single JWK (e.g. one member of a JWKS).
    pub fn add_jwk(&mut self, jwk: &Value, options: &JwksOptions) -> Result<(), KeyError> {
        self.keys.push(parse_jwk(jwk, options)?);
        Ok(())
    }

    /// Adds an HMAC secret (e.g. read from a Worker secret named in the
    /// rules). `alg` must be HS256/384/512 and the secret at least as long as
    /// the hash output.
    pub fn add_secret(
        &mut self,
        kid: Option<&str>,
        alg: Alg,
        secret: &[u8],
    ) -> Result<(), KeyError> {
        let material = hmac_material(alg, secret)?;
        self.keys.push(Key {
            kid: kid.map(str::to_owned),
            alg,
            material,
        });
        Ok(())
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the store has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// All keys, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter()
    }

    /// Keys to try for a token with header `kid` and `alg`: with a `kid`,
    /// only keys of that `kid`; without, keys pinned to `alg`. At most
    /// [`MAX_CANDIDATES`]. `kid` is compared as an opaque string; it never
    /// names a file or URL.
    pub fn candidates(&self, kid: Option<&str>, alg: Alg) -> Result<Vec<&Key>, KeyLookupError> {
        let found: Vec<&Key> = match kid {
            Some(kid) => {
                let mut with_kid = self
                    .keys
                    .iter()
                    .filter(|k| k.kid.as_deref() == Some(kid))
                    .peekable();
                if with_kid.peek().is_none() {
                    return Err(KeyLookupError::UnknownKid);
                }
                let matching: Vec<&Key> = with_kid
                    .filter(|k| k.alg == alg)
                    .take(MAX_CANDIDATES)
                    .collect();
                if matching.is_empty() {
                    return Err(KeyLookupError::AlgorithmMismatch);
                }
                matching
            }
            None => {
                let matching: Vec<&Key> = self
                    .keys
                    .iter()
                    .filter(|k| k.alg == alg)
                    .take(MAX_CANDIDATES)
                    .collect();
                if matching.is_empty() {
                    return Err(KeyLookupError::NoKeyForAlgorithm);
                }
                matching
            }
        };
        Ok(found)
    }
}

fn hmac_material(alg: Alg, secret: &[u8]) -> Result<Material, KeyError> {
    if !alg.is_hmac() {
        return Err(KeyError::UnsupportedAlgorithm);
    }
    if secret.len() < alg.min_hmac_len() {
        return Err(KeyError::WeakKey);
    }
    Ok(match alg {
        Alg::Hs384 => Material::Hs384(Hs384Key::new(secret)),
        Alg::Hs512 => Material::Hs512(Hs512Key::new(secret)),
        _ => Material::Hs256(Hs256Key::new(secret)),
    })
}

fn opt_str<'a>(
    jwk: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, KeyError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::MalformedJwk),
    }
}

/// Decodes a base64url JWK parameter. Padding is tolerated (some IdPs emit
/// it); anything else non-canonical is not.
fn b64_param(
    jwk: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<Vec<u8>, KeyError> {
    let value = opt_str(jwk, name)?.ok_or(KeyError::InvalidKeyMaterial(name))?;
    let value = value.trim_end_matches('=');
    Base64UrlUnpadded::decode_vec(value).map_err(|_| KeyError::InvalidKeyMaterial(name))
}

fn parse_jwk(jwk: &Value, options: &JwksOptions) -> Result<Key, KeyError> {
    let Value::Object(jwk) = jwk else {
        return Err(KeyError::MalformedJwk);
    };
    let kid = opt_str(jwk, "kid")?.map(str::to_owned);
    let kty = opt_str(jwk, "kty")?.ok_or(KeyError::UnsupportedKeyType)?;
    let declared_alg = match opt_str(jwk, "alg")? {
        None => None,
        Some(name) => Some(Alg::from_name(name).ok_or(KeyError::UnsupportedAlgorithm)?),
    };
    if let Some(key_use) = opt_str(jwk, "use")? {
        if key_use != "sig" {
            return Err(KeyError::NotForVerification);
        }
    }
    match jwk.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if !ops.iter().any(|op| op.as_str() == Some("verify")) => {
            return Err(KeyError::NotForVerification);
        }
        Some(Value::Array(_)) => {}
        Some(_) => return Err(KeyError::MalformedJwk),
    }

    let (alg, material) = match kty {
        "RSA" => {
            let alg = declared_alg.unwrap_or(options.rsa_alg);
            if !alg.is_rsa() {
                return Err(KeyError::UnsupportedAlgorithm);
            }
            let n = BigUint::from_bytes_be(&b64_param(jwk, "n")?);
            let e = BigUint::from_bytes_be(&b64_param(jwk, "e")?);
            if n.bits() < MIN_RSA_BITS {
                return Err(KeyError::WeakKey);
            }
            let key = RsaPublicKey::new(n, e).map_err(|_| KeyError::InvalidKeyMaterial("n"))?;
            (alg, Material::Rsa(key))
        }
        "EC" => {
            if opt_str(jwk, "crv")? != Some("P-256") {
                return Err(KeyError::UnsupportedCurve);
            }
            let alg = declared_alg.unwrap_or(Alg::Es256);
            if alg != Alg::Es256 {
                return Err(KeyError::UnsupportedAlgorithm);
            }
            let x = b64_param(jwk, "x")?;
            let y = b64_param(jwk, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err(KeyError::InvalidKeyMaterial("x"));
            }
            let mut sec1 = Vec::with_capacity(65);
            sec1.push(0x04);
            sec1.extend_from_slice(&x);
            sec1.extend_from_slice(&y);
            // Rejects points not on the curve and the identity.
            let key =
                P256Key::from_sec1_bytes(&sec1).map_err(|_| KeyError::InvalidKeyMaterial("x"))?;
            (alg, Material::P256(key))
        }
        "OKP" => {
            if opt_str(jwk, "crv")? != Some("Ed25519") {
                return Err(KeyError::UnsupportedCurve);
            }
            let alg = declared_alg.unwrap_or(Alg::EdDsa);
            if alg != Alg::EdDsa {
                return Err(KeyError::UnsupportedAlgorithm);
            }
            let x = b64_param(jwk, "x")?;
            let bytes: [u8; 32] = x
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::InvalidKeyMaterial("x"))?;
            let key =
                Ed25519Key::from_bytes(&bytes).map_err(|_| KeyError::InvalidKeyMaterial("x"))?;
            if key.is_weak() {
                return Err(KeyError::WeakKey);
            }
            (alg, Material::Ed25519(key))
        }
        "oct" if options.allow_oct => {
            let alg = declared_alg.unwrap_or(Alg::Hs256);
            let k = b64_param(jwk, "k")?;
            (alg, hmac_material(alg, &k)?)
        }
        _ => return Err(KeyError::UnsupportedKeyType),
    };
    Ok(Key { kid, alg, material })
}
