//! Producing the edge's signature (used by the edge worker; origins only verify).

use crate::base::{signature_base_and_params, BaseError, Component, Message, SignatureParams};
use crate::keys::SigningKey;
use crate::sf::{self, BareItem};
use crate::trust;
use core::fmt;

/// The `tag` parameter that marks an edge trust-header signature, so it cannot
/// be confused with other signatures on the same request (RFC 9421 §7.2.4).
pub const TAG: &str = "edge-trust";
/// Default signature label (the key in `Signature-Input` / `Signature`).
pub const DEFAULT_LABEL: &str = "edge";
/// Default validity: `expires = created + 60`.
pub const DEFAULT_VALIDITY_SECS: u64 = 60;

/// The default covered components: `@method @authority @path @query` and every
/// header in [`trust::ALL`]. Origins require the same set by default.
pub fn default_components() -> Vec<Component> {
    ["@method", "@authority", "@path", "@query"].into_iter().chain(trust::ALL).map(Component::new).collect()
}

/// Why signing failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The signature base could not be built (e.g. a covered header is absent).
    Base(BaseError),
    /// The label is not a valid structured-field key (`[a-z*][a-z0-9_.*-]*`).
    InvalidLabel(String),
    /// A parameter (nonce, tag, keyid) has characters outside printable ASCII.
    InvalidParam(&'static str),
    /// `created + validity` overflows.
    TimeOverflow,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::Base(e) => write!(f, "{e}"),
            SignError::InvalidLabel(l) => write!(f, "invalid signature label `{l}`"),
            SignError::InvalidParam(p) => write!(f, "parameter `{p}` must be printable ASCII"),
            SignError::TimeOverflow => f.write_str("created + validity overflows"),
        }
    }
}

impl std::error::Error for SignError {}

impl From<BaseError> for SignError {
    fn from(e: BaseError) -> Self {
        SignError::Base(e)
    }
}

/// Values for the `Signature-Input` and `Signature` fields of one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `label=("@method" ...);created=...`
    pub signature_input: String,
    /// `label=:base64:`
    pub signature: String,
    /// The signature base that was signed (for logging/debugging; not secret).
    pub base: Vec<u8>,
}

/// Signs requests over the trust headers.
///
/// ```
/// use origin_sdk::{keys::SigningKey, sign::Signer};
/// let signer = Signer::new(SigningKey::ed25519_from_seed("edge-1", &[7; 32]));
/// let mut req = http::Request::get("https://origin.example/a?b=c").body(()).unwrap();
/// for h in origin_sdk::trust::ALL {
///     req.headers_mut().insert(h, http::HeaderValue::from_static(""));
/// }
/// signer.sign(&mut req, 1_700_000_000, "n-1").unwrap();
/// assert!(req.headers()["signature-input"].to_str().unwrap().starts_with("edge=(\"@method\""));
/// ```
#[derive(Clone, Debug)]
pub struct Signer {
    key: SigningKey,
    tag: Option<String>,
    label: String,
    components: Vec<Component>,
    validity: u64,
}

impl Signer {
    /// Defaults: tag [`TAG`], label [`DEFAULT_LABEL`], [`default_components`],
    /// validity [`DEFAULT_VALIDITY_SECS`].
    pub fn new(key: SigningKey) -> Self {
        Signer {
            key,
            tag: Some(TAG.to_string()),
            label: DEFAULT_LABEL.to_string(),
            components: default_components(),
            validity: DEFAULT_VALIDITY_SECS,
        }
    }

    /// Sets the `tag` parameter; `None` omits it.
    pub fn tag(mut self, tag: Option<&str>) -> Self {
        self.tag = tag.map(str::to_string);
        self
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Replaces the covered components (in order).
    pub fn components<C: Into<Component>>(mut self, components: impl IntoIterator<Item = C>) -> Self {
        self.components = components.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `expires - created` in seconds.
    pub fn validity(mut self, secs: u64) -> Self {
        self.validity = secs;
        self
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The signature parameters for a signature created at `created`: params in
    /// the order created, expires, keyid, nonce, alg, tag.
    pub fn params(&self, created: u64, nonce: &str) -> Result<SignatureParams, SignError> {
        let expires = created.checked_add(self.validity).ok_or(SignError::TimeOverflow)?;
        let int = |v: u64| i64::try_from(v).map(BareItem::Integer).map_err(|_| SignError::TimeOverflow);
        let printable = |s: &str, what| {
            if s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
                Ok(BareItem::String(s.to_string()))
            } else {
                Err(SignError::InvalidParam(what))
            }
        };
        let mut p = SignatureParams::new(self.components.iter().cloned())
            .with_param("created", int(created)?)
            .with_param("expires", int(expires)?)
            .with_param("keyid", printable(self.key.keyid(), "keyid")?)
            .with_param("nonce", printable(nonce, "nonce")?)
            .with_param("alg", BareItem::String(self.key.algorithm().as_str().to_string()));
        if let Some(tag) = &self.tag {
            p = p.with_param("tag", printable(tag, "tag")?);
        }
        Ok(p)
    }

    /// Signs with explicit parameters (any components, any params); the
    /// general form behind [`sign`](Self::sign).
    pub fn sign_params<M: Message + ?Sized>(&self, msg: &M, params: &SignatureParams) -> Result<SignatureHeaders, SignError> {
        if !sf::is_valid_key(&self.label) {
            return Err(SignError::InvalidLabel(self.label.clone()));
        }
        let (base, serialized) = signature_base_and_params(msg, params)?;
        let sig = self.key.sign(&base);
        let mut signature = format!("{}=", self.label);
        sf::write_bare_item(&mut signature, &BareItem::ByteSeq(sig)).map_err(|e| SignError::Base(BaseError::Syntax(e)))?;
        Ok(SignatureHeaders { signature_input: format!("{}={serialized}", self.label), signature, base })
    }

    /// Computes the header values without touching the message (for runtimes
    /// whose request type is not `http::Request`).
    pub fn signature_headers<M: Message + ?Sized>(&self, msg: &M, created: u64, nonce: &str) -> Result<SignatureHeaders, SignError> {
        self.sign_params(msg, &self.params(created, nonce)?)
    }

    /// Signs `req`, replacing any `Signature` / `Signature-Input` fields.
    ///
    /// Every covered header must be present (an empty value is fine and is
    /// signed as empty), so a missing fact is never mistaken for an unsigned one.
    pub fn sign<B>(&self, req: &mut http::Request<B>, created: u64, nonce: &str) -> Result<(), SignError> {
        let h = self.signature_headers(&*req, created, nonce)?;
        let to_value = |s: String| http::HeaderValue::try_from(s).map_err(|_| SignError::InvalidParam("header"));
        let input = to_value(h.signature_input)?;
        let sig = to_value(h.signature)?;
        let headers = req.headers_mut();
        headers.insert("signature-input", input);
        headers.insert("signature", sig);
        Ok(())
    }
}
