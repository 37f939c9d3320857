//! The rules document for this isolate: read from KV at most once per TTL,
//! and never replaced by a document that fails validation.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use worker::{console_log, Env};

use crate::log::RulesRejected;
use crate::rules::{self, Errors, Rules, RuleError};

/// KV binding and key of the rules document.
pub const BINDING: &str = "RULES";
pub const KEY: &str = "rules";

struct Loaded {
    rules: Rc<Rules>,
    /// When KV was last read (ms).
    checked_at_ms: u64,
    /// Hash of the last bytes read, good or bad: an unchanged document is
    /// neither parsed nor reported again.
    last_seen: Option<u64>,
}

thread_local! {
    static STATE: RefCell<Option<Loaded>> = const { RefCell::new(None) };
}

/// The rules to use now. `Err` only when there is nothing at all to serve
/// (no document in KV, no `DEFAULT_ORIGIN`, and no earlier good document).
pub async fn current(env: &Env, now_ms: u64) -> Result<Rc<Rules>, &'static str> {
    let cached = STATE.with(|s| {
        s.borrow().as_ref().and_then(|l| {
            let ttl_ms = l.rules.settings.rules_ttl_seconds.saturating_mul(1000);
            (now_ms.saturating_sub(l.checked_at_ms) < ttl_ms).then(|| l.rules.clone())
        })
    });
    if let Some(rules) = cached {
        return Ok(rules);
    }

    let read = match env.kv(BINDING) {
        Ok(kv) => kv.get(KEY).bytes().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let last_good = STATE.with(|s| s.borrow().as_ref().map(|l| (l.rules.clone(), l.last_seen)));
    let (rules, seen) = match read {
        Ok(Some(bytes)) => {
            let hash = hash(&bytes);
            match &last_good {
                Some((good, Some(seen))) if *seen == hash => (Some(good.clone()), Some(hash)),
                _ => match rules::parse(&bytes) {
                    Ok(r) => (Some(Rc::new(r)), Some(hash)),
                    Err(errors) => (fallback(env, last_good.as_ref().map(|g| &g.0), now_ms, &errors), Some(hash)),
                },
            }
        }
        Ok(None) => (builtin(env).or_else(|| last_good.as_ref().map(|g| g.0.clone())), None),
        Err(e) => {
            let errors = Errors(vec![RuleError { path: "$".into(), message: format!("KV read failed: {e}") }]);
            (fallback(env, last_good.as_ref().map(|g| &g.0), now_ms, &errors), last_good.as_ref().and_then(|g| g.1))
        }
    };
    let rules = rules.ok_or("no rules: KV holds no usable document under `rules` and DEFAULT_ORIGIN is not set")?;
    STATE.with(|s| {
        *s.borrow_mut() = Some(Loaded { rules: rules.clone(), checked_at_ms: now_ms, last_seen: seen });
    });
    Ok(rules)
}

/// Keeps serving the last good document (or the built-in default before there
/// was one) and logs why the new one was refused.
fn fallback(env: &Env, last_good: Option<&Rc<Rules>>, now_ms: u64, errors: &Errors) -> Option<Rc<Rules>> {
    let (rules, serving) = match last_good {
        Some(good) => (Some(good.clone()), "last_good"),
        None => (builtin(env), "builtin_default"),
    };
    console_log!("{}", RulesRejected::new(now_ms, errors, serving).to_line());
    rules
}

/// The built-in default: pass everything to `DEFAULT_ORIGIN`.
fn builtin(env: &Env) -> Option<Rc<Rules>> {
    let origin = env.var("DEFAULT_ORIGIN").ok()?.to_string();
    match rules::builtin_default(&origin) {
        Ok(r) => Some(Rc::new(r)),
        Err(errors) => {
            console_log!("{}", serde_json::json!({"msg": "default_origin_invalid", "level": "error", "errors": errors}));
            None
        }
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}
