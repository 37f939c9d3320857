//! Validation errors and their RFC 6750 rendering.
//!
//! Descriptions are fixed strings: nothing from the token (or a key) ever
//! reaches a response header, so there is no reflection or header injection.

use core::fmt;

use super::keys::Alg;

/// Which segment of a compact JWS was bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    Header,
    Payload,
    Signature,
}

/// Why a request's bearer token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// No token in the configured place. Rendered as a bare challenge.
    MissingToken,
    /// More than one token candidate (e.g. two Authorization headers or two
    /// differing cookies of the configured name).
    MultipleTokens,
    /// An Authorization header with the Bearer scheme but no usable token.
    MalformedAuthorization,
    /// Token longer than [`super::MAX_TOKEN_LEN`]; refused before decoding.
    TokenTooLarge,
    /// Not exactly three `.`-separated segments, or an empty segment.
    InvalidStructure,
    /// A segment is not canonical unpadded base64url.
    InvalidBase64(Part),
    /// Header or claims are not a JSON object.
    InvalidJson(Part),
    /// Header or claims JSON repeats a member name.
    DuplicateJsonKey(Part),
    /// Header member of the wrong type or `alg` missing.
    MalformedHeader(&'static str),
    /// `alg: none` (any case): unsigned tokens are never accepted.
    AlgNone,
    /// `alg` we do not implement.
    UnsupportedAlgorithm,
    /// A `crit` header: we understand no extensions, so RFC 7515 §4.1.11
    /// requires rejection.
    UnsupportedCritical,
    /// `jku`, `x5u`, `jwk` or `x5c`: keys come only from configuration.
    ForbiddenHeader(&'static str),
    /// No configured key has the token's `kid`; see
    /// [`JwtError::may_refresh_keys`].
    UnknownKid,
    /// Token has no `kid` and no key is pinned to its `alg`.
    NoMatchingKey,
    /// The `kid`'s key is pinned to a different algorithm (key confusion).
    AlgorithmMismatch { key_alg: Alg },
    /// Signature does not verify.
    InvalidSignature,
    /// A registered claim has the wrong JSON type (e.g. `exp` as a string).
    MalformedClaim(&'static str),
    /// A claim required by policy is missing (or `null`).
    MissingClaim(String),
    /// `exp` has passed (beyond leeway).
    Expired,
    /// `nbf` is in the future (beyond leeway).
    NotYetValid,
    /// `iat` further in the future than policy allows.
    IssuedInFuture,
    /// `iss` not in the policy's issuers.
    InvalidIssuer,
    /// No `aud` value is in the policy's audiences.
    InvalidAudience,
    /// Valid token without the required scopes/roles. `scope` lists what
    /// the policy asks for (from configuration, safe to echo).
    InsufficientScope { scope: Vec<String> },
}

/// The RFC 6750 §3.1 `error` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BearerError {
    InvalidRequest,
    InvalidToken,
    InsufficientScope,
}

impl BearerError {
    /// The code as sent on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
        }
    }
}

impl JwtError {
    /// RFC 6750 `error` code; `None` for a missing token (§3.1: no error
    /// code when the request carried no credentials).
    pub fn bearer_error(&self) -> Option<BearerError> {
        match self {
            Self::MissingToken => None,
            Self::MultipleTokens | Self::MalformedAuthorization => {
                Some(BearerError::InvalidRequest)
            }
            Self::InsufficientScope { .. } => Some(BearerError::InsufficientScope),
            _ => Some(BearerError::InvalidToken),
        }
    }

    /// HTTP status: 400 for `invalid_request`, 403 for
    /// `insufficient_scope`, otherwise 401 (RFC 6750 §3.1).
    pub fn status(&self) -> u16 {
        match self.bearer_error() {
            Some(BearerError::InvalidRequest) => 400,
            Some(BearerError::InsufficientScope) => 403,
            _ => 401,
        }
    }

    /// Whether refetching the JWKS could help (an unknown `kid` may be a
    /// freshly rotated key). The shell must rate-limit refetches.
    pub fn may_refresh_keys(&self) -> bool {
        matches!(self, Self::UnknownKid)
    }

    /// Short fixed `error_description`; never contains token data.
    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing token",
            Self::MultipleTokens => "multiple tokens",
            Self::MalformedAuthorization => "malformed authorization header",
            Self::TokenTooLarge => "token too large",
            Self::InvalidStructure => "malformed token",
            Self::InvalidBase64(_) => "malformed token encoding",
            Self::InvalidJson(_) => "malformed token JSON",
            Self::DuplicateJsonKey(_) => "duplicate JSON member",
            Self::MalformedHeader(_) => "malformed token header",
            Self::AlgNone => "unsigned token",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::UnsupportedCritical => "unsupported critical header",
            Self::ForbiddenHeader(_) => "key reference header not allowed",
            Self::UnknownKid => "unknown key id",
            Self::NoMatchingKey => "no key for algorithm",
            Self::AlgorithmMismatch { .. } => "algorithm not allowed for key",
            Self::InvalidSignature => "invalid signature",
            Self::MalformedClaim(_) => "malformed claim",
            Self::MissingClaim(_) => "missing required claim",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
            Self::IssuedInFuture => "token issued in the future",
            Self::InvalidIssuer => "issuer not accepted",
            Self::InvalidAudience => "audience not accepted",
            Self::InsufficientScope { .. } => "insufficient scope",
        }
    }

    /// The `WWW-Authenticate` value, e.g.
    /// `Bearer realm="api", error="invalid_token", error_description="token expired"`.
    /// A missing token yields the bare challenge ([`bearer_challenge`]).
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let mut out = bearer_challenge(realm);
        let Some(code) = self.bearer_error() else {
            return out;
        };
        out.push_str(if realm.is_some() { ", " } else { " " });
        out.push_str("error=\"");
        out.push_str(code.as_str());
        out.push_str("\", error_description=\"");
        out.push_str(self.description());
        out.push('"');
        if let Self::InsufficientScope { scope } = self {
            // RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
            let valid: Vec<&str> = scope
                .iter()
                .map(String::as_str)
                .filter(|s| {
                    !s.is_empty()
                        && s.bytes().all(|b| {
                            b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)
                        })
                })
                .collect();
            if !valid.is_empty() {
                out.push_str(", scope=\"");
                out.push_str(&valid.join(" "));
                out.push('"');
            }
        }
        out
    }
}

/// `Bearer` or `Bearer realm="…"` — the challenge for a request without a
/// token. The realm is configuration, but is still quoted safely (control
/// characters dropped, `"` and `\` escaped) so it can't split the header.
pub fn bearer_challenge(realm: Option<&str>) -> String {
    let mut out = String::from("Bearer");
    if let Some(realm) = realm {
        out.push_str(" realm=\"");
        for c in realm.chars().filter(|c| !c.is_control()) {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBase64(part) | Self::InvalidJson(part) | Self::DuplicateJsonKey(part) => {
                write!(f, "{} ({part:?})", self.description())
            }
            Self::MalformedHeader(name)
            | Self::ForbiddenHeader(name)
            | Self::MalformedClaim(name) => {
                write!(f, "{} (`{name}`)", self.description())
            }
            Self::MissingClaim(name) => write!(f, "{} (`{name}`)", self.description()),
            Self::AlgorithmMismatch { key_alg } => {
                write!(f, "{} (key is {key_alg})", self.description())
            }
            _ => f.write_str(self.description()),
        }
    }
}

impl std::error::Error for JwtError {}
