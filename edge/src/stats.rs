//! Isolate statistics: every `settings.isolate_stats_every` requests an
//! isolate logs one line with its request count, its wasm heap and the size of
//! each cache it keeps, so an operator (and `scripts/load.sh`) can see memory
//! level off instead of growing with traffic.
//!
//! ```
//! use edge::stats::{IsolateStats, Sizes};
//!
//! let mut stats = IsolateStats::default();
//! assert!(!stats.count(1_000, 2));
//! assert!(stats.count(1_500, 2)); // the 2nd request is due a line
//! let line = stats.line(1_500, &Sizes { wasm_heap_bytes: 1 << 20, ..Sizes::default() });
//! assert!(line.contains(r#""requests":2"#));
//! ```

use serde::Serialize;

/// Requests counted by this isolate since it started.
#[derive(Debug, Default)]
pub struct IsolateStats {
    requests: u64,
    started_ms: Option<u64>,
}

/// What the shell measures when a line is due. Every cache here has a fixed
/// capacity; the line shows how full each is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sizes {
    /// Linear memory of the wasm instance: everything the Rust code holds.
    /// It never shrinks, so a steady isolate shows the same figure line after line.
    pub wasm_heap_bytes: u64,
    /// Keys in the isolate's own GCRA store (`local` rules without a binding).
    pub limit_keys: usize,
    /// Keys remembered as "limited until T" for `global` rules.
    pub refused_keys: usize,
    /// JWKS URLs cached.
    pub jwks_urls: usize,
    /// Web Bot Auth key directories cached.
    pub agent_directories: usize,
}

#[derive(Serialize)]
struct Line<'a> {
    msg: &'static str,
    time_ms: u64,
    requests: u64,
    uptime_s: u64,
    #[serde(flatten)]
    sizes: &'a Sizes,
}

impl IsolateStats {
    /// Counts one request at `now_ms`; true when it is due a line (every
    /// `every`-th request; `every` = 0 never).
    pub fn count(&mut self, now_ms: u64, every: u64) -> bool {
        self.started_ms.get_or_insert(now_ms);
        self.requests = self.requests.saturating_add(1);
        every != 0 && self.requests.is_multiple_of(every)
    }

    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The JSON log line (`"msg": "isolate_stats"`).
    pub fn line(&self, now_ms: u64, sizes: &Sizes) -> String {
        let line = Line {
            msg: "isolate_stats",
            time_ms: now_ms,
            requests: self.requests,
            uptime_s: now_ms.saturating_sub(self.started_ms.unwrap_or(now_ms)) / 1000,
            sizes,
        };
        serde_json::to_string(&line).unwrap_or_else(|_| String::from("{\"msg\":\"isolate_stats\",\"error\":\"serialization\"}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_every_nth_request_only() {
        let mut s = IsolateStats::default();
        let due: Vec<u64> = (1..=10).filter(|i| s.count(*i, 3)).collect();
        assert_eq!(due, vec![3, 6, 9]);
        assert_eq!(s.requests(), 10);
    }

    #[test]
    fn zero_turns_lines_off() {
        let mut s = IsolateStats::default();
        assert!((0..100).all(|i| !s.count(i, 0)));
    }

    #[test]
    fn line_is_flat_json_with_uptime_from_the_first_request() {
        let mut s = IsolateStats::default();
        s.count(10_000, 1);
        s.count(75_500, 1);
        let sizes = Sizes { wasm_heap_bytes: 3 << 20, limit_keys: 7, refused_keys: 1, jwks_urls: 2, agent_directories: 0 };
        let v: serde_json::Value = serde_json::from_str(&s.line(75_500, &sizes)).unwrap();
        assert_eq!(v["msg"], "isolate_stats");
        assert_eq!(v["requests"], 2);
        assert_eq!(v["uptime_s"], 65);
        assert_eq!(v["wasm_heap_bytes"], 3 << 20);
        assert_eq!(v["limit_keys"], 7);
        assert_eq!(v["jwks_urls"], 2);
    }
}
