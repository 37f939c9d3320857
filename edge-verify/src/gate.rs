//! The admission decision both modes share: `origin_sdk::layer::admit` with
//! the sidecar's clock and replay cache, plus one log line per refusal.

use crate::diagnose;
use origin_sdk::layer::{admit, ReplayCache};
use origin_sdk::{VerifiedFacts, Verifier, VerifyError};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Verifier, replay cache and clock; cheap to clone (shared state).
#[derive(Clone)]
pub struct Gate {
    verifier: Arc<Verifier>,
    replay: Option<Arc<Mutex<ReplayCache>>>,
    clock: Clock,
    debug: bool,
}

fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Gate {
    /// `replay_capacity` 0 turns the replay cache off; `debug` logs, for each
    /// refusal, the covered components and the values computed for them.
    pub fn new(verifier: Verifier, replay_capacity: usize, debug: bool) -> Self {
        Gate {
            verifier: Arc::new(verifier),
            replay: (replay_capacity > 0).then(|| Arc::new(Mutex::new(ReplayCache::new(replay_capacity)))),
            clock: Arc::new(system_now),
            debug,
        }
    }

    /// Replaces the clock (Unix seconds), for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Verifies `req` and strips trust headers it may not carry (all of them
    /// on refusal); logs a refusal to stderr as one JSON line.
    pub fn admit<B>(&self, req: &mut http::Request<B>) -> Result<VerifiedFacts, VerifyError> {
        // Computed before `admit` strips the headers the diagnosis reads.
        let covered = self.debug.then(|| diagnose::covered_values(&*req));
        let result = admit(&self.verifier, self.replay.as_deref(), req, (self.clock)());
        if let Err(e) = &result {
            let mut line = serde_json::json!({
                "msg": "edge_verify_refused",
                "reason": e.reason(),
                "detail": e.to_string(),
                "method": req.method().as_str(),
                "path": req.uri().path(),
            });
            if let Some(c) = covered {
                line["signatures"] = c;
            }
            eprintln!("{line}");
        }
        result
    }
}
