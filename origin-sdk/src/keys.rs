//! Signing and verifying keys, each bound to a `keyid`.
//!
//! The algorithm is a property of the key, never of the message: a verifier
//! looks the key up by `keyid` and uses that key's algorithm.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use core::fmt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// HMAC secrets shorter than this are refused: they are guessable offline.
pub const MIN_HMAC_SECRET_LEN: usize = 16;

/// RSA moduli shorter than this are refused (factorable); longer than
/// [`MAX_RSA_BITS`] too (each verification would cost a request's CPU budget).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted.
pub const MAX_RSA_BITS: usize = 4096;

/// RFC 9421 §3.3.1: the salt is as long as the SHA-512 output.
const RSA_PSS_SALT_LEN: usize = 64;

const B64_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const B64_URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes standard or URL-safe base64, with or without padding, ignoring
/// surrounding whitespace.
pub(crate) fn decode_b64(s: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let s = s.trim();
    B64_STD
        .decode(s)
        .or_else(|_| B64_URL.decode(s))
        .map(Zeroizing::new)
        .map_err(|_| KeyError::InvalidBase64)
}

/// Signature algorithm (RFC 9421 §6.2 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// `ed25519` (RFC 9421 §3.3.6).
    Ed25519,
    /// `hmac-sha256` (RFC 9421 §3.3.3).
    HmacSha256,
    /// `rsa-pss-sha512` (RFC 9421 §3.3.1): RSASSA-PSS, SHA-512, MGF1-SHA-512,
    /// 64-byte salt. Verification only.
    RsaPssSha512,
}

impl Algorithm {
    /// The registered `alg` parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::RsaPssSha512 => "rsa-pss-sha512",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not standard or URL-safe base64.
    InvalidBase64,
    /// Decoded key material has the wrong length.
    InvalidLength {
        /// Bytes required.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// Bytes are not a valid Ed25519 public key.
    InvalidPublicKey,
    /// HMAC secret shorter than [`MIN_HMAC_SECRET_LEN`].
    SecretTooShort(usize),
    /// JWK is not JSON or lacks a member; says which.
    InvalidJwk(&'static str),
    /// JWK key type or curve other than OKP/Ed25519, RSA or oct.
    UnsupportedJwk,
    /// RSA modulus outside [`MIN_RSA_BITS`]..=[`MAX_RSA_BITS`] or an unusable exponent.
    InvalidRsaKey(&'static str),
    /// A JWK without a private part where a signing key was needed.
    NotASigningKey,
    /// No `kid` in the JWK (use `with_keyid`-style constructors instead).
    MissingKeyId,
    /// A key list entry that is not `keyid:base64` or `keyid:hmac:base64`.
    InvalidSpec(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::InvalidBase64 => f.write_str("key is not valid base64"),
            KeyError::InvalidLength { expected, actual } => write!(f, "key has {actual} bytes, expected {expected}"),
            KeyError::InvalidPublicKey => f.write_str("not a valid Ed25519 public key"),
            KeyError::SecretTooShort(n) => write!(f, "HMAC secret has {n} bytes, at least {MIN_HMAC_SECRET_LEN} required"),
            KeyError::InvalidJwk(what) => write!(f, "invalid JWK: {what}"),
            KeyError::UnsupportedJwk => f.write_str("unsupported JWK (only OKP/Ed25519, RSA and oct)"),
            KeyError::InvalidRsaKey(why) => write!(f, "invalid RSA public key: {why}"),
            KeyError::NotASigningKey => f.write_str("JWK has no private key"),
            KeyError::MissingKeyId => f.write_str("JWK has no `kid`"),
            KeyError::InvalidSpec(s) => write!(f, "invalid key list entry `{s}`"),
        }
    }
}

impl std::error::Error for KeyError {}

#[derive(Clone)]
struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    fn new(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() < MIN_HMAC_SECRET_LEN {
            return Err(KeyError::SecretTooShort(bytes.len()));
        }
        Ok(Secret(Zeroizing::new(bytes.to_vec())))
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this branch is unreachable; an
        // empty-key MAC keeps it panic-free anyway.
        match HmacSha256::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()),
        }
    }
}

fn seed32(bytes: &[u8]) -> Result<[u8; 32], KeyError> {
    bytes.try_into().map_err(|_| KeyError::InvalidLength { expected: 32, actual: bytes.len() })
}

