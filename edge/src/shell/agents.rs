//! Web Bot Auth key directories: fetched with the Worker `fetch` and cached
//! per isolate (policy in [`crate::botauth::cached_directory`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::documents::fetch_document;
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

/// GETs a directory; its response headers carry the directory's signature.
async fn fetch(url: String) -> Result<(Vec<(String, String)>, Vec<u8>), String> {
    let accept = "application/http-message-signatures-directory+json, application/json";
    fetch_document(&url, &format!("directory {url}"), accept, FETCH_TIMEOUT_MS, MAX_DIRECTORY_BYTES).await
}
