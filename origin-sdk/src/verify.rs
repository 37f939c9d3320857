//! Verifying the edge's signature and exposing the facts it covers.

use crate::base::{signature_base, BaseError, Component, Message, SignatureParams};
use crate::facts::VerifiedFacts;
use crate::keys::{Algorithm, KeySet, SignatureFailure};
use crate::sf::{self, BareItem, Member, SfError};
use crate::sign::{default_components, TAG};
use crate::trust;
use core::fmt;

/// Default tolerated clock difference between edge and origin.
pub const DEFAULT_MAX_SKEW_SECS: u64 = 10;
/// Default longest accepted `expires - created`.
pub const DEFAULT_MAX_VALIDITY_SECS: u64 = 300;

/// Why a request's edge signature was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Signature` field, or none for the chosen label.
    MissingSignature,
    /// No `Signature-Input` field, or none for the configured label.
    MissingSignatureInput,
    /// A field or parameter is not well-formed; says what.
    Malformed(String),
    /// A label appears twice in `Signature` or `Signature-Input`.
    DuplicateLabel(String),
    /// A signature parameter appears twice.
    DuplicateParam(String),
    /// A component is covered twice.
    DuplicateComponent(String),
    /// Several signatures qualify and none is configured by label.
    AmbiguousSignature,
    /// No `keyid` parameter.
    MissingKeyId,
    /// The `keyid` is not in the key set.
    UnknownKeyId(String),
    /// The `alg` parameter names another algorithm than the key's.
    AlgorithmMismatch {
        /// The key's algorithm.
        key: Algorithm,
        /// The `alg` parameter.
        alg: String,
    },
    /// The signature does not match.
    BadSignature,
    /// The host's Ed25519 check ([`Ed25519Backend`](crate::keys::Ed25519Backend))
    /// failed instead of answering; the signature is refused. Says why.
    SignatureCheckFailed(String),
    /// No `created` parameter.
    MissingCreated,
    /// No `expires` parameter (required by default).
    MissingExpires,
    /// No `nonce` parameter (required by default, for replay protection).
    MissingNonce,
    /// `created` is later than now plus the allowed skew.
    CreatedInFuture {
        /// `created`
        created: u64,
        /// verifier's now
        now: u64,
    },
    /// `expires` plus the allowed skew is in the past.
    Expired {
        /// `expires`
        expires: u64,
        /// verifier's now
        now: u64,
    },
    /// `expires - created` exceeds the configured maximum.
    ValidityTooLong {
        /// `expires - created`
        secs: u64,
        /// configured maximum
        max: u64,
    },
    /// A required component is not covered.
    ComponentNotCovered(String),
    /// The `tag` is missing or not the required one.
    WrongTag(Option<String>),
    /// A covered header is absent from the message.
    MissingHeader(String),
    /// A covered component is unsupported or has no value for this message.
    UnsupportedComponent(String),
    /// This (keyid, nonce) was already accepted (replay cache).
    Replayed,
    /// A header whose name reads as a trust header or a covered header once
    /// `_` is taken for `-` (`x_edge_user`, `signature_input`): CGI-style
    /// servers cannot tell the two apart, so the request is refused rather
    /// than guessed at. Holds the offending name.
    AmbiguousHeader(String),
}

