//! `worker` types ↔ core types.

use worker::web_sys;
use worker::Headers;

use super::glue;
use crate::phases::respond::{with_token, HeaderOp};
use crate::pipeline::EdgeResponse;
use crate::request::RequestInfo;
use crate::wire;

/// The request as the core sees it, read in one call to the glue: method,
/// URL, the `request.cf` fields the core uses (an absent or odd field becomes
/// `None`, never an exception) and the headers.
pub fn request_info(req: &web_sys::Request) -> RequestInfo {
    let wire::RequestParts { method, url, cf, headers } = wire::parse_request(&glue::request_parts(req));
    // The runtime's URL is canonical, so it splits without a parse; anything
    // else is parsed in full.
    let parsed;
    let parts = match wire::split_canonical_url(&url) {
        Some(u) => Some(u),
        None => {
            parsed = url::Url::parse(&url).ok();
            parsed.as_ref().map(wire::UrlParts::of)
        }
    };
    let (scheme, host, port, path, query) = match parts {
        Some(u) => (u.scheme.to_string(), u.host.to_string(), u.port, u.path.to_string(), u.query.map(str::to_string)),
        None => (String::new(), String::new(), None, String::new(), None),
    };
    let client_ip = headers
        .iter()
        .find(|(n, _)| n == "cf-connecting-ip")
        .and_then(|(_, v)| v.trim().parse().ok());
    RequestInfo { method, scheme, host, port, path, query, headers, client_ip, cf, ..RequestInfo::default() }
}

/// A response the edge answers itself, in one call.
pub fn edge_response(r: &EdgeResponse) -> web_sys::Response {
    let lines = wire::header_lines(r.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    glue::respond(r.status, &lines, r.body.as_bytes())
}

/// The response as the client gets it: `resp` (fetched, cached or the edge's
/// own) with the response phases' edits, in one call unless an edit must
/// read a header first.
pub fn finish(resp: &web_sys::Response, ops: &[HeaderOp]) -> web_sys::Response {
    let mut lines = String::new();
    if ops.iter().all(|op| wire::op_line(op, &mut lines)) {
        return glue::finish(resp, &lines);
    }
    let out = glue::finish(resp, "");
    apply_header_ops(&Headers(out.headers()), ops);
    out
}

/// Applies edits in place, in order, in one glue call per run of plain
/// edits; a value the runtime refuses is skipped, not fatal (validation
/// already refused malformed names and values).
pub fn apply_header_ops(headers: &Headers, ops: &[HeaderOp]) {
    let mut batch = String::new();
    for op in ops {
        if wire::op_line(op, &mut batch) {
            continue;
        }
        if !batch.is_empty() {
            glue::edit_headers(&headers.0, &batch);
            batch.clear();
        }
        if let HeaderOp::AppendToken(n, t) = op {
            let existing = headers.get(n).ok().flatten();
            let _ = headers.set(n, &with_token(existing.as_deref(), t));
        }
    }
    if !batch.is_empty() {
        glue::edit_headers(&headers.0, &batch);
    }
}
