//! `worker` types ↔ core types.

use wasm_bindgen::JsValue;
use worker::{js_sys, Headers, Request, Response, Result};

use crate::phases::respond::{with_token, HeaderOp};
use crate::pipeline::EdgeResponse;
use crate::request::{CfInfo, RequestInfo};

pub fn request_info(req: &Request) -> RequestInfo {
    let headers: Vec<(String, String)> = req.headers().entries().map(|(n, v)| (n.to_ascii_lowercase(), v)).collect();
    let (scheme, host, port, path, query) = match req.url() {
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
    // `request.cf` is read field by field into our own struct: an absent or odd
    // field becomes `None`, never an exception.
    let cf = js_sys::Reflect::get(req.inner(), &JsValue::from_str("cf"))
        .ok()
        .filter(|v| v.is_object())
        .and_then(|v| serde_wasm_bindgen::from_value::<CfInfo>(v).ok())
        .unwrap_or_default();
    RequestInfo { method: req.method().to_string(), scheme, host, port, path, query, headers, client_ip, cf, ..RequestInfo::default() }
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

/// Applies edits in place; a value the runtime refuses is skipped, not fatal
/// (validation already refused malformed names and values).
pub fn apply_header_ops(headers: &Headers, ops: &[HeaderOp]) {
    for op in ops {
        let _ = match op {
            HeaderOp::Set(n, v) => headers.set(n, v),
            HeaderOp::Remove(n) => headers.delete(n),
            HeaderOp::SetIfAbsent(n, v) => match headers.has(n) {
                Ok(false) => headers.set(n, v),
                _ => Ok(()),
            },
            HeaderOp::AppendToken(n, t) => {
                let existing = headers.get(n).ok().flatten();
                headers.set(n, &with_token(existing.as_deref(), t))
            }
        };
    }
}
