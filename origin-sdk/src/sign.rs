//! Producing the edge's signature (used by the edge worker; origins only verify).

use crate::base::{signature_base_and_params, BaseError, BaseTemplate, Component, Message, SignatureParams};
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
    /// `components` serialized once, for [`Signer::signature_headers`] and
    /// [`Signer::base_and_input`].
    template: Result<BaseTemplate, BaseError>,
    validity: u64,
}

impl Signer {
    /// Defaults: tag [`TAG`], label [`DEFAULT_LABEL`], [`default_components`],
    /// validity [`DEFAULT_VALIDITY_SECS`].
    pub fn new(key: SigningKey) -> Self {
        let components = default_components();
        Signer {
            key,
            tag: Some(TAG.to_string()),
            label: DEFAULT_LABEL.to_string(),
            template: BaseTemplate::new(&components),
            components,
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
        self.template = BaseTemplate::new(&self.components);
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
        let (created, expires) = self.checked_params(created, nonce)?;
        let string = |s: &str| BareItem::String(s.to_string());
        let mut p = SignatureParams::new(self.components.iter().cloned())
            .with_param("created", created)
            .with_param("expires", expires)
            .with_param("keyid", string(self.key.keyid()))
            .with_param("nonce", string(nonce))
            .with_param("alg", string(self.key.algorithm().as_str()));
        if let Some(tag) = &self.tag {
            p = p.with_param("tag", string(tag));
        }
        Ok(p)
    }

    /// The checks every signature's parameters pass, in the order of
    /// [`params`](Self::params): the times fit, keyid, nonce and tag are
    /// printable ASCII. `created` and `expires` as items.
    fn checked_params(&self, created: u64, nonce: &str) -> Result<(BareItem, BareItem), SignError> {
        let expires = created.checked_add(self.validity).ok_or(SignError::TimeOverflow)?;
        let int = |v: u64| i64::try_from(v).map(BareItem::Integer).map_err(|_| SignError::TimeOverflow);
        let times = (int(created)?, int(expires)?);
        let printable = |s: &str, what| if s.bytes().all(|b| (0x20..=0x7e).contains(&b)) { Ok(()) } else { Err(SignError::InvalidParam(what)) };
        printable(self.key.keyid(), "keyid")?;
        printable(nonce, "nonce")?;
        if let Some(tag) = &self.tag {
            printable(tag, "tag")?;
        }
        Ok(times)
    }

    /// Signs with explicit parameters (any components, any params); the
    /// general form behind [`sign`](Self::sign).
    pub fn sign_params<M: Message + ?Sized>(&self, msg: &M, params: &SignatureParams) -> Result<SignatureHeaders, SignError> {
        if !sf::is_valid_key(&self.label) {
            return Err(SignError::InvalidLabel(self.label.clone()));
        }
        let (base, serialized) = signature_base_and_params(msg, params)?;
        self.finish(base, &serialized)
    }

    /// Computes the header values without touching the message (for runtimes
    /// whose request type is not `http::Request`).
    pub fn signature_headers<M: Message + ?Sized>(&self, msg: &M, created: u64, nonce: &str) -> Result<SignatureHeaders, SignError> {
        let params = self.serialized_params(created, nonce)?;
        if !sf::is_valid_key(&self.label) {
            return Err(SignError::InvalidLabel(self.label.clone()));
        }
        let (base, serialized) = self.template()?.base_and_params(msg, &params)?;
        self.finish(base, &serialized)
    }

    /// The signature base for a signature created at `created` and the
    /// `Signature-Input` member value (without the label): what
    /// [`signature_headers`](Self::signature_headers) signs, for a caller that
    /// signs the base elsewhere (the edge hands it to WebCrypto).
    pub fn base_and_input<M: Message + ?Sized>(&self, msg: &M, created: u64, nonce: &str) -> Result<(Vec<u8>, String), SignError> {
        let params = self.serialized_params(created, nonce)?;
        Ok(self.template()?.base_and_params(msg, &params)?)
    }

    /// The prepared components, or why they can never be signed (a component
    /// covered twice, an identifier that does not serialize).
    fn template(&self) -> Result<&BaseTemplate, SignError> {
        self.template.as_ref().map_err(|e| SignError::Base(e.clone()))
    }

    /// [`params`](Self::params)' parameters serialized (`;created=…;tag="…"`),
    /// after the same checks, without building them.
    fn serialized_params(&self, created: u64, nonce: &str) -> Result<String, SignError> {
        let (created, expires) = self.checked_params(created, nonce)?;
        let syntax = |e| SignError::Base(BaseError::Syntax(e));
        let mut out = String::with_capacity(96 + nonce.len());
        out.push_str(";created=");
        sf::write_bare_item(&mut out, &created).map_err(syntax)?;
        out.push_str(";expires=");
        sf::write_bare_item(&mut out, &expires).map_err(syntax)?;
        out.push_str(";keyid=");
        sf::write_string(&mut out, self.key.keyid()).map_err(syntax)?;
        out.push_str(";nonce=");
        sf::write_string(&mut out, nonce).map_err(syntax)?;
        out.push_str(";alg=");
        sf::write_string(&mut out, self.key.algorithm().as_str()).map_err(syntax)?;
        if let Some(tag) = &self.tag {
            out.push_str(";tag=");
            sf::write_string(&mut out, tag).map_err(syntax)?;
        }
        Ok(out)
    }

    /// Signs `base` and writes both header values.
    fn finish(&self, base: Vec<u8>, serialized: &str) -> Result<SignatureHeaders, SignError> {
        let sig = self.key.sign(&base);
        let mut signature = format!("{}=", self.label);
        sf::write_bare_item(&mut signature, &BareItem::ByteSeq(sig)).map_err(|e| SignError::Base(BaseError::Syntax(e)))?;
        Ok(SignatureHeaders { signature_input: format!("{}={serialized}", self.label), signature, base })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> http::Request<()> {
        let mut b = http::Request::builder().method("POST").uri("https://App.Example:443/a/b?x=1&y=%20");
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).expect("request")
    }

    /// What the template builds is what the general path builds from
    /// [`Signer::params`], errors included and in the same order, for
    /// default and custom components and escaped and refused parameters; a
    /// component list that cannot be signed (covered twice) fails each time.
    #[test]
    fn the_template_signs_what_the_general_path_signs() {
        let all: Vec<(&str, &str)> = trust::ALL.iter().map(|h| (*h, " v ")).chain([("accept", "a"), ("accept", "b")]).collect();
        let some = &all[..3];
        let signers = [
            Signer::new(SigningKey::ed25519_from_seed("edge-1", &[7; 32])),
            Signer::new(SigningKey::ed25519_from_seed("k\"e\\y", &[8; 32])).tag(None).validity(5),
            Signer::new(SigningKey::ed25519_from_seed("edge-1", &[7; 32])).components(["@method", "@target-uri", "accept", "@query"]),
            Signer::new(SigningKey::ed25519_from_seed("edge-1", &[7; 32])).components(["@method", "accept", "@method"]),
            Signer::new(SigningKey::ed25519_from_seed("edge-1", &[7; 32])).components([Component::new("@path").with_param("req", BareItem::Boolean(true))]),
            Signer::new(SigningKey::ed25519_from_seed("edge-1", &[7; 32])).label("Bad Label"),
            Signer::new(SigningKey::ed25519_from_seed("k\u{1}", &[7; 32])),
            Signer::new(SigningKey::ed25519_from_seed("edge-1", &[7; 32])).validity(u64::MAX),
        ];
        for signer in &signers {
            for req in [request(&all), request(some)] {
                for (created, nonce) in [(1_700_000_000, "n-1"), (5, "q\"uote\\"), (7, "bad\u{7f}"), (u64::MAX, "n")] {
                    let general = signer.params(created, nonce).and_then(|p| signer.sign_params(&req, &p));
                    let general_base = signer.params(created, nonce).and_then(|p| Ok(signature_base_and_params(&req, &p)?));
                    let (headers, base) = (signer.signature_headers(&req, created, nonce), signer.base_and_input(&req, created, nonce));
                    if signer.template.is_ok() {
                        assert_eq!(headers, general, "{signer:?} {created} {nonce}");
                        assert_eq!(base, general_base, "{signer:?} {created} {nonce}");
                    } else {
                        // Components that can never be signed fail every signature.
                        assert!(headers.is_err() && base.is_err() && general_base.is_err(), "{signer:?}");
                    }
                }
            }
        }
    }
}
