//! The rules documents for this isolate: `rules` (current) and `rules.next`
//! (a rollout candidate), read from KV at most once per TTL. A document that
//! fails validation never replaces a good one and a candidate that fails
//! applies to nobody; either way the isolate tells the status writer once per
//! change of what it read (see [`super::status_object`]).

use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;

use worker::{console_log, Env};

use crate::lifecycle::rollout::{self, Rollout};
use crate::lifecycle::status::{Observation, Report, Slot};
use crate::lifecycle::{doc_hash, NEXT_KEY, RULES_KEY};
use crate::log::RulesRejected;
use crate::rules::{self, Errors, RuleError, Rules};

/// KV binding of the rules namespace.
pub const BINDING: &str = "RULES";
/// What `serving` and the hash say while the built-in default decides.
const BUILTIN: &str = "builtin_default";

/// A document in force, with its identity.
#[derive(Clone)]
pub struct Active {
    pub rules: Rc<Rules>,
    pub hash: Rc<str>,
}

/// The candidate of a rollout and who it decides for.
#[derive(Clone)]
pub struct Candidate {
    pub active: Active,
    pub rollout: Rollout,
}

/// The documents in force now.
#[derive(Clone)]
pub struct Snapshot {
    pub current: Active,
    pub candidate: Option<Candidate>,
}

impl Snapshot {
    /// The document that decides a request from `ip` served in `colo`.
    pub fn decide(&self, ip: Option<IpAddr>, colo: Option<&str>) -> &Active {
        match &self.candidate {
            Some(c) if c.rollout.includes(&c.active.hash, ip, colo) => &c.active,
            _ => &self.current,
        }
    }
}

struct Loaded {
    snapshot: Snapshot,
    /// When KV was last read (ms).
    checked_at_ms: u64,
    /// Hash of the last bytes read under `rules`, good or bad: an unchanged
    /// document is neither parsed nor reported again.
    seen_current: Option<String>,
    /// Hash of the last candidate read (`None`: no `rules.next`).
    seen_next: Option<String>,
}

thread_local! {
    static STATE: RefCell<Option<Loaded>> = const { RefCell::new(None) };
}

/// The documents to use now, and what changed in this isolate's view (to
/// report). `Err` only when there is nothing at all to serve (no document in
/// KV, no `DEFAULT_ORIGIN`, and no earlier good document).
pub async fn current(env: &Env, now_ms: u64) -> Result<(Snapshot, Vec<Observation>), &'static str> {
    let cached = STATE.with(|s| {
        s.borrow().as_ref().and_then(|l| {
            let ttl_ms = l.snapshot.current.rules.settings.rules_ttl_seconds.saturating_mul(1000);
            (now_ms.saturating_sub(l.checked_at_ms) < ttl_ms).then(|| l.snapshot.clone())
        })
    });
    if let Some(snapshot) = cached {
        return Ok((snapshot, Vec::new()));
    }

    let kv = env.kv(BINDING).map_err(|e| e.to_string());
    let read = |key: &'static str| {
        let kv = kv.clone();
        async move {
            match kv {
                Ok(kv) => kv.get(key).bytes().await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            }
        }
    };
    let (rules_read, next_read) = futures_util::future::join(read(RULES_KEY), read(NEXT_KEY)).await;
    let previous = STATE.with(|s| {
        s.borrow().as_ref().map(|l| (l.snapshot.clone(), l.seen_current.clone(), l.seen_next.clone()))
    });
    let mut observations = Vec::new();

    let last_good = previous.as_ref().map(|p| p.0.current.clone());
    let (current, seen_current) = match rules_read {
        Ok(Some(bytes)) => {
            let hash = doc_hash(&bytes);
            match &previous {
                Some((snap, Some(seen), _)) if *seen == hash => (Some(snap.current.clone()), Some(hash)),
                _ => match rules::parse(&bytes) {
                    Ok(r) => {
                        observations.push(Observation { slot: Slot::Current, report: Some(Report::accepted(&hash, &r, now_ms)) });
                        (Some(Active { rules: Rc::new(r), hash: hash.as_str().into() }), Some(hash))
                    }
                    Err(errors) => {
                        let serving = fallback(env, last_good.as_ref(), now_ms, &errors);
                        let serving_hash = serving.as_ref().map_or("none".into(), |a| a.hash.to_string());
                        observations.push(Observation {
                            slot: Slot::Current,
                            report: Some(Report::rejected(&hash, &errors, &serving_hash, now_ms)),
                        });
                        (serving, Some(hash))
                    }
                },
            }
        }
        Ok(None) => (builtin(env).or(last_good), None),
        Err(e) => {
            let errors = Errors(vec![RuleError { path: "$".into(), message: format!("KV read failed: {e}") }]);
            (fallback(env, last_good.as_ref(), now_ms, &errors), previous.as_ref().and_then(|p| p.1.clone()))
        }
    };
    let current = current.ok_or("no rules: KV holds no usable document under `rules` and DEFAULT_ORIGIN is not set")?;

    let previous_candidate = previous.as_ref().and_then(|p| p.0.candidate.clone());
    let (candidate, seen_next) = match next_read {
        Ok(Some(bytes)) => {
            let hash = rollout::candidate_hash(&bytes);
            match &previous {
                Some((_, _, Some(seen))) if *seen == hash => (previous_candidate, Some(hash)),
                _ => {
                    let (candidate, report) = read_candidate(&bytes, &hash, now_ms);
                    observations.push(Observation { slot: Slot::Candidate, report: Some(report) });
                    (candidate, Some(hash))
                }
            }
        }
        Ok(None) => {
            if previous.as_ref().is_some_and(|p| p.2.is_some()) {
                observations.push(Observation { slot: Slot::Candidate, report: None });
            }
            (None, None)
        }
        // Unreadable now: keep what this isolate had.
        Err(_) => (previous_candidate, previous.as_ref().and_then(|p| p.2.clone())),
    };

    let snapshot = Snapshot { current, candidate };
    STATE.with(|s| {
        *s.borrow_mut() = Some(Loaded { snapshot: snapshot.clone(), checked_at_ms: now_ms, seen_current, seen_next });
    });
    Ok((snapshot, observations))
}

