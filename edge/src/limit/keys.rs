//! Counting keys: which request characteristics one rate-limit rule counts
//! by, and the bounded, opaque key they make.
//!
//! A key is `"<rule id>:" + base64url(SHA-256(parts))`: the same length
//! whatever the request sends, usable as a Durable Object name, and free of
//! raw API keys, cookies or claims (a key may reach logs and storage).

use std::net::IpAddr;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::pipeline::Facts;
use crate::request::RequestInfo;

/// Most characteristics one key may combine.
pub const MAX_PARTS: usize = 8;
/// Longest header, cookie or claim name accepted.
const MAX_NAME_LEN: usize = 64;

/// One characteristic of a counting key, as written in a rule:
/// `ip`, `ip_prefix` (IPv4 /24, IPv6 /64), `ip_prefix:<v4 bits>/<v6 bits>`,
/// `header:<name>`, `cookie:<name>`, `claim:<name>`, `country`, `asn`,
/// `host`, `path`, `method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPart {
    Ip,
    IpPrefix { v4: u8, v6: u8 },
    Header(String),
    Cookie(String),
    /// A claim of the token the authenticate phase verified; never read from
    /// an unverified token.
    Claim(String),
    Country,
    Asn,
    Host,
    Path,
    Method,
    /// The verified Web Bot Auth agent (its directory origin).
    Agent,
}

impl KeyPart {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s, None),
        };
        let name = |what: &str| -> Result<String, String> {
            let a = arg.unwrap_or("");
            if a.is_empty() || a.len() > MAX_NAME_LEN {
                return Err(format!("{kind} needs a {what} name of 1 to {MAX_NAME_LEN} characters: \"{kind}:NAME\""));
            }
            if !a.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
                return Err(format!("not a valid {what} name: {a:?}"));
            }
            Ok(a.to_string())
        };
        let no_arg = |part: Self| match arg {
            None => Ok(part),
            Some(_) => Err(format!("{kind} takes no argument")),
        };
        match kind {
            "ip" => no_arg(Self::Ip),
            "ip_prefix" => match arg {
                None => Ok(Self::IpPrefix { v4: 24, v6: 64 }),
                Some(a) => {
                    let bits = a.split_once('/').and_then(|(v4, v6)| Some((v4.parse::<u8>().ok()?, v6.parse::<u8>().ok()?)));
                    match bits {
                        Some((v4 @ 1..=32, v6 @ 1..=128)) => Ok(Self::IpPrefix { v4, v6 }),
                        _ => Err(format!("ip_prefix takes \"ip_prefix:<IPv4 bits 1-32>/<IPv6 bits 1-128>\", got {s:?}")),
                    }
                }
            },
            "header" => name("header").map(|n| Self::Header(n.to_ascii_lowercase())),
            "cookie" => name("cookie").map(Self::Cookie),
            "claim" => name("claim").map(Self::Claim),
            "country" => no_arg(Self::Country),
            "asn" => no_arg(Self::Asn),
            "host" => no_arg(Self::Host),
            "path" => no_arg(Self::Path),
            "method" => no_arg(Self::Method),
            "agent" => no_arg(Self::Agent),
            _ => Err(format!(
                "unknown key characteristic {s:?}; expected ip, ip_prefix[:V4/V6], header:NAME, cookie:NAME, claim:NAME, country, asn, host, path, method or agent"
            )),
        }
    }

    /// This characteristic's value for a request; `None` when the request
    /// has none (no such header, no verified token, unknown country…).
    pub fn value(&self, req: &RequestInfo, facts: &Facts) -> Option<String> {
        match self {
            Self::Ip => req.client_ip.map(|ip| ip.to_string()),
            Self::IpPrefix { v4, v6 } => req.client_ip.map(|ip| prefix(ip, *v4, *v6)),
            Self::Header(name) => req.header(name).filter(|v| !v.is_empty()).map(str::to_string),
            Self::Cookie(name) => cookie(req, name).map(str::to_string),
            Self::Claim(name) => facts.verified_claims.as_ref()?.get(name).and_then(|v| match v {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }),
            Self::Country => req.cf.country.clone(),
            Self::Asn => req.cf.asn.map(|a| a.to_string()),
            Self::Host => Some(req.host.clone()),
            Self::Path => Some(req.path.clone()),
            Self::Method => Some(req.method.clone()),
            Self::Agent => facts.agent.clone(),
        }
    }
}

fn prefix(ip: IpAddr, v4: u8, v6: u8) -> String {
    let net = match ip {
        IpAddr::V4(a) => ipnet::Ipv4Net::new(a, v4).map(|n| n.trunc().to_string()),
        IpAddr::V6(a) => ipnet::Ipv6Net::new(a, v6).map(|n| n.trunc().to_string()),
    };
    net.unwrap_or_else(|_| ip.to_string())
}

