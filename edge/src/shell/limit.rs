//! [`Counters`] over workerd: `global` keys go to their [`LimiterObject`],
//! `local` keys to the Rate Limiting binding named by the rule or, without
//! one, to a GCRA store in this isolate's memory.
//!
//! [`LimiterObject`]: super::limiter_object::LimiterObject

use std::cell::RefCell;

use wasm_bindgen::JsValue;
use worker::{console_log, Method, Request, RequestInit};

use super::io::WorkerIo;
use super::limiter_object::{WireOutcome, WireTake, BINDING};
use crate::limit::{check_in, MemoryStore, Outcome, RefusalCache};
use crate::phases::limit::{Counters, Store, Take};

/// Keys one isolate remembers, for each of its caches.
const ISOLATE_KEYS: usize = 50_000;

thread_local! {
    /// `local` rules without a binding: this isolate's own counters.
    static MEMORY: RefCell<MemoryStore> = RefCell::new(MemoryStore::new(ISOLATE_KEYS));
    /// `global` answers "limited until T", so a flood on a limited key does
    /// not become a flood of Durable Object calls.
    static REFUSALS: RefCell<RefusalCache> = RefCell::new(RefusalCache::new(ISOLATE_KEYS));
}

/// Keys held by this isolate's GCRA store and its refusal cache (for [`super::stats`]).
pub(super) fn isolate_keys() -> (usize, usize) {
    let memory = MEMORY.with(|m| m.try_borrow().map(|m| m.len()).unwrap_or(0));
    let refusals = REFUSALS.with(|r| r.try_borrow().map(|r| r.len()).unwrap_or(0));
    (memory, refusals)
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
        if let Some(o) = REFUSALS.with(|c| c.borrow().get(t.key, t.quota, t.now_ms)) {
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
        REFUSALS.with(|c| c.borrow_mut().record(t.key, t.quota, &outcome, t.now_ms));
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
    MEMORY.with(|m| check_in(&mut *m.borrow_mut(), t.key, t.quota, t.cost, t.timeout_ms, t.now_ms))
}
