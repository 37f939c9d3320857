//! Agent key directories by origin, cached with the policy of
//! [`crate::fetch_cache`] (the JWKS cache's too), so forged
//! `Signature-Agent`s cannot make the edge hammer a directory.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use super::directory::{directory_media_type, directory_url, parse_directory, verify_directory_response, Directory, DirectoryResponse};
use super::verify::{Rejection, Window};
use crate::fetch_cache::{FetchCache, Plan, Timings};

/// Timings of one agent's directory.
pub type DirectoryTimings = Timings;
/// What the shell should do for a directory lookup.
pub type DirectoryPlan = Plan<Directory>;
/// Per-isolate directory state, keyed by agent origin; 256 at most (past
/// that, churn or a flood of made-up agents, the state is dropped).
pub type DirectoryCache = FetchCache<Directory, 256>;

/// The directory of `origin`, from `cache` or through `fetch` (URL → response
/// headers and body), parsed and its signature checked. Shared by the shell
/// and native tests so both run the same policy.
pub async fn cached_directory<F, Fut>(
    cache: &RefCell<DirectoryCache>,
    origin: &str,
    t: DirectoryTimings,
    window: Window,
    now_ms: u64,
    refresh: bool,
    fetch: F,
) -> Result<Arc<Directory>, Rejection>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(Vec<(String, String)>, Vec<u8>), String>>,
{
    let plan = cache.borrow_mut().plan(origin, now_ms, t, refresh);
    match plan {
        DirectoryPlan::Use(d) => Ok(d),
        DirectoryPlan::Unavailable => Err(Rejection::DirectoryUnavailable("fetch failed recently; not retrying within the cooldown".into())),
        DirectoryPlan::Fetch => {
            let checked = fetch(directory_url(origin)).await.map_err(Rejection::DirectoryUnavailable).and_then(|(headers, body)| {
                directory_media_type(&headers).map_err(Rejection::DirectoryUnavailable)?;
                let dir = parse_directory(&body).map_err(Rejection::DirectoryUnavailable)?;
                let authority = origin.split_once("://").map_or(origin, |(_, a)| a);
                verify_directory_response(&dir, &DirectoryResponse { authority, headers: &headers }, window, now_ms / 1000)?;
                Ok(dir)
            });
            let why = checked.as_ref().err().cloned();
            let stored = cache.borrow_mut().store(origin, now_ms, t, checked.ok());
            stored.ok_or_else(|| why.unwrap_or_else(|| Rejection::DirectoryUnavailable("unavailable".into())))
        }
    }
}
