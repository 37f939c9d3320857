//! Generic Cell Rate Algorithm, as a pure function.
//!
//! Semantics are redis-cell's `CL.THROTTLE key max_burst count period
//! [quantity]` (pinned by `tests/corpora/ratelimit/gcra_cases.json`):
//!
//! * emission interval `T = period / count`, tolerance `τ = T × (max_burst + 1)`,
//!   `limit = max_burst + 1`;
//! * `tat = max(stored_tat, now)`, `new_tat = tat + T × quantity`;
//! * limited iff `new_tat − τ > now`; then the state is left untouched,
//!   `reset_after = tat − now` and `retry_after = new_tat − τ − now`, the
//!   latter only if `T × quantity ≤ τ` (a request above `limit` can never pass);
//! * otherwise the stored TAT becomes `new_tat` and `reset_after = new_tat − now`;
//! * `remaining = ⌊(τ − reset_after) / T⌋`.
//!
//! Time is kept internally in `u128` nanoseconds: ms would make rates that
//! don't divide the period (3 per second) or exceed 1000/s unrepresentable,
//! and `u128` holds `u64::MAX` ms plus the largest tolerance, so hostile
//! clocks or quotas cannot overflow (the saturating ops are belt and braces).

use std::fmt;

const NS_PER_MS: u128 = 1_000_000;

/// Longest accepted period (~10 years). Anything longer is a configuration
/// mistake, and the bound keeps every derived duration representable.
pub const MAX_PERIOD_MS: u64 = 10 * 366 * 24 * 60 * 60 * 1000;

/// Why a [`Quota`] was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaError {
    ZeroRate,
    ZeroPeriod,
    /// `period_ms` above [`MAX_PERIOD_MS`].
    PeriodTooLong,
    /// More than one cell per nanosecond: no finite emission interval.
    RateTooHigh,
    /// `burst == u32::MAX`, so `limit = burst + 1` would not fit in `u32`.
    BurstTooLarge,
}

impl fmt::Display for QuotaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroRate => "rate must be at least 1 cell per period",
            Self::ZeroPeriod => "period must be at least 1 ms",
            Self::PeriodTooLong => "period exceeds the maximum (about 10 years)",
            Self::RateTooHigh => "rate exceeds one cell per nanosecond",
            Self::BurstTooLarge => "burst must be below u32::MAX",
        })
    }
}

impl std::error::Error for QuotaError {}

/// `rate` cells per `period_ms`, plus `burst` extra cells that may be spent
/// at once (so up to `burst + 1` back to back). Validated, hence private fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    rate: u32,
    period_ms: u64,
    burst: u32,
    /// `T`, rounded *up* to whole ns so the limiter is never looser than the
    /// configured rate (redis-cell truncates; the corpus is exact either way).
    emission_ns: u64,
}

impl Quota {
    pub fn new(rate: u32, period_ms: u64, burst: u32) -> Result<Self, QuotaError> {
        if rate == 0 {
            return Err(QuotaError::ZeroRate);
        }
        if period_ms == 0 {
            return Err(QuotaError::ZeroPeriod);
        }
        if period_ms > MAX_PERIOD_MS {
            return Err(QuotaError::PeriodTooLong);
        }
        if burst == u32::MAX {
            return Err(QuotaError::BurstTooLarge);
        }
        let period_ns = u128::from(period_ms).saturating_mul(NS_PER_MS);
        if u128::from(rate) > period_ns {
            return Err(QuotaError::RateTooHigh);
        }
        let emission_ns = u64::try_from(period_ns.div_ceil(u128::from(rate)))
            .map_err(|_| QuotaError::PeriodTooLong)?;
        Ok(Self {
            rate,
            period_ms,
            burst,
            emission_ns,
        })
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    pub fn period_ms(&self) -> u64 {
        self.period_ms
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Cells admissible back to back from a fresh state: `burst + 1`.
    pub fn limit(&self) -> u32 {
        // `new` rejects burst == u32::MAX; saturate anyway rather than trust it.
        self.burst.saturating_add(1)
    }

    /// `T`: how much one cell pushes the TAT forward.
    pub fn emission_interval_ns(&self) -> u64 {
        self.emission_ns
    }

    /// `τ = T × limit`: how far ahead of `now` the TAT may run.
    pub fn tolerance_ns(&self) -> u128 {
        u128::from(self.emission_ns).saturating_mul(u128::from(self.limit()))
    }
}

/// Per-key GCRA state: the theoretical arrival time (TAT) in ns since the
/// clock's epoch. The default (0) behaves exactly like "never seen".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GcraState {
    tat_ns: u128,
}

impl GcraState {
    /// A state with no history.
    pub const FRESH: Self = Self { tat_ns: 0 };