#[derive(serde::Deserialize)]
struct Jwk {
    kty: Option<String>,
    crv: Option<String>,
    kid: Option<String>,
    x: Option<String>,
    d: Option<String>,
    k: Option<String>,
    n: Option<String>,
    e: Option<String>,
    alg: Option<String>,
}

impl Jwk {
    fn parse(s: &str) -> Result<Self, KeyError> {
        serde_json::from_str(s).map_err(|_| KeyError::InvalidJwk("not a JSON object"))
    }
    fn kid(&self) -> Result<String, KeyError> {
        self.kid.clone().ok_or(KeyError::MissingKeyId)
    }
}

// Keys are few and long-lived; boxing the Ed25519 key would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum SigningInner {
    Ed25519(ed25519_dalek::SigningKey),
    Hmac(Secret),
}

/// A key that produces signatures: Ed25519 (from a 32-byte seed) or an HMAC-SHA256 secret.
///
/// `Debug` shows only the keyid and algorithm.
#[derive(Clone)]
pub struct SigningKey {
    keyid: String,
    inner: SigningInner,
}

impl SigningKey {
    /// Ed25519 key from its 32-byte seed (the RFC 8032 private key).
    pub fn ed25519_from_seed(keyid: impl Into<String>, seed: &[u8; 32]) -> Self {
        SigningKey { keyid: keyid.into(), inner: SigningInner::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed)) }
    }

    /// Ed25519 key from a base64 seed.
    pub fn ed25519_from_base64(keyid: impl Into<String>, seed_b64: &str) -> Result<Self, KeyError> {
        let bytes = decode_b64(seed_b64)?;
        let seed = Zeroizing::new(seed32(&bytes)?);
        Ok(Self::ed25519_from_seed(keyid, &seed))
    }

    /// HMAC-SHA256 key; the secret must have at least [`MIN_HMAC_SECRET_LEN`] bytes.
    pub fn hmac(keyid: impl Into<String>, secret: &[u8]) -> Result<Self, KeyError> {
        Ok(SigningKey { keyid: keyid.into(), inner: SigningInner::Hmac(Secret::new(secret)?) })
    }

    /// HMAC-SHA256 key from a base64 secret.
    pub fn hmac_from_base64(keyid: impl Into<String>, secret_b64: &str) -> Result<Self, KeyError> {
        Self::hmac(keyid, &decode_b64(secret_b64)?)
    }

    /// From a private JWK (`OKP`/`Ed25519` with `d`, or `oct` with `k`); keyid from `kid`.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        let j = Jwk::parse(jwk)?;
        match (j.kty.as_deref(), j.crv.as_deref()) {
            (Some("OKP"), Some("Ed25519")) => {
                let d = j.d.as_deref().ok_or(KeyError::NotASigningKey)?;
                let key = Self::ed25519_from_base64(j.kid()?, d)?;
                if let Some(x) = j.x.as_deref() {
                    let given = VerifyingKey::ed25519_from_base64("", x)?;
                    if given.ed25519_bytes() != key.verifying_key().ed25519_bytes() {
                        return Err(KeyError::InvalidJwk("`x` does not match `d`"));
                    }
                }
                Ok(key)
            }
            (Some("oct"), _) => Self::hmac_from_base64(j.kid()?, j.k.as_deref().ok_or(KeyError::InvalidJwk("missing `k`"))?),
            (None, _) => Err(KeyError::InvalidJwk("missing `kty`")),
            _ => Err(KeyError::UnsupportedJwk),
        }
    }

    /// Replaces the keyid.
    pub fn with_keyid(mut self, keyid: impl Into<String>) -> Self {
        self.keyid = keyid.into();
        self
    }

    /// The keyid sent in the `keyid` parameter.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            SigningInner::Ed25519(_) => Algorithm::Ed25519,
            SigningInner::Hmac(_) => Algorithm::HmacSha256,
        }
    }

    /// The matching verifying key (the public key, or the same HMAC secret).
    pub fn verifying_key(&self) -> VerifyingKey {
        let inner = match &self.inner {
            SigningInner::Ed25519(k) => VerifyingInner::Ed25519(k.verifying_key()),
            SigningInner::Hmac(s) => VerifyingInner::Hmac(s.clone()),
        };
        VerifyingKey { keyid: self.keyid.clone(), inner }
    }

    /// Signs a signature base; 64 bytes for Ed25519, 32 for HMAC-SHA256.
    pub fn sign(&self, base: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match &self.inner {
            SigningInner::Ed25519(k) => k.sign(base).to_bytes().to_vec(),
            SigningInner::Hmac(s) => {
                let mut m = s.mac();
                m.update(base);
                m.finalize().into_bytes().to_vec()
            }
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("keyid", &self.keyid).field("alg", &self.algorithm()).finish_non_exhaustive()
    }
}

