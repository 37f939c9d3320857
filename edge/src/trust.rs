//! The trust headers: what the edge tells the origin, and what a client must
//! never be able to tell it.
//!
//! Every client header in the trust namespace is removed before forwarding, and
//! every trust header is then set, empty where unknown, and covered by the
//! RFC 9421 signature: an origin can tell "no value" from "stripped on the way".

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use origin_sdk::trust;

use crate::pipeline::Ctx;
use crate::request::RequestInfo;

/// Client headers never forwarded: the trust namespace, hop-by-hop headers and
/// local-dev controls.
pub fn is_stripped(name: &str) -> bool {
    const HOP_AND_EDGE: [&str; 13] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "host", "mf-cf-blob", "x-forwarded-host", "x-forwarded-proto", "forwarded",
    ];
    // Any case, without a lowercased copy per header.
    trust::is_trust_header(name) || HOP_AND_EDGE.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The rule named in the log line for removed underscore twins: names that
/// read as a header the edge strips or sets (`X_Edge_User`, `signature_input`,
/// `x_forwarded_proto`), or as another header of the same request, once `_` is
/// taken for `-`. CGI-style origins (WSGI, PHP, uWSGI) map both spellings to one
/// variable, so a twin could stand in for the real header. Always on.
pub const TWINS_RULE: &str = "underscore_twins";
/// The rule named for other names containing `_`, removed while
/// `settings.drop_underscore_headers` is on (nginx's `underscores_in_headers off`).
pub const UNDERSCORE_RULE: &str = "drop_underscore_headers";

/// Why a client header is removed and named in the log line (beyond the
/// silent [`is_stripped`] ones), or `None` when it is forwarded.
pub fn removal_rule(name: &str, headers: &[(String, String)], drop_underscore: bool) -> Option<&'static str> {
    if !name.contains('_') {
        return None;
    }
    let dashed = trust::dash_form(name);
    if is_stripped(&dashed) || headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&dashed)) {
        Some(TWINS_RULE)
    } else if drop_underscore {
        Some(UNDERSCORE_RULE)
    } else {
        None
    }
}

/// The trust headers for a request, in [`trust::ALL`] order, every one present.
pub fn headers(req: &RequestInfo, ctx: &Ctx) -> Vec<(&'static str, String)> {
    let f = &ctx.facts;
    trust::ALL
        .iter()
        .map(|&name| {
            let value = match name {
                trust::CLIENT_IP => req.client_ip.map(|ip| ip.to_string()),
                trust::COUNTRY => req.cf.country.clone(),
                trust::ASN => req.cf.asn.map(|a| a.to_string()),
                trust::COLO => req.cf.colo.clone(),
                trust::REQUEST_ID => Some(ctx.request_id.clone()),
                trust::USER => f.user.clone(),
                // base64url JSON: claims may hold any Unicode, headers may not.
                trust::CLAIMS => f.claims.as_ref().map(|c| URL_SAFE_NO_PAD.encode(c.to_string())),
                trust::BOT_SCORE => f.bot_score.map(|s| s.to_string()),
                trust::BOT_CLASS => f.bot_class.clone(),
                _ => None,
            };
            (name, sanitize(value.unwrap_or_default()))
        })
        .collect()
}

/// What the edge signs: origin-sdk's default components plus
/// [`trust::RULES`], which verifiers read when covered but do not require.
pub fn signed_components() -> Vec<origin_sdk::base::Component> {
    let mut c = origin_sdk::sign::default_components();
    c.push(origin_sdk::base::Component::new(trust::RULES));
    c
}

/// Header values from `request.cf` or claims are not ours to trust byte for
/// byte: keep them visible ASCII so they can be sent and signed as-is.
fn sanitize(v: String) -> String {
    if v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        v
    } else {
        v.chars().map(|c| if (' '..='~').contains(&c) { c } else { '?' }).collect()
    }
}

/// The headers to send upstream: the client's minus the stripped and removed
/// ones ([`removal_rule`]), then forwarding and trust headers.
pub fn upstream_headers(req: &RequestInfo, ctx: &Ctx, drop_underscore: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(n, _)| !is_stripped(n) && removal_rule(n, &req.headers, drop_underscore).is_none())
        .cloned()
        .collect();
    out.push(("x-forwarded-host".into(), req.host.clone()));
    out.push(("x-forwarded-proto".into(), req.scheme.clone()));
    out.extend(headers(req, ctx).into_iter().map(|(n, v)| (n.to_string(), v)));
    out.push((trust::RULES.to_string(), sanitize(ctx.rules_hash.clone().unwrap_or_default())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A spelling of `name`: each `-` kept or made `_`, each letter in either case.
    fn spelling(name: &'static str) -> impl Strategy<Value = String> {
        proptest::collection::vec((any::<bool>(), any::<bool>()), name.len()).prop_map(move |flips| {
            name.chars()
                .zip(flips)
                .map(|(c, (underscore, upper))| match c {
                    '-' if underscore => '_',
                    c if upper => c.to_ascii_uppercase(),
                    c => c,
                })
                .collect()
        })
    }

    fn edge_owned() -> impl Strategy<Value = &'static str> {
        let names: Vec<&str> = trust::ALL.iter().copied().chain(["signature", "signature-input", "x-forwarded-proto", "x-forwarded-host"]).collect();
        prop::sample::select(names)
    }

    proptest! {
        /// Whatever the spelling, a client's header the edge owns never
        /// reaches the origin, with or without the underscore setting; only
        /// the edge's own value of each name is sent.
        #[test]
        fn no_spelling_of_an_edge_header_is_forwarded(spelled in edge_owned().prop_flat_map(spelling), drop in any::<bool>()) {
            let mut req = RequestInfo::from_url("GET", "https://shop.example/u").expect("url");
            // As the shell reads them: lowercase.
            req.headers = vec![(spelled.to_ascii_lowercase(), "forged".into()), ("accept".into(), "*/*".into())];
            let out = upstream_headers(&req, &Ctx::new("r", 0), drop);
            prop_assert!(out.iter().all(|(n, v)| v != "forged" && !n.contains('_')), "{:?}", out);
            prop_assert!(out.iter().any(|(n, _)| n == "accept"));
        }
    }
}