    pub fn from_tat_ns(tat_ns: u128) -> Self {
        Self { tat_ns }
    }

    pub fn tat_ns(&self) -> u128 {
        self.tat_ns
    }

    /// First ms at which this state is indistinguishable from
    /// [`FRESH`](Self::FRESH), i.e. when a store may forget it.
    pub fn expires_at_ms(&self) -> u64 {
        ns_to_ms_ceil(self.tat_ns)
    }
}

/// The result of one decision, in the shape `CL.THROTTLE` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub allowed: bool,
    /// `burst + 1`.
    pub limit: u32,
    /// Cells that could still be spent right now.
    pub remaining: u32,
    /// Until the key is back to a full `limit` (rounded up to ms).
    pub reset_after_ms: u64,
    /// When limited: until this same request would pass (rounded up to ms).
    /// `None` when allowed, and when the cost exceeds `limit` (never passes).
    pub retry_after_ms: Option<u64>,
}

/// Decides one request of `cost` cells at `now_ms` against `state`.
///
/// Returns the outcome and the state to store: `state` itself when limited,
/// so limited requests cost nothing and can be skipped by the store.
pub fn decide(quota: &Quota, state: GcraState, now_ms: u64, cost: u32) -> (Outcome, GcraState) {
    let now = u128::from(now_ms).saturating_mul(NS_PER_MS);
    let t = u128::from(quota.emission_ns);
    let tau = quota.tolerance_ns();
    let increment = t.saturating_mul(u128::from(cost));

    // A TAT in the past is equivalent to `now` (redis-cell's key has expired).
    let tat = state.tat_ns.max(now);
    let new_tat = tat.saturating_add(increment);
    let allowed = new_tat <= now.saturating_add(tau);

    let (ttl, retry_after, next) = if allowed {
        (new_tat.saturating_sub(now), None, GcraState { tat_ns: new_tat })
    } else {
        let retry = (increment <= tau)
            .then(|| ns_to_ms_ceil(new_tat.saturating_sub(tau).saturating_sub(now)));
        (tat.saturating_sub(now), retry, state)
    };

    // TTL exceeds τ only for state written under a different quota; then
    // nothing remains.
    let remaining = tau.saturating_sub(ttl).checked_div(t).unwrap_or(0);
    let limit = quota.limit();
    let outcome = Outcome {
        allowed,
        limit,
        remaining: u32::try_from(remaining).map_or(limit, |r| r.min(limit)),
        reset_after_ms: ns_to_ms_ceil(ttl),
        retry_after_ms: retry_after,
    };
    (outcome, next)
}

