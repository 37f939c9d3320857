//! `StatusObject`: the one writer of `rules.status`. Isolates send it what they
//! observed when their view of `rules` or `rules.next` changed; it keeps a
//! [`StatusBook`] and writes KV only when the book says so — one write per new
//! document hash, however many isolates and colos meet it at once (one
//! object, events handled one at a time).
//!
//! The book is read from storage once while other events are held back
//! (`blockConcurrencyWhile`), then decided on in memory without yielding, as in
//! [`super::limiter_object`]. Ambiguous reports (an old hash again) are
//! settled by an alarm that reads KV itself once it has converged.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use worker::{console_log, durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::lifecycle::book::{Step, StatusBook};
use crate::lifecycle::status::{Observation, Slot, StatusDoc};
use crate::lifecycle::{doc_hash, rollout, NEXT_KEY, RULES_KEY, STATUS_KEY};

/// Binding name in wrangler.toml (`[[durable_objects.bindings]]`).
pub const BINDING: &str = "RULES_STATUS";
/// The one object's name.
pub const NAME: &str = "rules.status";
/// The storage key of the book.
const BOOK_KEY: &str = "book";
/// Retry of a failed KV write (KV allows about one write per second per key).
const RETRY: Duration = Duration::from_secs(2);

#[durable_object(alarm)]
pub struct StatusObject {
    state: State,
    env: Env,
    /// `None` until loaded from storage.
    book: Rc<RefCell<Option<StatusBook>>>,
    /// A status write failed and waits for the retry alarm.
    unwritten: Cell<bool>,
}

impl DurableObject for StatusObject {
    fn new(state: State, env: Env) -> Self {
        let book = Rc::new(RefCell::new(None));
        let (slot, storage) = (book.clone(), state.storage());
        let _loading = state.block_concurrency_while(async move {
            let stored: Option<String> = storage.get(BOOK_KEY).await?;
            *slot.borrow_mut() = Some(stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default());
            Ok(())
        });
        Self { state, env, book, unwritten: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let observations: Vec<Observation> = match req.json().await {
            Ok(o) => o,
            Err(_) => return Response::error("bad request", 400),
        };
        let now = super::now_ms();
        let (mut write, mut settle_at) = (false, None);
        let book = {
            let mut slot = self.book.borrow_mut();
            let Some(book) = slot.as_mut() else {
                return Response::error("state not loaded", 503);
            };
            for obs in observations {
                console_log!("{}", serde_json::json!({"msg": "rules_status_report", "slot": obs.slot, "hash": obs.hash()}));
                match book.observe(obs, now) {
                    Step::Write => write = true,
                    Step::SettleAt(at) => settle_at = Some(at),
                    Step::Ignore => {}
                }
            }
            book.clone()
        };
        if write || settle_at.is_some() {
            self.state.storage().put(BOOK_KEY, serde_json::to_string(&book)?).await?;
        }
        if write {
            self.write_status(&book.status).await;
        }
        if let Some(at) = settle_at {
            self.state.storage().set_alarm(Duration::from_millis(at.saturating_sub(now))).await?;
        }
        Response::ok("")
    }

    /// Settles pending reports against KV, and retries a failed write.
    async fn alarm(&self) -> Result<Response> {
        let now = super::now_ms();
        let pending = self.book.borrow().as_ref().map(|b| (b.pending_slots(), b.settle_due(now))).unwrap_or_default();
        if let (_, Some(at)) = pending {
            self.state.storage().set_alarm(Duration::from_millis(at.saturating_sub(now))).await?;
            return Response::ok("");
        }
        let mut in_kv = Vec::new();
        for slot in pending.0 {
            in_kv.push((slot, self.hash_in_kv(slot).await?));
        }
        let (settled, book) = {
            let mut slot = self.book.borrow_mut();
            let Some(book) = slot.as_mut() else { return Response::ok("") };
            let settled = book.settle(|s| in_kv.iter().find(|(k, _)| *k == s).and_then(|(_, h)| h.clone()), now);
            (settled, book.clone())
        };
        self.state.storage().put(BOOK_KEY, serde_json::to_string(&book)?).await?;
        if settled || self.unwritten.get() {
            self.write_status(&book.status).await;
        }
        Response::ok("")
    }
}

impl StatusObject {
    /// The hash KV holds now for a slot (`None`: the key is empty).
    async fn hash_in_kv(&self, slot: Slot) -> Result<Option<String>> {
        let kv = self.env.kv(super::rules_source::BINDING)?;
        let key = match slot {
            Slot::Current => RULES_KEY,
            Slot::Candidate => NEXT_KEY,
        };
        let bytes = kv.get(key).bytes().await.map_err(|e| worker::Error::RustError(e.to_string()))?;
        Ok(bytes.map(|b| match slot {
            Slot::Current => doc_hash(&b),
            Slot::Candidate => rollout::candidate_hash(&b),
        }))
    }

    /// Puts the status into KV; a failure is logged and retried, never passed on.
    async fn write_status(&self, status: &StatusDoc) {
        let result = match self.env.kv(super::rules_source::BINDING) {
            Ok(kv) => match kv.put(STATUS_KEY, status.to_json()) {
                Ok(put) => put.execute().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        let hashes = serde_json::json!({
            "current": status.current.as_ref().map(|r| &r.hash),
            "candidate": status.candidate.as_ref().map(|r| &r.hash),
        });
        match result {
            Ok(()) => {
                self.unwritten.set(false);
                console_log!("{}", serde_json::json!({"msg": "rules_status_written", "key": STATUS_KEY, "hashes": hashes}));
            }
            Err(e) => {
                self.unwritten.set(true);
                console_log!("{}", serde_json::json!({"msg": "rules_status_write_failed", "level": "error", "error": e, "hashes": hashes}));
                let _ = self.state.storage().set_alarm(RETRY).await;
            }
        }
    }
}

/// Tells the status object what this isolate observed. Runs after the
/// response (`waitUntil`); a failure is logged and affects no request.
pub async fn report(env: Env, observations: Vec<Observation>) {
    if let Err(e) = send(&env, &observations).await {
        console_log!("{}", serde_json::json!({"msg": "rules_status_report_failed", "level": "warn", "error": e}));
    }
}

async fn send(env: &Env, observations: &[Observation]) -> std::result::Result<(), String> {
    use wasm_bindgen::JsValue;
    use worker::{Method, RequestInit};
    let ns = env.durable_object(BINDING).map_err(|e| format!("durable object binding {BINDING}: {e}"))?;
    let stub = ns.get_by_name(NAME).map_err(|e| e.to_string())?;
    let body = serde_json::to_string(observations).map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init("https://rules-status/report", &init).map_err(|e| e.to_string())?;
    let resp = stub.fetch_with_request(req).await.map_err(|e| format!("status object: {e}"))?;
    match resp.status_code() {
        200 => Ok(()),
        s => Err(format!("status object answered {s}")),
    }
}
