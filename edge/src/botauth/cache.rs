//! When to (re)fetch an agent directory: the same policy as the JWKS cache
//! (`crate::auth::JwksCache`): reuse for `ttl`, refetch for an unknown key
//! at most once per `cooldown`, remember failures for the cooldown, so
//! forged `Signature-Agent`s cannot make the edge hammer a directory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use super::directory::{directory_url, parse_directory, verify_directory_response, Directory, DirectoryResponse};
use super::verify::{Rejection, Window};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryTimings {
    pub ttl_ms: u64,
    pub cooldown_ms: u64,
}

#[derive(Debug, Clone)]
pub enum DirectoryPlan {
    Use(Arc<Directory>),
    Fetch,
    /// The last fetch failed within the cooldown: do not touch the network.
    Unavailable,
}

#[derive(Debug)]
struct Entry {
    dir: Option<Arc<Directory>>,
    fetched_at_ms: u64,
    attempted_at_ms: Option<u64>,
}

/// Per-isolate directory state, keyed by agent origin.
#[derive(Debug, Default)]
pub struct DirectoryCache {
    entries: HashMap<String, Entry>,
}

/// Origins remembered; past this the state is dropped (churn, or a flood of
/// made-up agents).
const MAX_ORIGINS: usize = 256;

impl DirectoryCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Agent origins remembered (at most 256).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Decides for `origin` at `now_ms`; `refresh`: the signature named a key
    /// the cached directory lacks.
    pub fn plan(&mut self, origin: &str, now_ms: u64, t: DirectoryTimings, refresh: bool) -> DirectoryPlan {
        let Some(entry) = self.entries.get_mut(origin) else {
            return DirectoryPlan::Fetch;
        };
        let cooling = entry.attempted_at_ms.is_some_and(|at| now_ms.saturating_sub(at) < t.cooldown_ms);
        let fresh = entry.dir.is_some() && now_ms.saturating_sub(entry.fetched_at_ms) < t.ttl_ms;
        match (&entry.dir, fresh && !refresh, cooling) {
            (Some(d), true, _) => DirectoryPlan::Use(d.clone()),
            (Some(d), false, true) if fresh => DirectoryPlan::Use(d.clone()),
            (_, _, true) => DirectoryPlan::Unavailable,
            _ => {
                if refresh {
                    entry.attempted_at_ms = Some(now_ms);
                }
                DirectoryPlan::Fetch
            }
        }
    }

    /// Records a fetch outcome; returns the directory to use now, if any.
    pub fn store(&mut self, origin: &str, now_ms: u64, t: DirectoryTimings, fetched: Option<Directory>) -> Option<Arc<Directory>> {
        if self.entries.len() >= MAX_ORIGINS && !self.entries.contains_key(origin) {
            self.entries.clear();
        }
        let entry = self.entries.entry(origin.to_owned()).or_insert(Entry { dir: None, fetched_at_ms: 0, attempted_at_ms: None });
        entry.attempted_at_ms = Some(now_ms);
        match fetched {
            Some(d) => {
                let d = Arc::new(d);
                entry.dir = Some(d.clone());
                entry.fetched_at_ms = now_ms;
                Some(d)
            }
            None => entry.dir.clone().filter(|_| now_ms.saturating_sub(entry.fetched_at_ms) < t.ttl_ms),
        }
    }
}

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
