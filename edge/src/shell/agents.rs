//! Web Bot Auth key directories: fetched with the Worker `fetch` and cached
//! per isolate (policy in [`crate::botauth::cached_directory`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use worker::{web_sys, AbortSignal, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use super::io::WorkerIo;
use crate::botauth::{cached_directory, Directory, DirectoryCache, DirectoryTimings, Rejection, Window};
use crate::phases::botauth::Directories;

/// Largest directory accepted; real ones are well under 1 KB.
const MAX_DIRECTORY_BYTES: usize = 64 * 1024;

/// A slow directory must not hold requests for long.
const FETCH_TIMEOUT_MS: u32 = 3_000;

thread_local! {
    static CACHE: Rc<RefCell<DirectoryCache>> = Rc::new(RefCell::new(DirectoryCache::new()));
}

/// Directories this isolate remembers (for [`super::stats`]).
pub(super) fn cached_directories() -> usize {
    CACHE.with(|c| c.try_borrow().map(|c| c.len()).unwrap_or(0))
}

impl Directories for WorkerIo<'_> {
    async fn agent_directory(&self, origin: &str, t: DirectoryTimings, w: Window, now_ms: u64, refresh: bool) -> Result<Arc<Directory>, Rejection> {
        let cache = CACHE.with(Rc::clone);
        cached_directory(&cache, origin, t, w, now_ms, refresh, fetch).await
    }
}

/// GETs a directory: 200 only, no redirects, time and size bounded; returns
/// the response headers (for its signature) and body.
async fn fetch(url: String) -> Result<(Vec<(String, String)>, Vec<u8>), String> {
    let headers = Headers::new();
    headers.set("accept", "application/http-message-signatures-directory+json, application/json").map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers).with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
    let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS));
    let mut resp = Fetch::Request(req).send_with_signal(&signal).await.map_err(|e| format!("fetch {url} failed: {e}"))?;
    if resp.status_code() != 200 {
        return Err(format!("{url} answered {}", resp.status_code()));
    }
    let headers: Vec<(String, String)> = resp.headers().entries().collect();
    let body = resp.bytes().await.map_err(|e| format!("read {url} failed: {e}"))?;
    if body.len() > MAX_DIRECTORY_BYTES {
        return Err(format!("directory larger than {MAX_DIRECTORY_BYTES} bytes"));
    }
    Ok((headers, body))
}
