//! Origin pools: which server to try, in which order, and which servers to
//! skip for a while after failing (passive health, like nginx's `max_fails` /
//! `fail_timeout`). Pure: the shell owns one [`Health`] table per isolate and
//! passes the clock and random numbers in.

use std::collections::HashMap;

use crate::rules::{Origin, Server};

/// How one attempt at a server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Any status below 500.
    Ok,
    /// A 5xx from the server.
    ServerError(u16),
    /// Connection refused, reset, DNS, TLS: the fetch itself failed.
    ConnectError,
    /// No response headers within the pool's `timeout_ms`.
    Timeout,
}

impl Outcome {
    pub fn from_status(status: u16) -> Self {
        if status >= 500 {
            Self::ServerError(status)
        } else {
            Self::Ok
        }
    }

    pub fn is_failure(self) -> bool {
        self != Self::Ok
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ServerError(_) => "5xx",
            Self::ConnectError => "connect_error",
            Self::Timeout => "timeout",
        }
    }
}

/// Whether a failed request may be sent to the next server: only methods that
/// are safe to repeat and carry no body the edge would have to replay.
pub fn may_fail_over(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// Whether the client asks for a WebSocket: `Upgrade` is hop-by-hop and
/// stripped from forwarded requests, so the shell sets it again for these
/// (workerd then hands back the origin's socket with the 101 response).
pub fn wants_websocket(req: &crate::request::RequestInfo) -> bool {
    req.method.eq_ignore_ascii_case("GET")
        && req.header("upgrade").is_some_and(|u| u.split(',').any(|t| t.trim().eq_ignore_ascii_case("websocket")))
}

/// Readies forwarded headers for a WebSocket fetch: `Upgrade: websocket`
/// set, and the client's handshake headers (key, version, extensions)
/// removed, since workerd performs its own handshake with the origin (a
/// client key left in makes it send a request without `Connection`/`Upgrade`).
/// `Sec-WebSocket-Protocol` stays: the origin chooses the subprotocol.
pub fn websocket_headers(headers: &mut Vec<(String, String)>) {
    headers.retain(|(n, _)| {
        !["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "upgrade"]
            .iter()
            .any(|h| n.eq_ignore_ascii_case(h))
    });
    headers.push(("upgrade".into(), "websocket".into()));
}

/// The edge's answer when every attempt failed: 504 if the last one timed
/// out, 502 otherwise.
pub fn exhausted_status(last: Outcome) -> u16 {
    if last == Outcome::Timeout {
        504
    } else {
        502
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ServerHealth {
    /// Failures counted since `window_start_ms`.
    fails: u32,
    window_start_ms: u64,
    /// Skipped until then.
    down_until_ms: u64,
}

/// Passive health per server (keyed by its base URL, so a server shared by
/// two pools is down for both).
#[derive(Debug, Clone, Default)]
pub struct Health {
    servers: HashMap<String, ServerHealth>,
}

impl Health {
    pub fn is_up(&self, server: &Server, now_ms: u64) -> bool {
        self.servers.get(&server.key()).is_none_or(|h| h.down_until_ms <= now_ms)
    }

    /// Records an attempt: `max_fails` failures within `fail_timeout` mark the
    /// server down for `fail_timeout`; a success clears the count.
    pub fn record(&mut self, pool: &Origin, server: &Server, outcome: Outcome, now_ms: u64) {
        let h = self.servers.entry(server.key()).or_default();
        if !outcome.is_failure() {
            *h = ServerHealth::default();
            return;
        }
        if now_ms.saturating_sub(h.window_start_ms) >= pool.fail_timeout_ms || h.fails == 0 {
            h.fails = 0;
            h.window_start_ms = now_ms;
        }
        h.fails += 1;
        if h.fails >= pool.max_fails {
            h.down_until_ms = now_ms.saturating_add(pool.fail_timeout_ms);
            h.fails = 0;
        }
    }

    /// Forgets servers no longer down, so the table stays as small as the
    /// set of recently failing servers.
    pub fn prune(&mut self, now_ms: u64, fail_timeout_ms: u64) {
        self.servers
            .retain(|_, h| h.down_until_ms > now_ms || now_ms.saturating_sub(h.window_start_ms) < fail_timeout_ms);
    }
}

/// The order in which to try the pool's servers: servers up, in a weighted
/// random order (a server with weight 3 comes first three times as often as
/// one with weight 1); servers marked down are skipped — unless every server
/// is down, when all are tried rather than answering 502 without trying.
/// `random` yields numbers in `[0, 1)`.
pub fn plan(pool: &Origin, health: &Health, now_ms: u64, mut random: impl FnMut() -> f64) -> Vec<usize> {
    let up: Vec<usize> = (0..pool.servers.len()).filter(|&i| health.is_up(&pool.servers[i], now_ms)).collect();
    let mut left = if up.is_empty() { (0..pool.servers.len()).collect() } else { up };
    let mut order = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let total: u64 = left.iter().map(|&i| u64::from(pool.servers[i].weight)).sum();
        let r = random();
        let mut point = (r.clamp(0.0, 1.0) * total as f64) as u64;
        let mut pick = left.len() - 1;
        for (pos, &i) in left.iter().enumerate() {
            let w = u64::from(pool.servers[i].weight);
            if point < w {
                pick = pos;
                break;
            }
            point -= w;
        }
        order.push(left.remove(pick));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(weights: &[u32], max_fails: u32) -> Origin {
        let servers = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Server::parse(&format!("http://s{i}.example"), w).unwrap())
            .collect();
        Origin { servers, timeout_ms: 1000, max_fails, fail_timeout_ms: 10_000 }
    }

    /// A deterministic sequence of "random" numbers.
    fn seq(values: &[f64]) -> impl FnMut() -> f64 + '_ {
        let mut i = 0;
        move || {
            let v = values[i % values.len()];
            i += 1;
            v
        }
    }

    #[test]
    fn weighted_order_follows_the_random_point() {
        let p = pool(&[1, 3], 1);
        let h = Health::default();
        assert_eq!(plan(&p, &h, 0, seq(&[0.1])), [0, 1]);
        assert_eq!(plan(&p, &h, 0, seq(&[0.5])), [1, 0]);
        // Over many draws, weight 3 leads about three times as often.
        let mut first = [0u32; 2];
        for k in 0..1000 {
            let r = (k as f64 + 0.5) / 1000.0;
            first[plan(&p, &h, 0, seq(&[r]))[0]] += 1;
        }
        assert_eq!(first, [250, 750]);
    }

    #[test]
    fn down_servers_are_skipped_until_fail_timeout() {
        let p = pool(&[1, 1], 2);
        let mut h = Health::default();
        h.record(&p, &p.servers[0], Outcome::ConnectError, 1_000);
        assert!(h.is_up(&p.servers[0], 1_001), "one failure of two allowed");
        h.record(&p, &p.servers[0], Outcome::ServerError(503), 2_000);
        assert!(!h.is_up(&p.servers[0], 2_001));
        assert_eq!(plan(&p, &h, 2_001, seq(&[0.0])), [1]);
        assert!(h.is_up(&p.servers[0], 12_000), "back after fail_timeout");
        assert_eq!(plan(&p, &h, 12_000, seq(&[0.0])).len(), 2);
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_add_up() {
        let p = pool(&[1], 2);
        let mut h = Health::default();
        h.record(&p, &p.servers[0], Outcome::Timeout, 0);
        h.record(&p, &p.servers[0], Outcome::Timeout, 20_000);
        assert!(h.is_up(&p.servers[0], 20_001));
        h.record(&p, &p.servers[0], Outcome::Ok, 20_002);
        h.record(&p, &p.servers[0], Outcome::Timeout, 20_003);
        assert!(h.is_up(&p.servers[0], 20_004), "a success resets the count");
    }

    #[test]
    fn all_down_means_try_all() {
        let p = pool(&[1, 1], 1);
        let mut h = Health::default();
        h.record(&p, &p.servers[0], Outcome::ConnectError, 0);
        h.record(&p, &p.servers[1], Outcome::ConnectError, 0);
        assert_eq!(plan(&p, &h, 1, seq(&[0.9])).len(), 2);
        h.prune(20_000, 10_000);
        assert!(h.servers.is_empty());
    }

    #[test]
    fn outcomes_and_methods() {
        assert_eq!(Outcome::from_status(404), Outcome::Ok);
        assert_eq!(Outcome::from_status(503), Outcome::ServerError(503));
        assert_eq!(exhausted_status(Outcome::Timeout), 504);
        assert_eq!(exhausted_status(Outcome::ConnectError), 502);
        assert!(may_fail_over("get") && may_fail_over("HEAD") && !may_fail_over("POST"));
    }

    #[test]
    fn websocket_upgrades() {
        let mut r = crate::request::RequestInfo::from_url("GET", "https://s.example/ws").unwrap();
        assert!(!wants_websocket(&r));
        r.headers.push(("upgrade".into(), "WebSocket".into()));
        assert!(wants_websocket(&r));
        r.method = "POST".into();
        assert!(!wants_websocket(&r));
        let mut h: Vec<(String, String)> = [("Sec-WebSocket-Key", "k"), ("sec-websocket-protocol", "chat"), ("accept", "*/*")]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        websocket_headers(&mut h);
        let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["sec-websocket-protocol", "accept", "upgrade"]);
    }
}
