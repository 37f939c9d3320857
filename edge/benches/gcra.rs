//! Cost of one GCRA decision, alone and through `Limiter` + `MemoryStore`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use edge::limit::{decide, Clock, FakeClock, GcraState, Limiter, MemoryStore, Quota};

const KEYS: usize = 10_000;

fn bench_decide(c: &mut Criterion) {
    let Ok(quota) = Quota::new(100, 60_000, 20) else {
        return;
    };
    let mut state = GcraState::FRESH;
    let mut now = 1_700_000_000_000u64;
    c.bench_function("gcra/decide", |b| {
        b.iter(|| {
            now += 1;
            let (o, s) = decide(black_box(&quota), black_box(state), black_box(now), 1);
            state = s;
            black_box(o)
        })
    });
}

fn bench_limiter(c: &mut Criterion) {
    // Generous enough that most checks are admitted and so write the store.
    let Ok(quota) = Quota::new(1_000, 1_000, 50) else {
        return;
    };
    let keys: Vec<String> = (0..KEYS).map(|i| format!("ip:203.0.{}.{}", i / 256, i % 256)).collect();
    let clock = FakeClock::new(1_700_000_000_000);
    let mut limiter = Limiter::new(clock.clone(), MemoryStore::new(KEYS));
    for k in &keys {
        limiter.check(k, &quota, 1);
    }
    assert_eq!(limiter.store().len(), KEYS);

    let mut i = 0usize;
    c.bench_function("gcra/limiter_check_10k_keys", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            if i == 0 {
                clock.advance(1);
            }
            black_box(limiter.check(black_box(&keys[i]), &quota, 1))
        })
    });
    black_box(clock.now_ms());
}

criterion_group!(benches, bench_decide, bench_limiter);
criterion_main!(benches);
