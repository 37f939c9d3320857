//! What the core knows of a request: a plain value the shell fills from
//! `worker::Request` and `request.cf`, and that tests and the CLI build by hand.

use std::cell::OnceCell;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::waf::bots::score as bot_inputs_score;
use crate::waf::{BotInputs, BotVerdict};

/// The parts of a request the phases decide on. Header names are lowercase.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequestInfo {
    pub method: String,
    /// `http` or `https`, as the client used.
    pub scheme: String,
    /// Host name as requested, lowercase, without port.
    pub host: String,
    /// Port when the URL names one explicitly.
    pub port: Option<u16>,
    /// Path as received (percent-encoded), always starting with `/`.
    pub path: String,
    /// Raw query string without the `?`, if any.
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    /// From `CF-Connecting-IP`, which Cloudflare sets and a client cannot forge
    /// in production.
    pub client_ip: Option<IpAddr>,
    pub cf: CfInfo,
    /// The start of the body, read by the shell only when a `waf` rule matches
    /// the request (capped at the largest `body_limit_bytes` among them). The
    /// origin still receives the whole body.
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
    /// The bot verdict, computed on first use (see [`RequestInfo::bot`]); reset
    /// it when editing headers or `cf` of a request already judged.
    #[serde(skip)]
    pub bot_verdict: OnceCell<BotVerdict>,
    /// The Web Bot Auth agent whose signature verified (set before the filter rules).
    #[serde(skip)]
    pub signed_agent: OnceCell<crate::botauth::SignedAgent>,
}

impl RequestInfo {
    /// First value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How bot-like the request is: its User-Agent class and header
    /// consistency, combined with `request.cf.botManagement` when present.
    /// Computed once per request, on first use.
    pub fn bot(&self) -> &BotVerdict {
        self.bot_verdict.get_or_init(|| {
            let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let bm = self.cf.bot_management.as_ref();
            bot_inputs_score(&BotInputs {
                user_agent: self.header("user-agent").unwrap_or(""),
                headers: &headers,
                http_version: self.cf.http_protocol.as_deref().unwrap_or(""),
                secure: Some(self.scheme.eq_ignore_ascii_case("https")),
                cf_bot_score: bm.and_then(|b| b.score),
                cf_verified_bot: bm.is_some_and(|b| b.verified_bot),
            })
        })
    }

    /// Values of a query parameter, raw (not percent-decoded).
    pub fn query_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter_map(move |pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k == name).then_some(v)
            })
    }

    /// Builds a request from a method and an absolute URL (tests and the CLI).
    pub fn from_url(method: &str, url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("invalid URL {url:?}: {e}"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| format!("URL {url:?} has no host"))?
            .to_ascii_lowercase();
        Ok(Self {
            method: method.to_ascii_uppercase(),
            scheme: parsed.scheme().to_string(),
            host,
            port: parsed.port(),
            path: parsed.path().to_string(),
            query: parsed.query().map(str::to_string),
            ..Self::default()
        })
    }
}

/// The fields of `request.cf` the phases use. Deserializes from the object
/// Cloudflare provides (camelCase); every field is optional because local dev,
/// tests and some requests carry only some of them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CfInfo {
    pub country: Option<String>,
    pub continent: Option<String>,
    pub region: Option<String>,
    pub region_code: Option<String>,
    pub city: Option<String>,
    pub asn: Option<u32>,
    pub as_organization: Option<String>,
    pub colo: Option<String>,
    pub http_protocol: Option<String>,
    pub tls_version: Option<String>,
    pub bot_management: Option<BotManagement>,
}

/// `request.cf.botManagement`, present with Cloudflare Bot Management.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BotManagement {
    /// 1 (bot) … 99 (human).
    pub score: Option<u8>,
    pub verified_bot: bool,
}
