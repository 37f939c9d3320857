//! `LimiterObject`: the Durable Object behind `global` rate limits. One object
//! per counting key (named from the hashed key), so every decision on a key is
//! made in one place, one at a time, and is exact worldwide.
//!
//! The key's state is read from storage once, while the runtime holds other
//! events back (`blockConcurrencyWhile`); each request then decides and updates
//! the in-memory copy synchronously, with no `await` between read and write, so
//! concurrent requests cannot both spend the last cell. The write to storage
//! follows; the output gate keeps the answer until it is durable.
//!
//! Once a key's state is indistinguishable from fresh, an alarm deletes it, so
//! storage holds only keys with recent traffic.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::limit::{check_state, KeyState, Outcome, Quota};

/// Binding name in wrangler.toml (`[[durable_objects.bindings]]`).
pub const BINDING: &str = "LIMITER";
/// The one storage key an object uses.
const STATE_KEY: &str = "s";
/// Longest an alarm is set ahead; a state that lasts longer is checked again.
const MAX_ALARM_MS: u64 = 30 * 24 * 3600 * 1000;

/// What the worker asks: the rule's quota travels with every call, so a rules
/// change applies at once and the object needs no configuration.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireTake {
    pub rate: u32,
    pub period_ms: u64,
    pub burst: u32,
    pub cost: u32,
    pub timeout_ms: u64,
}

/// The decision, as [`Outcome`].
#[derive(Debug, Serialize, Deserialize)]
pub struct WireOutcome {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_after_ms: u64,
    pub retry_after_ms: Option<u64>,
}

impl From<Outcome> for WireOutcome {
    fn from(o: Outcome) -> Self {
        Self { allowed: o.allowed, limit: o.limit, remaining: o.remaining, reset_after_ms: o.reset_after_ms, retry_after_ms: o.retry_after_ms }
    }
}

impl From<WireOutcome> for Outcome {
    fn from(o: WireOutcome) -> Self {
        Self { allowed: o.allowed, limit: o.limit, remaining: o.remaining, reset_after_ms: o.reset_after_ms, retry_after_ms: o.retry_after_ms }
    }
}

#[durable_object(alarm)]
pub struct LimiterObject {
    state: State,
    /// `None` until loaded from storage.
    key_state: Rc<RefCell<Option<KeyState>>>,
    /// Whether this instance has set the cleanup alarm.
    alarm_set: Cell<bool>,
}

impl DurableObject for LimiterObject {
    fn new(state: State, _env: Env) -> Self {
        let key_state = Rc::new(RefCell::new(None));
        let (slot, storage) = (key_state.clone(), state.storage());
        // Holds every event back until the stored state is in memory.
        let _loading = state.block_concurrency_while(async move {
            let stored: Option<String> = storage.get(STATE_KEY).await?;
            *slot.borrow_mut() = Some(stored.as_deref().map(KeyState::from_text).unwrap_or_default());
            Ok(())
        });
        Self { state, key_state, alarm_set: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let take: WireTake = match req.json().await {
            Ok(t) => t,
            Err(_) => return Response::error("bad request", 400),
        };
        let Ok(quota) = Quota::new(take.rate, take.period_ms, take.burst) else {
            return Response::error("bad quota", 400);
        };
        let now = super::now_ms();
        // Read, decide and update in memory without yielding.
        let (outcome, next) = {
            let mut slot = self.key_state.borrow_mut();
            let Some(prev) = *slot else {
                return Response::error("state not loaded", 503);
            };
            let (outcome, next) = check_state(prev, &quota, take.cost, take.timeout_ms, now);
            if let Some(n) = next {
                *slot = Some(n);
            }
            (outcome, next)
        };
        if let Some(n) = next {
            let storage = self.state.storage();
            storage.put(STATE_KEY, n.to_text()).await?;
            if !self.alarm_set.replace(true) {
                storage.set_alarm(alarm_offset(&n, now)).await?;
            }
        }
        Response::from_json(&WireOutcome::from(outcome))
    }

    /// Deletes the state once it reads as fresh; otherwise looks again at its
    /// current expiry.
    async fn alarm(&self) -> Result<Response> {
        let now = super::now_ms();
        let current = *self.key_state.borrow();
        let storage = self.state.storage();
        match current {
            Some(s) if !s.is_fresh_at(now) => storage.set_alarm(alarm_offset(&s, now)).await?,
            _ => {
                *self.key_state.borrow_mut() = Some(KeyState::default());
                self.alarm_set.set(false);
                storage.delete_all().await?;
            }
        }
        Response::ok("")
    }
}

/// From now until just after `s` expires (capped).
fn alarm_offset(s: &KeyState, now: u64) -> Duration {
    Duration::from_millis(s.expires_at_ms().saturating_sub(now).saturating_add(1000).min(MAX_ALARM_MS))
}