/// Rounds up so that waiting the reported time is always enough.
fn ns_to_ms_ceil(ns: u128) -> u64 {
    u64::try_from(ns.div_ceil(NS_PER_MS)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Corpus {
        params: Params,
        semantics: String,
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Params {
        limit: u32,
        max_burst: u32,
        rate: String,
    }

    #[derive(Deserialize)]
    struct Case {
        case: u32,
        t_ms: u64,
        quantity: u32,
        expect_limited: bool,
        expect_remaining: u32,
        expect_reset_after_ms: u64,
        expect_retry_after_ms: i64,
    }

    const CORPUS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/corpora/ratelimit/gcra_cases.json"
    );

    #[test]
    fn reproduces_redis_cell_corpus() {
        let text = std::fs::read_to_string(CORPUS).expect("corpus readable");
        let corpus: Corpus = serde_json::from_str(&text).expect("corpus parses");
        // The corpus encodes "not limited" as -1000 (redis-cell's -1 s).
        assert!(corpus.semantics.contains("-1000"));
        assert_eq!(corpus.params.rate, "1 per second");
        let quota = Quota::new(1, 1000, corpus.params.max_burst).expect("valid quota");
        assert_eq!(quota.limit(), corpus.params.limit);
        assert!(!corpus.cases.is_empty());

        let mut state = GcraState::FRESH;
        for c in &corpus.cases {
            let (out, next) = decide(&quota, state, c.t_ms, c.quantity);
            let retry = out.retry_after_ms.map_or(-1000, |r| r as i64);
            assert_eq!(!out.allowed, c.expect_limited, "case {} limited", c.case);
            assert_eq!(out.limit, corpus.params.limit, "case {} limit", c.case);
            assert_eq!(out.remaining, c.expect_remaining, "case {} remaining", c.case);
            assert_eq!(out.reset_after_ms, c.expect_reset_after_ms, "case {} reset", c.case);
            assert_eq!(retry, c.expect_retry_after_ms, "case {} retry", c.case);
            if !out.allowed {
                assert_eq!(next, state, "case {}: limited must not touch state", c.case);
            }
            state = next;
        }
    }

    #[test]
    fn rejects_invalid_quotas() {
        assert_eq!(Quota::new(0, 1000, 0), Err(QuotaError::ZeroRate));
        assert_eq!(Quota::new(1, 0, 0), Err(QuotaError::ZeroPeriod));
        assert_eq!(Quota::new(1, MAX_PERIOD_MS + 1, 0), Err(QuotaError::PeriodTooLong));
        assert_eq!(Quota::new(1, 1000, u32::MAX), Err(QuotaError::BurstTooLarge));
        assert_eq!(Quota::new(u32::MAX, 1, 0), Err(QuotaError::RateTooHigh));
        assert!(Quota::new(1_000_000, 1, u32::MAX - 1).is_ok());
        assert!(Quota::new(u32::MAX, MAX_PERIOD_MS, u32::MAX - 1).is_ok());
    }

    #[test]
    fn non_dividing_rate_is_not_looser_than_configured() {
        // 3 per second: T rounds up to 333_333_334 ns.
        let q = Quota::new(3, 1000, 0).expect("valid");
        assert_eq!(q.emission_interval_ns(), 333_333_334);
        let mut s = GcraState::FRESH;
        let mut admitted = 0;
        for ms in 0..=1000 {
            let (o, n) = decide(&q, s, ms, 1);
            admitted += u32::from(o.allowed);
            s = n;
        }
        // At 0, 334 and 668 ms (ms-granular clock); the fourth is due after 1000.
        assert_eq!(admitted, 3);
    }

    #[test]
    fn sub_millisecond_rates_work() {
        // 10k per second is T = 0.1 ms: each ms refills the 10-cell burst.
        let q = Quota::new(10_000, 1000, 9).expect("valid");
        let mut s = GcraState::FRESH;
        let mut admitted = 0u32;
        for _ in 0..100 {
            let (o, n) = decide(&q, s, 5, 1);
            admitted += u32::from(o.allowed);
            s = n;
        }
        assert_eq!(admitted, 10);
        let mut admitted_later = 0u32;
        for _ in 0..100 {
            let (o, n) = decide(&q, s, 6, 1);
            admitted_later += u32::from(o.allowed);
            s = n;
        }
        assert_eq!(admitted_later, 10);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let q = Quota::new(1, MAX_PERIOD_MS, u32::MAX - 1).expect("valid");
        let huge = GcraState::from_tat_ns(u128::MAX);
        for (state, now, cost) in [
            (huge, u64::MAX, u32::MAX),
            (huge, 0, 0),
            (GcraState::FRESH, u64::MAX, u32::MAX),
            (GcraState::FRESH, u64::MAX, 1),
        ] {
            let (o, _) = decide(&q, state, now, cost);
            assert!(o.remaining <= o.limit);
        }
        let (o, s) = decide(&q, GcraState::FRESH, u64::MAX, u32::MAX - 1);
        assert!(o.allowed);
        assert_eq!(o.remaining, 1);
        assert!(s.tat_ns() > u128::from(u64::MAX));
        assert_eq!(o.reset_after_ms, u64::MAX);
    }
}
