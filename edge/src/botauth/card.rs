//! Signature-agent cards and registries (draft-meunier-webbotauth-registry,
//! as Cloudflare's `web-bot-auth` library reads them).
//!
//! A card is a client ID metadata document: `client_id` (its own URL),
//! `client_name`, `contacts`, the keys (`jwks` inline, or `jwks_uri`, never
//! both) and a `web_bot_auth` member describing the agent. A registry is a
//! text list of card URLs, one per line, `#` starting a comment.

use serde::Deserialize;
use serde_json::Value;

use super::directory::{parse_directory, Directory};

/// What the card says about the agent (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CardMeta {
    #[serde(rename = "expected-user-agent")]
    pub expected_user_agent: Option<String>,
    #[serde(rename = "rfc9309-product-token")]
    pub product_token: Option<String>,
    pub trigger: Option<String>,
    pub purpose: Option<String>,
    pub ips_uri: Option<String>,
}

/// A checked card.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCard {
    pub client_id: String,
    pub client_name: Option<String>,
    pub contacts: Vec<String>,
    /// Inline keys, parsed as a directory.
    pub jwks: Option<Directory>,
    /// Where the keys are, when not inline.
    pub jwks_uri: Option<String>,
    pub meta: CardMeta,
}

#[derive(Deserialize)]
struct RawCard {
    client_id: String,
    client_name: Option<String>,
    #[serde(default)]
    contacts: Vec<String>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    #[serde(default)]
    web_bot_auth: CardMeta,
}

/// Parses and checks the card fetched from (or pinned for) `url`.
pub fn parse_card(url: &str, json: &[u8]) -> Result<AgentCard, String> {
    let raw: RawCard = serde_json::from_slice(json).map_err(|e| format!("not a signature-agent card: {e}"))?;
    let jwks = match (raw.jwks, &raw.jwks_uri) {
        (Some(_), Some(_)) => return Err("card must not contain both jwks and jwks_uri".into()),
        (None, None) => return Err("card must contain jwks or jwks_uri".into()),
        (Some(keys), None) => Some(keys),
        (None, Some(_)) => None,
    };
    if raw.client_id != url {
        return Err("client_id must match the card URL".into());
    }
    if let Some(uri) = &raw.jwks_uri {
        if !uri.starts_with("https://") {
            return Err("jwks_uri must be https".into());
        }
    }
    let jwks = jwks.map(|k| parse_directory(k.to_string().as_bytes())).transpose()?;
    Ok(AgentCard { client_id: raw.client_id, client_name: raw.client_name, contacts: raw.contacts, jwks, jwks_uri: raw.jwks_uri, meta: raw.web_bot_auth })
}

/// The card URLs of a registry: one per line; blank lines, lines starting
/// with `#` and ` # trailing comments` are ignored.
pub fn parse_registry(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let line = line.trim();
            let cut = line.find(" #").or_else(|| line.find("\t#")).unwrap_or(line.len());
            line[..cut].trim()
        })
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}