/// A candidate and its report; a faulty one applies to nobody.
fn read_candidate(bytes: &[u8], hash: &str, now_ms: u64) -> (Option<Candidate>, Report) {
    let next = match rollout::parse_next(bytes) {
        Ok(n) => n,
        Err(errors) => {
            log_rejected_candidate(now_ms, &errors);
            return (None, Report::rejected(hash, &errors, "current", now_ms));
        }
    };
    match rules::parse(&next.document) {
        Ok(r) => {
            let report = Report::accepted(hash, &r, now_ms).with_rollout(next.rollout.clone());
            (Some(Candidate { active: Active { rules: Rc::new(r), hash: hash.into() }, rollout: next.rollout }), report)
        }
        Err(errors) => {
            log_rejected_candidate(now_ms, &errors);
            (None, Report::rejected(hash, &errors, "current", now_ms).with_rollout(next.rollout))
        }
    }
}

fn log_rejected_candidate(now_ms: u64, errors: &Errors) {
    let mut line = RulesRejected::new(now_ms, errors, "current");
    line.msg = "rules_candidate_rejected";
    console_log!("{}", line.to_line());
}

/// Keeps serving the last good document (or the built-in default before there
/// was one) and logs why the new one was refused.
fn fallback(env: &Env, last_good: Option<&Active>, now_ms: u64, errors: &Errors) -> Option<Active> {
    let (active, serving) = match last_good {
        Some(good) => (Some(good.clone()), "last_good"),
        None => (builtin(env), BUILTIN),
    };
    console_log!("{}", RulesRejected::new(now_ms, errors, serving).to_line());
    active
}

/// The built-in default: pass everything to `DEFAULT_ORIGIN`.
fn builtin(env: &Env) -> Option<Active> {
    let origin = env.var("DEFAULT_ORIGIN").ok()?.to_string();
    match rules::builtin_default(&origin) {
        Ok(r) => Some(Active { rules: Rc::new(r), hash: BUILTIN.into() }),
        Err(errors) => {
            console_log!("{}", serde_json::json!({"msg": "default_origin_invalid", "level": "error", "errors": errors}));
            None
        }
    }
}
