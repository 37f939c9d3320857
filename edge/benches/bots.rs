//! Cost of classifying one User-Agent (target: ≤ 2 µs natively), over real
//! UAs: the 100 top browsers and the first 400 crawler-user-agents instances
//! (vendored in tests/corpora), plus the worst case of a long browser UA.

use std::hint::black_box;
use std::path::Path;

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use edge::waf::{bot_score, classify_user_agent, UaClassifier};

fn load(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpora/useragents").join(rel);
    std::fs::read_to_string(&p).unwrap_or_default()
}

/// The bench thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`): on a machine
/// shared with other builds, wall time mostly measures waiting for a core.
struct ThreadCpu;

fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "ns (cpu)"
    }
    fn scale_throughputs(&self, _typical: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        if let Throughput::Elements(n) = throughput {
            for v in values.iter_mut() {
                *v /= *n as f64;
            }
        }
        "ns (cpu)/elem"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, i: Duration) -> Duration {
        thread_cpu_now().saturating_sub(i)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

fn bench_cpu(c: &mut Criterion<ThreadCpu>) {
    let browsers: Vec<String> = serde_json::from_str(&load("top-user-agents/src/index.json")).unwrap_or_default();
    let crawlers: Vec<serde_json::Value> = serde_json::from_str(&load("crawler-user-agents/crawler-user-agents.json")).unwrap_or_default();
    let bots: Vec<String> = crawlers
        .iter()
        .flat_map(|c| c["instances"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_string))
        .take(400)
        .collect();
    let _ = classify_user_agent("warm-up");
    let mut g = c.benchmark_group("bots_per_ua_cpu");
    g.throughput(Throughput::Elements(browsers.len() as u64));
    g.bench_function("top_browsers", |b| b.iter(|| browsers.iter().map(|u| classify_user_agent(black_box(u)) as usize).sum::<usize>()));
    g.throughput(Throughput::Elements(bots.len() as u64));
    g.bench_function("crawlers", |b| b.iter(|| bots.iter().map(|u| classify_user_agent(black_box(u)) as usize).sum::<usize>()));
    g.finish();
}

fn bench(c: &mut Criterion) {
    let browsers: Vec<String> = serde_json::from_str(&load("top-user-agents/src/index.json")).unwrap_or_default();
    let crawlers: Vec<serde_json::Value> = serde_json::from_str(&load("crawler-user-agents/crawler-user-agents.json")).unwrap_or_default();
    let bots: Vec<String> = crawlers
        .iter()
        .flat_map(|c| c["instances"].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_string))
        .take(400)
        .collect();
    let _ = classify_user_agent("warm-up");

    let mut g = c.benchmark_group("bots_per_ua");
    g.throughput(Throughput::Elements(browsers.len() as u64));
    g.bench_function("top_browsers", |b| b.iter(|| browsers.iter().map(|u| classify_user_agent(black_box(u)) as usize).sum::<usize>()));
    g.throughput(Throughput::Elements(bots.len() as u64));
    g.bench_function("crawlers", |b| b.iter(|| bots.iter().map(|u| classify_user_agent(black_box(u)) as usize).sum::<usize>()));
    // The grammar alone (no crawler table): how the cost splits.
    let grammar_only = UaClassifier::new::<&str>(&[]).ok();
    g.throughput(Throughput::Elements(browsers.len() as u64));
    g.bench_function("top_browsers_grammar_only", |b| {
        b.iter(|| browsers.iter().map(|u| grammar_only.as_ref().map_or(0, |c| c.classify(black_box(u)) as usize)).sum::<usize>())
    });
    g.finish();

    let long = "Mozilla/5.0 (Linux; Android 12; SM-G991B Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/108.0.5359.128 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/397.0.0.23.404;FBBV/123456789;FBDV/SM-G991B;FBMD/samsung;FBSN/Android;FBSV/12;FBOP/1;FBCA/arm64-v8a:;]";
    c.bench_function("bots_classify_long_inapp", |b| b.iter(|| classify_user_agent(black_box(long))));
    let headers = [("Accept", "text/html"), ("Accept-Language", "en-US,en;q=0.9"), ("Accept-Encoding", "gzip, br"), ("sec-ch-ua", "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\""), ("sec-fetch-mode", "navigate")];
    let chrome = browsers.first().cloned().unwrap_or_default();
    c.bench_function("bots_score_with_signals", |b| b.iter(|| bot_score(black_box(&chrome), &headers, "HTTP/2", None, false)));
}

criterion_group!(benches, bench);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench_cpu
}
criterion_main!(benches, cpu);