/// The first non-empty value of cookie `name` across `Cookie` headers.
fn cookie<'a>(req: &'a RequestInfo, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The counting key of `rule_id` for a request, or `None` when any part is
/// missing: like nginx's `limit_req_zone`, a request without a value for the
/// key is not counted by that rule (pair a header-keyed rule with an
/// IP-keyed one so anonymous traffic is limited too).
pub fn counting_key(rule_id: &str, parts: &[KeyPart], req: &RequestInfo, facts: &Facts) -> Option<String> {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    for part in parts {
        let v = part.value(req, facts)?;
        // Length-prefixed so ("ab","c") and ("a","bc") never collide.
        h.update((v.len() as u64).to_be_bytes());
        h.update(v.as_bytes());
    }
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize());
    Some(format!("{rule_id}:{digest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ip: &str, headers: &[(&str, &str)]) -> RequestInfo {
        let mut r = RequestInfo::from_url("GET", "https://api.example/v1/items").unwrap();
        r.client_ip = ip.parse().ok();
        r.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        r
    }

    #[test]
    fn parses_every_characteristic_and_refuses_typos() {
        assert_eq!(KeyPart::parse("ip"), Ok(KeyPart::Ip));
        assert_eq!(KeyPart::parse("ip_prefix"), Ok(KeyPart::IpPrefix { v4: 24, v6: 64 }));
        assert_eq!(KeyPart::parse("ip_prefix:16/48"), Ok(KeyPart::IpPrefix { v4: 16, v6: 48 }));
        assert_eq!(KeyPart::parse("header:X-API-Key"), Ok(KeyPart::Header("x-api-key".into())));
        assert_eq!(KeyPart::parse("claim:sub"), Ok(KeyPart::Claim("sub".into())));
        for bad in ["", "ipp", "ip:1", "ip_prefix:33/64", "ip_prefix:24", "header:", "header:a b", "cookie"] {
            assert!(KeyPart::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn keys_are_bounded_opaque_and_isolated() {
        let parts = [KeyPart::Header("x-api-key".into())];
        let facts = Facts::default();
        let secret = "sk_live_0123456789";
        let a = counting_key("api", &parts, &req("198.51.100.7", &[("x-api-key", secret)]), &facts).unwrap();
        let b = counting_key("api", &parts, &req("198.51.100.7", &[("x-api-key", "other")]), &facts).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("api:") && !a.contains(secret) && a.len() == 4 + 43, "{a}");
        let long = "k".repeat(10_000);
        assert_eq!(counting_key("api", &parts, &req("198.51.100.7", &[("x-api-key", &long)]), &facts).unwrap().len(), a.len());
        // Missing header: not counted by this rule.
        assert_eq!(counting_key("api", &parts, &req("198.51.100.7", &[]), &facts), None);
        // Same key material under another rule is another key.
        assert_ne!(counting_key("other", &parts, &req("198.51.100.7", &[("x-api-key", secret)]), &facts).unwrap()[6..], a[4..]);
    }

    #[test]
    fn prefixes_group_neighbours() {
        let parts = [KeyPart::IpPrefix { v4: 24, v6: 64 }];
        let f = Facts::default();
        let k = |ip| counting_key("r", &parts, &req(ip, &[]), &f);
        assert_eq!(k("198.51.100.7"), k("198.51.100.200"));
        assert_ne!(k("198.51.100.7"), k("198.51.101.7"));
        assert_eq!(k("2001:db8:1:2::1"), k("2001:db8:1:2:ffff::9"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
    }

    #[test]
    fn cookies_and_verified_claims() {
        let r = req("198.51.100.7", &[("cookie", "a=1; session=abc; b=2")]);
        assert_eq!(KeyPart::Cookie("session".into()).value(&r, &Facts::default()).as_deref(), Some("abc"));
        assert_eq!(KeyPart::Cookie("none".into()).value(&r, &Facts::default()), None);

        let claim = KeyPart::Claim("sub".into());
        // An Authorization header alone gives nothing: only verified claims count.
        let with_token = req("198.51.100.7", &[("authorization", "Bearer x.y.z")]);
        assert_eq!(claim.value(&with_token, &Facts::default()), None);
        let mut facts = Facts::default();
        let claims = serde_json::json!({"sub": "user-1", "n": 7});
        facts.verified_claims = claims.as_object().cloned();
        assert_eq!(claim.value(&with_token, &facts).as_deref(), Some("user-1"));
        assert_eq!(KeyPart::Claim("n".into()).value(&with_token, &facts).as_deref(), Some("7"));
    }
}
