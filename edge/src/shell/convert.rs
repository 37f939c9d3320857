//! `worker` types ↔ core types.

use worker::{Headers, Request, Response, Result};

use super::glue;
use crate::phases::respond::{with_token, HeaderOp};
use crate::pipeline::EdgeResponse;
use crate::request::RequestInfo;
use crate::wire;

/// The request as the core sees it, read in one call to the glue: method,
/// URL, the `request.cf` fields the core uses (an absent or odd field becomes
/// `None`, never an exception) and the headers.
pub fn request_info(req: &Request) -> RequestInfo {
    let wire::RequestParts { method, url, cf, headers } = wire::parse_request(&glue::request_parts(req.inner()));
    let (scheme, host, port, path, query) = match url::Url::parse(&url) {
        Ok(u) => (
            u.scheme().to_string(),
            u.host_str().unwrap_or_default().to_ascii_lowercase(),
            u.port(),
            u.path().to_string(),
            u.query().map(str::to_string),
        ),
        Err(_) => (String::new(), String::new(), None, String::new(), None),
    };
    let client_ip = headers
        .iter()
        .find(|(n, _)| n == "cf-connecting-ip")
        .and_then(|(_, v)| v.trim().parse().ok());
    RequestInfo { method, scheme, host, port, path, query, headers, client_ip, cf, ..RequestInfo::default() }
}

pub fn edge_response(r: &EdgeResponse, ops: &[HeaderOp]) -> Result<Response> {
    let headers = Headers::new();
    for (n, v) in &r.headers {
        headers.set(n, v)?;
    }
    apply_header_ops(&headers, ops);
    // 204 and 304 responses may not carry a body, not even an empty string.
    let response = if r.body.is_empty() { Response::empty()? } else { Response::ok(r.body.clone())? };
    Ok(response.with_status(r.status).with_headers(headers))
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