/// The one Ed25519 curve operation done by the host instead of
/// curve25519-dalek: the npm package hands it to Node's OpenSSL
/// (`node:crypto`) rather than run dalek compiled to wasm32.
///
/// It only answers whether one signature is valid for the key it was attached
/// to ([`VerifyingKey::with_ed25519_backend`]). Everything else (which key a
/// `keyid` names, that the key's algorithm is Ed25519, components, time
/// window, replay, stripping) is still decided by this crate.
pub trait Ed25519Backend: Send + Sync {
    /// Whether `signature` is a valid RFC 8032 Ed25519 signature of `message`
    /// under `public_key`. `Err` says why the host could not tell (it threw,
    /// answered something other than a boolean...); the signature is then
    /// refused with [`VerifyError::SignatureCheckFailed`](crate::VerifyError::SignatureCheckFailed).
    fn verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String>;
}

/// Why a signature did not verify: it does not match, or the host's
/// [`Ed25519Backend`] failed (never counted as a match).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureFailure {
    /// The signature does not match the key and message.
    Mismatch,
    /// The backend could not tell; says why.
    Backend(String),
}

#[derive(Clone)]
enum VerifyingInner {
    Ed25519(ed25519_dalek::VerifyingKey),
    /// Ed25519 checked by a host backend; the dalek key is kept for its bytes.
    Ed25519Host(ed25519_dalek::VerifyingKey, Arc<dyn Ed25519Backend>),
    Hmac(Secret),
    RsaPssSha512(rsa::pss::VerifyingKey<sha2::Sha512>),
}

/// A key that checks signatures: an Ed25519 or RSA (PSS-SHA512) public key, or
/// an HMAC-SHA256 secret.
///
/// `Debug` shows the keyid, algorithm and (for Ed25519, which is public) the key;
/// never an HMAC secret.
#[derive(Clone)]
pub struct VerifyingKey {
    keyid: String,
    inner: VerifyingInner,
}

