//! Typed view of the trust headers covered by a verified signature.

use crate::base::{Component, Message, SignatureParams};
use crate::trust;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use std::net::IpAddr;

const B64_URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the edge asserted about a request, read only from headers covered by
/// the verified signature. Empty or unparseable values are `None`: a bad fact
/// is the edge's bug, not a reason to refuse the request.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct VerifiedFacts {
    /// `x-edge-client-ip`
    pub client_ip: Option<IpAddr>,
    /// `x-edge-country`
    pub country: Option<String>,
    /// `x-edge-asn` (decimal, optional `AS` prefix)
    pub asn: Option<u32>,
    /// `x-edge-colo`
    pub colo: Option<String>,
    /// `x-edge-request-id`
    pub request_id: Option<String>,
    /// `x-edge-user`
    pub user: Option<String>,
    /// `x-edge-claims` (base64url JSON, or raw JSON)
    pub claims: Option<serde_json::Value>,
    /// `x-edge-bot-score`
    pub bot_score: Option<u8>,
    /// `x-edge-bot-class`
    pub bot_class: Option<String>,
    /// `x-edge-rules`: hash of the rules document that decided (when signed).
    pub rules: Option<String>,
    /// Key that signed.
    pub keyid: String,
    /// Signature `created` (Unix seconds).
    pub created: u64,
    /// Signature `expires` (Unix seconds).
    pub expires: u64,
    /// Signature `nonce`, if any.
    pub nonce: Option<String>,
}

/// The combined value of `name` if the signature covers it plainly; `None` if
/// not covered, absent, empty or not UTF-8.
fn covered<M: Message + ?Sized>(msg: &M, params: &SignatureParams, name: &str) -> Option<String> {
    let c = Component::new(name);
    if !params.components.contains(&c) {
        return None;
    }
    let lines = msg.field_values(name);
    let joined: Vec<&str> = lines.iter().map(|l| core::str::from_utf8(l).map(|s| s.trim_matches([' ', '\t']))).collect::<Result<_, _>>().ok()?;
    let v = joined.join(", ");
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

fn parse_claims(v: &str) -> Option<serde_json::Value> {
    if v.starts_with('{') || v.starts_with('[') {
        serde_json::from_str(v).ok()
    } else {
        serde_json::from_slice(&B64_URL.decode(v).ok()?).ok()
    }
}

fn parse_asn(v: &str) -> Option<u32> {
    let digits = v.strip_prefix("AS").or_else(|| v.strip_prefix("as")).unwrap_or(v);
    digits.parse().ok()
}

impl VerifiedFacts {
    pub(crate) fn from_message<M: Message + ?Sized>(
        msg: &M,
        params: &SignatureParams,
        keyid: String,
        created: u64,
        expires: u64,
        nonce: Option<String>,
    ) -> Self {
        let get = |name| covered(msg, params, name);
        VerifiedFacts {
            client_ip: get(trust::CLIENT_IP).and_then(|v| v.parse().ok()),
            country: get(trust::COUNTRY),
            asn: get(trust::ASN).and_then(|v| parse_asn(&v)),
            colo: get(trust::COLO),
            request_id: get(trust::REQUEST_ID),
            user: get(trust::USER),
            claims: get(trust::CLAIMS).and_then(|v| parse_claims(&v)),
            bot_score: get(trust::BOT_SCORE).and_then(|v| v.parse().ok()),
            bot_class: get(trust::BOT_CLASS),
            rules: get(trust::RULES),
            keyid,
            created,
            expires,
            nonce,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(parse_asn("AS13335"), Some(13335));
        assert_eq!(parse_asn("13335"), Some(13335));
        assert_eq!(parse_asn("x"), None);
        assert_eq!(parse_claims(r#"{"a":1}"#), Some(serde_json::json!({"a":1})));
        assert_eq!(parse_claims("eyJhIjoxfQ"), Some(serde_json::json!({"a":1})));
        assert_eq!(parse_claims("!!"), None);
    }
}