impl VerifyError {
    /// A stable snake_case code for the reason (`bad_signature`,
    /// `ambiguous_header`…), for bindings, logs and metrics; the `Display`
    /// text is for people and may change.
    pub fn reason(&self) -> &'static str {
        use VerifyError::*;
        match self {
            MissingSignature => "missing_signature",
            MissingSignatureInput => "missing_signature_input",
            Malformed(_) => "malformed",
            DuplicateLabel(_) => "duplicate_label",
            DuplicateParam(_) => "duplicate_param",
            DuplicateComponent(_) => "duplicate_component",
            AmbiguousSignature => "ambiguous_signature",
            MissingKeyId => "missing_keyid",
            UnknownKeyId(_) => "unknown_keyid",
            AlgorithmMismatch { .. } => "algorithm_mismatch",
            BadSignature => "bad_signature",
            SignatureCheckFailed(_) => "signature_check_failed",
            MissingCreated => "missing_created",
            MissingExpires => "missing_expires",
            MissingNonce => "missing_nonce",
            CreatedInFuture { .. } => "created_in_future",
            Expired { .. } => "expired",
            ValidityTooLong { .. } => "validity_too_long",
            ComponentNotCovered(_) => "component_not_covered",
            WrongTag(_) => "wrong_tag",
            MissingHeader(_) => "missing_header",
            UnsupportedComponent(_) => "unsupported_component",
            Replayed => "replayed",
            AmbiguousHeader(_) => "ambiguous_header",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VerifyError::*;
        match self {
            MissingSignature => f.write_str("missing Signature"),
            MissingSignatureInput => f.write_str("missing Signature-Input"),
            Malformed(what) => write!(f, "malformed signature: {what}"),
            DuplicateLabel(l) => write!(f, "duplicate signature label `{l}`"),
            DuplicateParam(p) => write!(f, "duplicate signature parameter `{p}`"),
            DuplicateComponent(c) => write!(f, "component {c} covered twice"),
            AmbiguousSignature => f.write_str("several candidate signatures"),
            MissingKeyId => f.write_str("missing keyid"),
            UnknownKeyId(k) => write!(f, "unknown keyid `{k}`"),
            AlgorithmMismatch { key, alg } => write!(f, "alg `{alg}` does not match key algorithm `{key}`"),
            BadSignature => f.write_str("bad signature"),
            SignatureCheckFailed(why) => write!(f, "signature check failed in the host: {why}"),
            MissingCreated => f.write_str("missing created"),
            MissingExpires => f.write_str("missing expires"),
            MissingNonce => f.write_str("missing nonce"),
            CreatedInFuture { created, now } => write!(f, "created {created} is in the future (now {now})"),
            Expired { expires, now } => write!(f, "signature expired at {expires} (now {now})"),
            ValidityTooLong { secs, max } => write!(f, "validity {secs}s exceeds {max}s"),
            ComponentNotCovered(c) => write!(f, "required component `{c}` not covered"),
            WrongTag(Some(t)) => write!(f, "wrong tag `{t}`"),
            WrongTag(None) => f.write_str("missing or wrong tag"),
            MissingHeader(h) => write!(f, "covered header `{h}` is missing"),
            UnsupportedComponent(c) => write!(f, "unsupported component {c}"),
            Replayed => f.write_str("nonce replayed"),
            AmbiguousHeader(h) => write!(f, "ambiguous header `{h}`: reads as a trust or covered header with `_` for `-`"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// A signature that verified, with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedSignature {
    /// The label it was found under.
    pub label: String,
    /// Covered components and parameters.
    pub params: SignatureParams,
    /// The key's id.
    pub keyid: String,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// `created`
    pub created: u64,
    /// `expires` (or `created + max_validity` when not required and absent).
    pub expires: u64,
    /// `nonce`, if present.
    pub nonce: Option<String>,
}

/// Checks edge signatures. Build once, share (it is `Clone + Send + Sync`).
///
/// ```
/// use origin_sdk::{keys::{KeySet, SigningKey}, sign::Signer, verify::Verifier, trust};
/// let key = SigningKey::ed25519_from_seed("edge-1", &[7; 32]);
/// let verifier = Verifier::new(KeySet::new().with(key.verifying_key()));
/// let mut req = http::Request::get("https://origin.example/").body(()).unwrap();
/// for h in trust::ALL {
///     req.headers_mut().insert(h, http::HeaderValue::from_static(""));
/// }
/// req.headers_mut().insert(trust::USER, http::HeaderValue::from_static("alice"));
/// Signer::new(key).sign(&mut req, 1_700_000_000, "n-1").unwrap();
/// let facts = verifier.verify(&req, 1_700_000_005).unwrap();
/// assert_eq!(facts.user.as_deref(), Some("alice"));
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    keys: KeySet,
    max_skew: u64,
    max_validity: u64,
    required: Vec<Component>,
    tag: Option<String>,
    label: Option<String>,
    require_nonce: bool,
    require_expires: bool,
}

fn syntax(field: &str, e: SfError) -> VerifyError {
    match e {
        SfError::DuplicateKey(k) => VerifyError::DuplicateLabel(k),
        SfError::DuplicateParam(k) => VerifyError::DuplicateParam(k),
        e => VerifyError::Malformed(format!("{field}: {e}")),
    }
}

fn field<M: Message + ?Sized>(msg: &M, name: &str) -> Option<Vec<u8>> {
    let lines = msg.field_values(name);
    if lines.is_empty() {
        None
    } else {
        Some(lines.join(&b", "[..]))
    }
}

fn int_param(params: &SignatureParams, key: &str) -> Result<Option<u64>, VerifyError> {
    match params.get(key) {
        None => Ok(None),
        Some(BareItem::Integer(i)) => u64::try_from(*i).map(Some).map_err(|_| VerifyError::Malformed(format!("negative `{key}`"))),
        Some(_) => Err(VerifyError::Malformed(format!("`{key}` is not an integer"))),
    }
}

fn str_param(params: &SignatureParams, key: &str) -> Result<Option<String>, VerifyError> {
    match params.get(key) {
        None => Ok(None),
        Some(BareItem::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(VerifyError::Malformed(format!("`{key}` is not a string"))),
    }
}

impl Verifier {
    /// Defaults: skew [`DEFAULT_MAX_SKEW_SECS`], max validity
    /// [`DEFAULT_MAX_VALIDITY_SECS`], required components
    /// [`default_components`], required tag [`TAG`], any label carrying the tag,
    /// `nonce` and `expires` required.
    pub fn new(keys: KeySet) -> Self {
        Verifier {
            keys,
            max_skew: DEFAULT_MAX_SKEW_SECS,
            max_validity: DEFAULT_MAX_VALIDITY_SECS,
            required: default_components(),
            tag: Some(TAG.to_string()),
            label: None,
            require_nonce: true,
            require_expires: true,
        }
    }

    /// Allowed clock difference, applied to both `created` and `expires`.
    pub fn max_skew(mut self, secs: u64) -> Self {
        self.max_skew = secs;
        self
    }

    /// Longest accepted `expires - created`.
    pub fn max_validity(mut self, secs: u64) -> Self {
        self.max_validity = secs;
        self
    }

    /// Components every accepted signature must cover.
    pub fn required_components<C: Into<Component>>(mut self, components: impl IntoIterator<Item = C>) -> Self {
        self.required = components.into_iter().map(Into::into).collect();
        self
    }

    /// Required `tag`; `None` accepts any (then pick by label, or the only signature).
    pub fn required_tag(mut self, tag: Option<&str>) -> Self {
        self.tag = tag.map(str::to_string);
        self
    }

    /// Only consider the signature with this label.
    pub fn label(mut self, label: Option<&str>) -> Self {
        self.label = label.map(str::to_string);
        self
    }

    /// Whether a `nonce` is required (default true).
    pub fn require_nonce(mut self, yes: bool) -> Self {
        self.require_nonce = yes;
        self
    }

    /// Whether `expires` is required (default true). Without it a signature
    /// lives `max_validity` seconds from `created`.
    pub fn require_expires(mut self, yes: bool) -> Self {
        self.require_expires = yes;
        self
    }

    /// The key set.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Allowed clock skew in seconds.
    pub fn skew(&self) -> u64 {
        self.max_skew
    }

    fn select<'d>(&self, inputs: &'d sf::Dictionary) -> Result<(&'d str, &'d Member), VerifyError> {
        let tag_of = |m: &Member| match m {
            Member::InnerList(_, p) => p.iter().find(|(k, _)| k == "tag").map(|(_, v)| v.clone()),
            Member::Item(_) => None,
        };
        let (label, member) = if let Some(l) = &self.label {
            inputs.iter().find(|(k, _)| k == l).ok_or(VerifyError::MissingSignatureInput)?
        } else if let Some(t) = &self.tag {
            let want = BareItem::String(t.clone());
            let mut it = inputs.iter().filter(|(_, m)| tag_of(m).as_ref() == Some(&want));
            match (it.next(), it.next()) {
                (Some(one), None) => one,
                (Some(_), Some(_)) => return Err(VerifyError::AmbiguousSignature),
                (None, _) => {
                    let found = inputs.iter().find_map(|(_, m)| match tag_of(m) {
                        Some(BareItem::String(s)) => Some(s),
                        _ => None,
                    });
                    return Err(VerifyError::WrongTag(found));
                }
            }
        } else {
            match inputs.as_slice() {
                [one] => one,
                _ => return Err(VerifyError::AmbiguousSignature),
            }
        };
        if let Some(t) = &self.tag {
            match tag_of(member) {
                Some(BareItem::String(s)) if s == *t => {}
                Some(BareItem::String(s)) => return Err(VerifyError::WrongTag(Some(s))),
                _ => return Err(VerifyError::WrongTag(None)),
            }
        }
        Ok((label.as_str(), member))
    }

    /// Verifies one signature on any [`Message`] and returns its parameters.
    /// The general form: usable for other signatures (e.g. Web Bot Auth) with a
    /// suitably configured verifier.
    pub fn verify_signature<M: Message + ?Sized>(&self, msg: &M, now: u64) -> Result<VerifiedSignature, VerifyError> {
        let input = field(msg, "signature-input");
        let sig = field(msg, "signature");
        let (input, sig) = match (input, sig) {
            (Some(i), Some(s)) => (i, s),
            (Some(_), None) | (None, None) => return Err(VerifyError::MissingSignature),
            (None, Some(_)) => return Err(VerifyError::MissingSignatureInput),
        };
        let inputs = sf::parse_dictionary(&input).map_err(|e| syntax("Signature-Input", e))?;
        let sigs = sf::parse_dictionary(&sig).map_err(|e| syntax("Signature", e))?;
        let (label, member) = self.select(&inputs)?;

        let params = match member {
            Member::InnerList(items, p) => SignatureParams::from_parts(items, p.clone())
                .map_err(|_| VerifyError::Malformed("component identifiers must be strings".into()))?,
            Member::Item(_) => return Err(VerifyError::Malformed("Signature-Input member is not an inner list".into())),
        };
        for (i, c) in params.components.iter().enumerate() {
            if params.components[..i].contains(c) {
                return Err(VerifyError::DuplicateComponent(c.to_string()));
            }
        }
        let signature = match sigs.iter().find(|(k, _)| k == label) {
            Some((_, Member::Item(sf::Item { bare: BareItem::ByteSeq(b), .. }))) => b,
            Some(_) => return Err(VerifyError::Malformed("Signature member is not a byte sequence".into())),
            None => return Err(VerifyError::MissingSignature),
        };

        let created = int_param(&params, "created")?.ok_or(VerifyError::MissingCreated)?;
        let expires = match int_param(&params, "expires")? {
            Some(e) => e,
            None if self.require_expires => return Err(VerifyError::MissingExpires),
            None => created.saturating_add(self.max_validity),
        };
        let keyid = str_param(&params, "keyid")?.ok_or(VerifyError::MissingKeyId)?;
        let nonce = str_param(&params, "nonce")?;
        let alg = str_param(&params, "alg")?;

        if expires < created {
            return Err(VerifyError::Malformed("expires before created".into()));
        }
        if expires - created > self.max_validity {
            return Err(VerifyError::ValidityTooLong { secs: expires - created, max: self.max_validity });
        }
        if created > now.saturating_add(self.max_skew) {
            return Err(VerifyError::CreatedInFuture { created, now });
        }
        if now > expires.saturating_add(self.max_skew) {
            return Err(VerifyError::Expired { expires, now });
        }
        if let Some(missing) = self.required.iter().find(|c| !params.components.contains(c)) {
            return Err(VerifyError::ComponentNotCovered(missing.name().to_string()));
        }
        if self.require_nonce && nonce.is_none() {
            return Err(VerifyError::MissingNonce);
        }
        let key = self.keys.get(&keyid).ok_or_else(|| VerifyError::UnknownKeyId(keyid.clone()))?;
        if let Some(alg) = alg {
            if alg != key.algorithm().as_str() {
                return Err(VerifyError::AlgorithmMismatch { key: key.algorithm(), alg });
            }
        }
        let base = signature_base(msg, &params).map_err(|e| match e {
            BaseError::MissingField(h) => VerifyError::MissingHeader(h),
            BaseError::DuplicateComponent(c) => VerifyError::DuplicateComponent(c),
            BaseError::Unsupported(c) | BaseError::Unavailable(c) => VerifyError::UnsupportedComponent(c),
            e => VerifyError::Malformed(e.to_string()),
        })?;
        key.check_signature(&base, signature).map_err(|e| match e {
            SignatureFailure::Mismatch => VerifyError::BadSignature,
            SignatureFailure::Backend(why) => VerifyError::SignatureCheckFailed(why),
        })?;
        Ok(VerifiedSignature {
            label: label.to_string(),
            params,
            keyid,
            algorithm: key.algorithm(),
            created,
            expires,
            nonce,
        })
    }

    /// Verifies the edge signature on `req` (`now` in Unix seconds) and returns
    /// the facts from the headers it covers.
    ///
    /// A header that reads as a trust header or a covered one with `_` for `-`
    /// refuses the request ([`VerifyError::AmbiguousHeader`]): the edge never
    /// forwards one, and a server that maps `_` to `-` could hand it to the app.
    pub fn verify<B>(&self, req: &http::Request<B>, now: u64) -> Result<VerifiedFacts, VerifyError> {
        let v = self.verify_unambiguous(req, now)?;
        Ok(VerifiedFacts::from_message(req, &v.params, v.keyid, v.created, v.expires, v.nonce))
    }

    /// Like [`verify`](Self::verify), and removes every `x-edge-*` header the
    /// signature does not cover. On error it removes all trust headers
    /// (including `Signature*`), so a handler that ignores the error cannot read
    /// forged facts.
    pub fn verify_and_strip<B>(&self, req: &mut http::Request<B>, now: u64) -> Result<VerifiedFacts, VerifyError> {
        match self.verify_unambiguous(&*req, now) {
            Ok(v) => {
                let facts = VerifiedFacts::from_message(&*req, &v.params, v.keyid, v.created, v.expires, v.nonce);
                let remove: Vec<http::HeaderName> = req
                    .headers()
                    .keys()
                    .filter(|n| {
                        let n = n.as_str();
                        n.starts_with(trust::PREFIX) && !v.params.components.contains(&Component::new(n))
                    })
                    .cloned()
                    .collect();
                for n in remove {
                    req.headers_mut().remove(n);
                }
                Ok(facts)
            }
            Err(e) => {
                strip_all(req.headers_mut());
                Err(e)
            }
        }
    }
}

impl Verifier {
    /// [`verify_signature`](Self::verify_signature), refusing underscore twins
    /// of trust headers (checked first, whatever the signature) and of the
    /// headers the signature covers.
    pub(crate) fn verify_unambiguous<M: Message + ?Sized>(&self, msg: &M, now: u64) -> Result<VerifiedSignature, VerifyError> {
        let names = msg.field_names();
        refuse_twins(&names, &[])?;
        let v = self.verify_signature(msg, now)?;
        refuse_twins(&names, &v.params.components)?;
        Ok(v)
    }
}

/// The first name with a `_` that reads as a trust header or as one of
/// `covered` once `_` is taken for `-`.
fn refuse_twins(names: &[&str], covered: &[Component]) -> Result<(), VerifyError> {
    for name in names.iter().copied().filter(|n| n.contains('_')) {
        let dashed = trust::dash_form(name);
        if trust::is_trust_header(&dashed) || covered.iter().any(|c| !c.is_derived() && c.name() == dashed) {
            return Err(VerifyError::AmbiguousHeader(name.to_string()));
        }
    }
    Ok(())
}

/// Removes every trust header (`x-edge-*`, `signature`, `signature-input`)
/// and every underscore twin of one.
pub fn strip_all(headers: &mut http::HeaderMap) {
    let remove: Vec<http::HeaderName> = headers
        .keys()
        .filter(|n| trust::is_trust_header(n.as_str()) || trust::is_trust_twin(n.as_str()))
        .cloned()
        .collect();
    for n in remove {
        headers.remove(n);
    }
}