impl VerifyingKey {
    /// Ed25519 public key from its 32 bytes.
    pub fn ed25519(keyid: impl Into<String>, public: &[u8; 32]) -> Result<Self, KeyError> {
        let k = ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| KeyError::InvalidPublicKey)?;
        Ok(VerifyingKey { keyid: keyid.into(), inner: VerifyingInner::Ed25519(k) })
    }

    /// Ed25519 public key from base64.
    pub fn ed25519_from_base64(keyid: impl Into<String>, public_b64: &str) -> Result<Self, KeyError> {
        Self::ed25519(keyid, &seed32(&decode_b64(public_b64)?)?)
    }

    /// HMAC-SHA256 secret; at least [`MIN_HMAC_SECRET_LEN`] bytes.
    pub fn hmac(keyid: impl Into<String>, secret: &[u8]) -> Result<Self, KeyError> {
        Ok(VerifyingKey { keyid: keyid.into(), inner: VerifyingInner::Hmac(Secret::new(secret)?) })
    }

    /// HMAC-SHA256 secret from base64.
    pub fn hmac_from_base64(keyid: impl Into<String>, secret_b64: &str) -> Result<Self, KeyError> {
        Self::hmac(keyid, &decode_b64(secret_b64)?)
    }

    /// RSA public key (big-endian modulus and exponent) that verifies
    /// `rsa-pss-sha512` only: the same key under PKCS#1 v1.5 is another algorithm.
    pub fn rsa_pss_sha512(keyid: impl Into<String>, n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = rsa::BigUint::from_bytes_be(n);
        let bits = n.bits();
        if bits < MIN_RSA_BITS {
            return Err(KeyError::InvalidRsaKey("modulus shorter than 2048 bits"));
        }
        if bits > MAX_RSA_BITS {
            return Err(KeyError::InvalidRsaKey("modulus longer than 4096 bits"));
        }
        let key = rsa::RsaPublicKey::new(n, rsa::BigUint::from_bytes_be(e)).map_err(|_| KeyError::InvalidRsaKey("bad public exponent"))?;
        let pss = rsa::pss::VerifyingKey::new_with_salt_len(key, RSA_PSS_SALT_LEN);
        Ok(VerifyingKey { keyid: keyid.into(), inner: VerifyingInner::RsaPssSha512(pss) })
    }

    /// RSA public key from the base64url `n` and `e` of a JWK.
    pub fn rsa_pss_sha512_from_base64(keyid: impl Into<String>, n_b64: &str, e_b64: &str) -> Result<Self, KeyError> {
        Self::rsa_pss_sha512(keyid, &decode_b64(n_b64)?, &decode_b64(e_b64)?)
    }

    /// From a JWK (`OKP`/`Ed25519` with `x`; `RSA` with `n`, `e`, whose `alg`,
    /// if any, must be `PS512`; or `oct` with `k`); private members are ignored;
    /// keyid from `kid`.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        let j = Jwk::parse(jwk)?;
        match (j.kty.as_deref(), j.crv.as_deref()) {
            (Some("OKP"), Some("Ed25519")) => {
                Self::ed25519_from_base64(j.kid()?, j.x.as_deref().ok_or(KeyError::InvalidJwk("missing `x`"))?)
            }
            (Some("RSA"), _) => {
                if j.alg.as_deref().is_some_and(|a| a != "PS512") {
                    return Err(KeyError::InvalidJwk("RSA key `alg` is not PS512 (rsa-pss-sha512)"));
                }
                let n = j.n.as_deref().ok_or(KeyError::InvalidJwk("missing `n`"))?;
                let e = j.e.as_deref().ok_or(KeyError::InvalidJwk("missing `e`"))?;
                Self::rsa_pss_sha512_from_base64(j.kid()?, n, e)
            }
            (Some("oct"), _) => Self::hmac_from_base64(j.kid()?, j.k.as_deref().ok_or(KeyError::InvalidJwk("missing `k`"))?),
            (None, _) => Err(KeyError::InvalidJwk("missing `kty`")),
            _ => Err(KeyError::UnsupportedJwk),
        }
    }

    /// Replaces the keyid.
    pub fn with_keyid(mut self, keyid: impl Into<String>) -> Self {
        self.keyid = keyid.into();
        self
    }

    /// The keyid signatures must name.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            VerifyingInner::Ed25519(_) | VerifyingInner::Ed25519Host(..) => Algorithm::Ed25519,
            VerifyingInner::Hmac(_) => Algorithm::HmacSha256,
            VerifyingInner::RsaPssSha512(_) => Algorithm::RsaPssSha512,
        }
    }

    /// Routes this key's Ed25519 checks to `backend` (replacing any earlier
    /// one). Keys of other algorithms are returned unchanged, and so are
    /// small-order ("weak") Ed25519 keys: dalek's strict check refuses every
    /// signature under them, where a plain RFC 8032 check would accept
    /// forgeries.
    pub fn with_ed25519_backend(mut self, backend: Arc<dyn Ed25519Backend>) -> Self {
        self.inner = match self.inner {
            VerifyingInner::Ed25519(k) | VerifyingInner::Ed25519Host(k, _) if !k.is_weak() => VerifyingInner::Ed25519Host(k, backend),
            other => other,
        };
        self
    }

    /// Whether Ed25519 checks go to a host [`Ed25519Backend`] rather than dalek.
    pub fn uses_ed25519_backend(&self) -> bool {
        matches!(self.inner, VerifyingInner::Ed25519Host(..))
    }

    /// The 32 bytes of an Ed25519 public key; `None` for HMAC and RSA.
    pub fn ed25519_public_key(&self) -> Option<[u8; 32]> {
        self.ed25519_bytes()
    }

    fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match &self.inner {
            VerifyingInner::Ed25519(k) | VerifyingInner::Ed25519Host(k, _) => Some(k.to_bytes()),
            VerifyingInner::Hmac(_) | VerifyingInner::RsaPssSha512(_) => None,
        }
    }

    /// Standard padded base64 of an Ed25519 public key; `None` for HMAC (secret) and RSA.
    pub fn public_key_base64(&self) -> Option<String> {
        self.ed25519_bytes().map(|b| STANDARD.encode(b))
    }

    /// Checks `signature` over `base`. Ed25519 uses strict verification
    /// (rejects small-order keys and non-canonical signatures); HMAC compares in
    /// constant time; RSA-PSS wants a signature exactly as long as the modulus.
    /// A failing [`Ed25519Backend`] counts as a mismatch.
    pub fn verify(&self, base: &[u8], signature: &[u8]) -> bool {
        self.check_signature(base, signature).is_ok()
    }

    /// [`verify`](Self::verify), saying why a signature was refused. With an
    /// [`Ed25519Backend`] the backend decides (OpenSSL's RFC 8032 check: `S`
    /// canonical, cofactorless equation), after the length check here.
    pub fn check_signature(&self, base: &[u8], signature: &[u8]) -> Result<(), SignatureFailure> {
        let matched = match &self.inner {
            VerifyingInner::Ed25519(k) => match ed25519_dalek::Signature::from_slice(signature) {
                Ok(sig) => k.verify_strict(base, &sig).is_ok(),
                Err(_) => false,
            },
            VerifyingInner::Ed25519Host(k, backend) => match <&[u8; 64]>::try_from(signature) {
                Ok(sig) => backend.verify(k.as_bytes(), base, sig).map_err(SignatureFailure::Backend)?,
                Err(_) => false,
            },
            VerifyingInner::Hmac(s) => {
                let mut m = s.mac();
                m.update(base);
                m.verify_slice(signature).is_ok()
            }
            VerifyingInner::RsaPssSha512(k) => {
                use rsa::signature::Verifier as _;
                use rsa::traits::PublicKeyParts as _;
                signature.len() == k.as_ref().size()
                    && match rsa::pss::Signature::try_from(signature) {
                        Ok(sig) => k.verify(base, &sig).is_ok(),
                        Err(_) => false,
                    }
            }
        };
        if matched {
            Ok(())
        } else {
            Err(SignatureFailure::Mismatch)
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("VerifyingKey");
        d.field("keyid", &self.keyid).field("alg", &self.algorithm());
        if let Some(pk) = self.public_key_base64() {
            d.field("public_key", &pk);
        }
        if self.uses_ed25519_backend() {
            d.field("backend", &"host");
        }
        d.finish_non_exhaustive()
    }
}

