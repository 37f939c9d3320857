//! GETs of small documents the edge reads from other servers (a JWKS, an agent
//! key directory): 200 only, redirects refused (an open redirect must not
//! choose our keys), time and size bounded.

use worker::{web_sys, AbortSignal, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

/// Response headers and body of `url`; `what` names it in errors.
pub(super) async fn fetch_document(
    url: &str,
    what: &str,
    accept: &str,
    timeout_ms: u32,
    max_bytes: usize,
) -> Result<(Vec<(String, String)>, Vec<u8>), String> {
    let headers = Headers::new();
    headers.set("accept", accept).map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers).with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(timeout_ms));
    let mut resp = Fetch::Request(req).send_with_signal(&signal).await.map_err(|e| format!("{what} fetch failed: {e}"))?;
    if resp.status_code() != 200 {
        return Err(format!("{what} answered {}", resp.status_code()));
    }
    let headers: Vec<(String, String)> = resp.headers().entries().collect();
    let body = resp.bytes().await.map_err(|e| format!("{what} read failed: {e}"))?;
    if body.len() > max_bytes {
        return Err(format!("{what} larger than {max_bytes} bytes"));
    }
    Ok((headers, body))
}
