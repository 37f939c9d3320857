//! [`Counters`] over workerd: `global` keys go to their [`LimiterObject`],
//! `local` keys to the Rate Limiting binding named by the rule or, without
//! one, to a GCRA store in this isolate's memory.
//!
//! [`LimiterObject`]: super::limiter_object::LimiterObject

use std::cell::RefCell;
use std::collections::BTreeMap;

use wasm_bindgen::JsValue;
use worker::{console_log, Method, Request, RequestInit};

use super::io::WorkerIo;
use super::limiter_object::{WireOutcome, WireTake, BINDING};
use crate::limit::{check_state, MemoryStore, Outcome, Quota, StateStore};
use crate::phases::limit::{Counters, Store, Take};

/// Keys one isolate remembers, for each of its caches.
const ISOLATE_KEYS: usize = 50_000;

/// A key the isolate knows is limited until `until_ms` under `quota`.
#[derive(Debug, Clone, Copy)]
struct Limited {
    quota: Quota,
    limit: u32,
    until_ms: u64,
}

thread_local! {
    /// `local` rules without a binding: this isolate's own counters.
    static MEMORY: RefCell<MemoryStore> = RefCell::new(MemoryStore::new(ISOLATE_KEYS));
    /// `global` answers "limited until T", so a flood on a limited key does
    /// not become a flood of Durable Object calls. Only refusals are cached,
    /// so the cache can never admit more than the object would.
    static LIMITED: RefCell<BTreeMap<String, Limited>> = const { RefCell::new(BTreeMap::new()) };
}

impl Counters for WorkerIo<'_> {
    async fn take(&self, t: &Take<'_>) -> Result<Outcome, String> {
        let result = match t.store {
            Store::Global => self.take_global(t).await,
            Store::Local { binding: Some(name) } => self.take_binding(name, t).await,
            Store::Local { binding: None } => Ok(take_memory(t)),
        };
        if let Err(e) = &result {
            console_log!("{}", serde_json::json!({"msg": "limit_store_error", "level": "error", "key": t.key, "error": e}));
        }
        result
    }
}

impl WorkerIo<'_> {
    async fn take_global(&self, t: &Take<'_>) -> Result<Outcome, String> {
        if let Some(o) = cached_refusal(t) {
            return Ok(o);
        }
        let ns = self.env.durable_object(BINDING).map_err(|e| format!("durable object binding {BINDING}: {e}"))?;
        let stub = ns.get_by_name(t.key).map_err(|e| e.to_string())?;
        let body = WireTake { rate: t.quota.rate(), period_ms: t.quota.period_ms(), burst: t.quota.burst(), cost: t.cost, timeout_ms: t.timeout_ms };
        let body = serde_json::to_string(&body).map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(JsValue::from_str(&body)));
        let req = Request::new_with_init("https://limiter/take", &init).map_err(|e| e.to_string())?;
        let mut resp = stub.fetch_with_request(req).await.map_err(|e| format!("limiter object: {e}"))?;
        if resp.status_code() != 200 {
            return Err(format!("limiter object answered {}", resp.status_code()));
        }
        let outcome: Outcome = resp.json::<WireOutcome>().await.map_err(|e| format!("limiter object answer: {e}"))?.into();
        remember_refusal(t, &outcome);
        Ok(outcome)
    }

    /// The binding only says yes or no: a refusal is reported as lasting one
    /// period (the longest it can).
    async fn take_binding(&self, name: &str, t: &Take<'_>) -> Result<Outcome, String> {
        let limiter = self.env.rate_limiter(name).map_err(|e| format!("rate limiting binding {name}: {e}"))?;
        let answer = limiter.limit(t.key.to_string()).await.map_err(|e| format!("rate limiting binding {name}: {e}"))?;
        let period = t.quota.period_ms();
        Ok(Outcome {
            allowed: answer.success,
            limit: t.quota.limit(),
            remaining: 0,
            reset_after_ms: period,
            retry_after_ms: (!answer.success).then_some(period),
        })
    }
}

fn take_memory(t: &Take<'_>) -> Outcome {
    MEMORY.with(|m| {
        let mut store = m.borrow_mut();
        let prev = store.get(t.key).unwrap_or_default();
        let (outcome, next) = check_state(prev, t.quota, t.cost, t.timeout_ms, t.now_ms);
        if let Some(n) = next {
            store.put(t.key, n, t.now_ms);
        }
        outcome
    })
}

fn cached_refusal(t: &Take<'_>) -> Option<Outcome> {
    LIMITED.with(|c| {
        let cache = c.borrow();
        let l = cache.get(t.key)?;
        (l.quota == *t.quota && t.now_ms < l.until_ms).then(|| {
            let wait = l.until_ms.saturating_sub(t.now_ms);
            Outcome { allowed: false, limit: l.limit, remaining: 0, reset_after_ms: wait, retry_after_ms: Some(wait) }
        })
    })
}

fn remember_refusal(t: &Take<'_>, o: &Outcome) {
    LIMITED.with(|c| {
        let mut cache = c.borrow_mut();
        match (o.allowed, o.retry_after_ms) {
            (false, Some(wait)) if wait > 0 => {
                if cache.len() >= ISOLATE_KEYS {
                    cache.retain(|_, l| l.until_ms > t.now_ms);
                }
                if cache.len() < ISOLATE_KEYS {
                    let until_ms = t.now_ms.saturating_add(wait);
                    cache.insert(t.key.to_string(), Limited { quota: *t.quota, limit: o.limit, until_ms });
                }
            }
            _ => {
                cache.remove(t.key);
            }
        }
    })
}
