//! The `Signature-Agent` field and the signature that vouches for it.
//!
//! Current drafts (draft-meunier-web-bot-auth-architecture-02 and later, and
//! Cloudflare's `web-bot-auth` library) send a dictionary,
//! `Signature-Agent: agent2="https://signature-agent.test"`, and cover one
//! member with `"signature-agent";key="agent2"`; a member may say what its URI
//! names with `;type=` (`directory`, the default, `jwks_uri` or `cimd`, a
//! signature-agent card). Earlier drafts sent one string
//! (`"https://agent.example"`) covered as plain `"signature-agent"`. A request
//! may carry several signatures; the one tagged `web-bot-auth` is the agent's.

use origin_sdk::base::{Component, SignatureParams};
use origin_sdk::sf::{self, BareItem, Member};

use super::verify::Rejection;
use super::TAG;
use crate::request::RequestInfo;

/// What a `Signature-Agent` URI points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentKind {
    /// An origin serving `/.well-known/http-message-signatures-directory`.
    Directory,
    /// A JWKS at that URI.
    JwksUri,
    /// A signature-agent card (client ID metadata document) at that URI.
    Cimd,
}

impl AgentKind {
    pub fn code(self) -> &'static str {
        match self {
            AgentKind::Directory => "directory",
            AgentKind::JwksUri => "jwks_uri",
            AgentKind::Cimd => "cimd",
        }
    }
}

/// One `Signature-Agent` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEntry {
    /// The dictionary key; `None` for the string form.
    pub label: Option<String>,
    pub uri: String,
    pub kind: AgentKind,
}

/// Parses a `Signature-Agent` value: a dictionary of strings (each with an
/// optional `type`), a single string, or (earliest drafts) a bare URL.
pub fn parse_signature_agent(value: &str) -> Result<Vec<AgentEntry>, String> {
    let v = value.trim();
    if v.starts_with('"') {
        let item = sf::parse_item(v.as_bytes()).map_err(|e| e.to_string())?;
        return Ok(vec![entry(None, &item.bare, &item.params)?]);
    }
    if v.starts_with("https://") || v.starts_with("http://") {
        return Ok(vec![AgentEntry { label: None, uri: v.to_string(), kind: AgentKind::Directory }]);
    }
    let dict = sf::parse_dictionary(v.as_bytes()).map_err(|e| e.to_string())?;
    if dict.is_empty() {
        return Err("empty Signature-Agent".into());
    }
    dict.iter()
        .map(|(label, member)| match member {
            Member::Item(item) => entry(Some(label.clone()), &item.bare, &item.params),
            Member::InnerList(..) => Err(format!("member `{label}` is a list, not a URI")),
        })
        .collect()
}

fn entry(label: Option<String>, bare: &BareItem, params: &[(String, BareItem)]) -> Result<AgentEntry, String> {
    let BareItem::String(uri) = bare else { return Err("a Signature-Agent member must be a string".into()) };
    let kind = match params.iter().find(|(k, _)| k == "type").map(|(_, v)| v) {
        None => AgentKind::Directory,
        Some(BareItem::Token(t) | BareItem::String(t)) => match t.as_str() {
            "directory" => AgentKind::Directory,
            "jwks_uri" => AgentKind::JwksUri,
            "cimd" => AgentKind::Cimd,
            other => return Err(format!("unknown Signature-Agent type `{other}`")),
        },
        Some(_) => return Err("Signature-Agent `type` must be a token".into()),
    };
    Ok(AgentEntry { label, uri: uri.clone(), kind })
}

/// The agent's signature on a request, before any key is looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Its label in `Signature` / `Signature-Input`.
    pub label: String,
    pub keyid: String,
    /// The covered `Signature-Agent` entry and the component that covers it;
    /// `None` for a signature over `@authority` only, known by `keyid` alone.
    pub agent: Option<(AgentEntry, Component)>,
}

/// Finds the `web-bot-auth` signature among the request's signatures and the
/// `Signature-Agent` entry it covers.
pub fn claim(req: &RequestInfo) -> Result<Claim, Rejection> {
    let malformed = |what: String| Rejection::Signature(origin_sdk::verify::VerifyError::Malformed(what));
    let inputs: Vec<&str> = req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("signature-input")).map(|(_, v)| v.as_str()).collect();
    let dict = sf::parse_dictionary(inputs.join(", ").as_bytes()).map_err(|e| malformed(format!("Signature-Input: {e}")))?;
    let tagged = |m: &Member| matches!(m, Member::InnerList(_, p) if p.iter().any(|(k, v)| k == "tag" && *v == BareItem::String(TAG.into())));
    let Some((label, member)) = dict.iter().find(|(_, m)| tagged(m)) else {
        let other = dict.iter().find_map(|(_, m)| match m {
            Member::InnerList(_, p) => p.iter().find(|(k, _)| k == "tag").and_then(|(_, v)| match v {
                BareItem::String(s) => Some(s.clone()),
                _ => None,
            }),
            Member::Item(_) => None,
        });
        return Err(Rejection::Signature(origin_sdk::verify::VerifyError::WrongTag(other)));
    };
    let mut text = String::new();
    sf::write_member(&mut text, member).map_err(|e| malformed(e.to_string()))?;
    let params = SignatureParams::parse(&text).map_err(|e| malformed(e.to_string()))?;
    // The key's algorithm decides; an `alg` naming another one is refused by the verifier.
    if let Some(alg) = params.get_str("alg") {
        if !matches!(alg, "ed25519" | "rsa-pss-sha512") {
            return Err(Rejection::UnsupportedAlgorithm(alg.to_string()));
        }
    }
    let keyid = params.get_str("keyid").ok_or(Rejection::Signature(origin_sdk::verify::VerifyError::MissingKeyId))?.to_string();
    let covered = params.components.iter().find(|c| c.name() == "signature-agent").cloned();
    let header = req.header("signature-agent");
    let agent = match (covered, header) {
        (None, _) => None,
        (Some(c), None) => return Err(Rejection::Signature(origin_sdk::verify::VerifyError::MissingHeader(c.name().to_string()))),
        (Some(c), Some(h)) => {
            let entries = parse_signature_agent(h).map_err(Rejection::BadAgent)?;
            let key = c.params().iter().find(|(k, _)| k == "key").map(|(_, v)| v);
            let chosen = match key {
                Some(BareItem::String(k)) => entries.into_iter().find(|e| e.label.as_deref() == Some(k)).ok_or_else(|| Rejection::BadAgent(format!("no member `{k}`")))?,
                Some(_) => return Err(Rejection::BadAgent("`key` must be a string".into())),
                // The whole field is covered: it must name one agent.
                None if entries.len() == 1 => entries.into_iter().next().ok_or_else(|| Rejection::BadAgent("empty".into()))?,
                None => return Err(Rejection::BadAgent("several agents, none chosen by `;key`".into())),
            };
            Some((chosen, c))
        }
    };
    Ok(Claim { label: label.clone(), keyid, agent })
}
