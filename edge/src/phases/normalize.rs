//! `normalize`: refuse requests the later phases cannot reason about.

use crate::pipeline::{Ctx, EdgeResponse, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::Settings;
use crate::trust;

/// At most this many removed names are listed per rule, each cut to
/// [`MAX_LOGGED_NAME`] bytes: the names come from the client.
const MAX_LOGGED_NAMES: usize = 16;
const MAX_LOGGED_NAME: usize = 64;

/// Longest URL (path + query) accepted; nginx's default header buffers refuse
/// more than 8 KB on the request line, and so do we.
pub const MAX_URL_BYTES: usize = 8 * 1024;

pub fn run(req: &RequestInfo, ctx: &mut Ctx) -> Verdict {
    let url_len = req.path.len() + req.query.as_deref().map_or(0, str::len);
    let fault = if !req.path.starts_with('/') {
        Some("path must start with '/'")
    } else if url_len > MAX_URL_BYTES {
        Some("URL too long")
    } else if req.host.is_empty() {
        Some("missing host")
    } else {
        None
    };
    match fault {
        Some(why) => {
            ctx.record(Phase::Normalize, "reject", None, Some(why));
            let status = if url_len > MAX_URL_BYTES { 414 } else { 400 };
            Verdict::Respond(EdgeResponse::error(status, why, None, &ctx.request_id))
        }
        None => {
            ctx.record(Phase::Normalize, "continue", None, None);
            Verdict::Continue
        }
    }
}

/// Records, per rule, the client headers [`trust::removal_rule`] keeps from the
/// origin (names only, never values), so the log line says what was removed
/// and why. `forward` removes them; the other phases still see them.
pub fn record_removed_headers(req: &RequestInfo, settings: &Settings, ctx: &mut Ctx) {
    for rule in [trust::TWINS_RULE, trust::UNDERSCORE_RULE] {
        let names: Vec<&str> = req
            .headers
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| trust::removal_rule(n, &req.headers, settings.drop_underscore_headers) == Some(rule))
            .collect();
        if names.is_empty() {
            continue;
        }
        let mut note = String::from("removed ");
        for (i, name) in names.iter().take(MAX_LOGGED_NAMES).enumerate() {
            if i > 0 {
                note.push_str(", ");
            }
            note.extend(name.chars().filter(|c| c.is_ascii_graphic()).take(MAX_LOGGED_NAME));
        }
        if names.len() > MAX_LOGGED_NAMES {
            note.push_str(&format!(" (+{} more)", names.len() - MAX_LOGGED_NAMES));
        }
        ctx.record(Phase::Normalize, "strip", Some(rule), Some(&note));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(drop_underscore_headers: bool) -> Settings {
        let doc = format!(r#"{{"version":1,"settings":{{"drop_underscore_headers":{drop_underscore_headers}}}}}"#);
        crate::rules::parse(doc.as_bytes()).expect("valid").settings
    }

    fn request(headers: &[(&str, &str)]) -> RequestInfo {
        let mut req = RequestInfo::from_url("GET", "https://shop.example/u").expect("url");
        req.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        req
    }

    fn notes(req: &RequestInfo, drop: bool) -> Vec<(String, String)> {
        let mut ctx = Ctx::new("r", 0);
        record_removed_headers(req, &settings(drop), &mut ctx);
        ctx.records.into_iter().map(|r| (r.rule.unwrap_or_default(), r.note.unwrap_or_default())).collect()
    }

    #[test]
    fn twins_and_underscores_are_named_by_rule_never_valued() {
        let req = request(&[
            ("x_edge_user", "forged-admin"),
            ("signature_input", "sig=()"),
            ("x-edge-user", "forged-admin"),
            ("x_forwarded_proto", "https"),
            ("accept", "*/*"),
            ("x_custom", "1"),
            ("api-key", "k"),
            ("api_key", "k2"),
        ]);
        let got = notes(&req, true);
        assert_eq!(
            got,
            [
                (trust::TWINS_RULE.to_string(), "removed x_edge_user, signature_input, x_forwarded_proto, api_key".to_string()),
                (trust::UNDERSCORE_RULE.to_string(), "removed x_custom".to_string()),
            ]
        );
        assert!(got.iter().all(|(_, n)| !n.contains("forged") && !n.contains("k2")));
        // Off: other underscore names pass, twins never do.
        assert_eq!(notes(&req, false).len(), 1);
        assert!(notes(&request(&[("accept", "*/*")]), true).is_empty());
    }

    #[test]
    fn upstream_headers_follow_the_same_rules() {
        let req = request(&[("X_Edge_User", "a"), ("x_custom", "1"), ("x-ok", "1"), ("x-edge-user", "b")]);
        let ctx = Ctx::new("r", 0);
        let names = |drop| -> Vec<String> {
            trust::upstream_headers(&req, &ctx, drop).into_iter().map(|(n, _)| n).filter(|n| n.contains('_') || n == "x-ok").collect()
        };
        assert_eq!(names(true), ["x-ok"]);
        assert_eq!(names(false), ["x_custom", "x-ok"]);
        let user: Vec<String> =
            trust::upstream_headers(&req, &ctx, true).into_iter().filter(|(n, _)| n == "x-edge-user").map(|(_, v)| v).collect();
        assert_eq!(user, [""], "only the edge's own, empty x-edge-user");
    }

    #[test]
    fn long_lists_are_capped() {
        let names: Vec<String> = (0..40).map(|i| format!("x_{i}_{}", "n".repeat(100))).collect();
        let req = request(&names.iter().map(|n| (n.as_str(), "v")).collect::<Vec<_>>());
        let got = notes(&req, true);
        assert_eq!(got.len(), 1);
        assert!(got[0].1.ends_with(" (+24 more)") && got[0].1.len() < 16 * 70, "{}", got[0].1);
    }
}
