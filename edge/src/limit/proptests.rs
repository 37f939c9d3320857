//! Property tests for the limiter, driven by a fake clock.
//!
//! Window bound. Let `T` be the emission interval and `τ = limit × T`. An
//! admitted request of cost `c` at `t` leaves `TAT' = max(TAT, t) + c·T` and
//! needs `TAT' ≤ t + τ`; limited requests leave the TAT alone. For admitted
//! requests at `a ≤ t₁ ≤ … ≤ tₖ ≤ b`: `TATₖ ≥ t₁ + T·Σc ≥ a + T·Σc` and
//! `TATₖ ≤ tₖ + τ ≤ b + τ`, hence
//!
//! ```text
//! Σc ≤ ⌊(b − a) / T⌋ + limit ≤ ⌊(b − a) · rate / period⌋ + burst + 1
//! ```
//!
//! (the second step because `T = ⌈period / rate⌉ ≥ period / rate`). The bound
//! is attained, so it is tight: see `greedy_schedule_attains_the_bound`.

use proptest::prelude::*;

use super::clock::{Clock, FakeClock};
use super::gcra::{decide, GcraState, Quota, MAX_PERIOD_MS};
use super::headers::{ratelimit, ratelimit_policy, retry_after, PolicyName};
use super::store::{KeyState, Limiter, MemoryStore, StateStore};

const NS_PER_MS: u128 = 1_000_000;

fn small_quota() -> impl Strategy<Value = Quota> {
    (1u32..=1000, 1u64..=5000, 0u32..=20)
        .prop_filter_map("valid quota", |(r, p, b)| Quota::new(r, p, b).ok())
}

fn start_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..=10_000_000_000_000,
        (u64::MAX - 100_000)..=u64::MAX,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn admitted_cells_respect_the_window_bound(
        quota in small_quota(),
        start in start_ms(),
        steps in prop::collection::vec((0u64..=3000, 0u32..=25), 1..80),
    ) {
        let clock = FakeClock::new(start);
        let mut limiter = Limiter::new(clock.clone(), MemoryStore::new(4));
        let limit = quota.limit();
        let mut admitted: Vec<(u64, u32)> = Vec::new();

        for (advance, cost) in steps {
            clock.advance(advance);
            let o = limiter.check("k", &quota, cost);
            prop_assert!(o.remaining <= o.limit);
            prop_assert_eq!(o.limit, limit);
            if cost <= limit {
                prop_assert_eq!(o.retry_after_ms.is_some(), !o.allowed);
            } else {
                prop_assert!(!o.allowed);
                prop_assert_eq!(o.retry_after_ms, None);
            }
            if o.allowed {
                admitted.push((clock.now_ms(), cost));
            }
        }

        let t = u128::from(quota.emission_interval_ns());
        for i in 0..admitted.len() {
            let mut cells = 0u128;
            for j in i..admitted.len() {
                cells += u128::from(admitted[j].1);
                let w_ms = u128::from(admitted[j].0 - admitted[i].0);
                let exact = w_ms * NS_PER_MS / t + u128::from(limit);
                let nominal = w_ms * u128::from(quota.rate()) / u128::from(quota.period_ms())
                    + u128::from(quota.burst())
                    + 1;
                prop_assert!(cells <= exact, "{} cells in {} ms > {}", cells, w_ms, exact);
                prop_assert!(cells <= nominal);
            }
        }
    }

    #[test]
    fn greedy_schedule_attains_the_bound(
        step_ms in 1u64..=50,
        rate in 1u32..=20,
        burst in 0u32..=10,
        n in 0u64..=30,
        start in start_ms(),
    ) {
        // period = rate × step_ms, so T is exactly step_ms.
        let quota = Quota::new(rate, step_ms * u64::from(rate), burst).expect("valid");
        let start = start.min(u64::MAX - 2000);
        let clock = FakeClock::new(start);
        let mut limiter = Limiter::new(clock.clone(), MemoryStore::new(1));
        let mut cells = 0u64;
        for _ in 0..quota.limit() {
            cells += u64::from(limiter.check("k", &quota, 1).allowed);
        }
        for _ in 0..n {
            clock.advance(step_ms);
            cells += u64::from(limiter.check("k", &quota, 1).allowed);
        }
        // Window [start, start + n·T]: bound ⌊n·T / T⌋ + limit, reached exactly.
        prop_assert_eq!(cells, n + u64::from(quota.limit()));
        prop_assert!(!limiter.check("k", &quota, 1).allowed);
    }

    #[test]
    fn extreme_values_never_panic(
        rate in prop_oneof![Just(u32::MAX), any::<u32>(), 1u32..=10],
        period in prop_oneof![Just(MAX_PERIOD_MS), any::<u64>(), 1u64..=MAX_PERIOD_MS],
        burst in prop_oneof![Just(u32::MAX - 1), any::<u32>()],
        tat in prop_oneof![Just(u128::MAX), any::<u128>(), Just(0u128)],
        now in prop_oneof![Just(u64::MAX), any::<u64>(), Just(0u64)],
        cost in prop_oneof![Just(u32::MAX), any::<u32>(), 0u32..=2],
    ) {
        let Ok(quota) = Quota::new(rate, period, burst) else { return Ok(()) };
        let (o, next) = decide(&quota, GcraState::from_tat_ns(tat), now, cost);
        prop_assert!(o.remaining <= o.limit);
        if cost <= quota.limit() {
            prop_assert_eq!(o.retry_after_ms.is_some(), !o.allowed);
        }
        if !o.allowed {
            prop_assert_eq!(next.tat_ns(), tat);
        }
        let name = PolicyName::new("p").expect("valid");
        let _ = ratelimit_policy(&name, &quota);
        let _ = ratelimit(&name, &quota, &o);
        let _ = retry_after(&o);

        let mut limiter = Limiter::new(FakeClock::new(now), MemoryStore::new(2));
        let o = limiter.check_with_timeout("k", &quota, cost, u64::MAX);
        prop_assert!(o.remaining <= o.limit);
        let o = limiter.check_with_timeout("k", &quota, cost, u64::MAX);
        prop_assert!(o.remaining <= o.limit);
    }

    #[test]
    fn memory_store_never_exceeds_capacity(
        cap in 1usize..=8,
        ops in prop::collection::vec((0u8..=32, 0u64..=10_000, 0u64..=100), 1..200),
    ) {
        let mut store = MemoryStore::new(cap);
        let mut now = 0u64;
        for (key, expiry_offset, advance) in ops {
            now += advance;
            let state = KeyState {
                gcra: GcraState::from_tat_ns(u128::from(now + expiry_offset) * NS_PER_MS),
                blocked_until_ms: 0,
            };
            store.put(&key.to_string(), state, now);
            prop_assert!(store.len() <= cap);
            if expiry_offset > 0 {
                prop_assert_eq!(store.get(&key.to_string()), Some(state));
            }
        }
    }
}