/// Verifying keys by keyid; lets origins rotate edge keys by listing old and new.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, VerifyingKey>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key, returning the one it replaced under the same keyid.
    pub fn insert(&mut self, key: VerifyingKey) -> Option<VerifyingKey> {
        self.keys.insert(key.keyid.clone(), key)
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with(mut self, key: VerifyingKey) -> Self {
        self.insert(key);
        self
    }

    /// The key for a keyid.
    pub fn get(&self, keyid: &str) -> Option<&VerifyingKey> {
        self.keys.get(keyid)
    }

    /// The keys, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.keys.values()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Routes every Ed25519 key's checks to `backend`
    /// ([`VerifyingKey::with_ed25519_backend`]); other keys are unchanged.
    pub fn with_ed25519_backend(mut self, backend: Arc<dyn Ed25519Backend>) -> Self {
        self.keys = self.keys.into_iter().map(|(id, k)| (id, k.with_ed25519_backend(backend.clone()))).collect();
        self
    }

    /// Whether there are no keys (every signature will fail).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Parses a comma-separated key list, the `EDGE_VERIFY_KEYS` format:
    /// `keyid:BASE64_ED25519_PUBLIC_KEY` or `keyid:hmac:BASE64_SECRET`
    /// (also `keyid:ed25519:BASE64`). Empty entries are skipped.
    pub fn from_spec(spec: &str) -> Result<Self, KeyError> {
        let mut set = KeySet::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || KeyError::InvalidSpec(entry.split(':').next().unwrap_or("").to_string());
            let (keyid, rest) = entry.split_once(':').ok_or_else(bad)?;
            if keyid.is_empty() {
                return Err(bad());
            }
            let key = match rest.split_once(':') {
                Some(("hmac", b64)) => VerifyingKey::hmac_from_base64(keyid, b64)?,
                Some(("ed25519", b64)) => VerifyingKey::ed25519_from_base64(keyid, b64)?,
                Some(_) => return Err(bad()),
                None => VerifyingKey::ed25519_from_base64(keyid, rest)?,
            };
            set.insert(key);
        }
        Ok(set)
    }
}

impl FromIterator<VerifyingKey> for KeySet {
    fn from_iter<I: IntoIterator<Item = VerifyingKey>>(iter: I) -> Self {
        let mut set = KeySet::new();
        for k in iter {
            set.insert(k);
        }
        set
    }
}
