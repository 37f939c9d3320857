//! What the edge's signature costs: verifying it at an origin per request
//! (the signature base, structured-field parsing and the key operation, for
//! Ed25519, the recommended key, and HMAC-SHA256), and making it at the edge.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use origin_sdk::{trust, KeySet, Signer, SigningKey, Verifier};

const NOW: u64 = 1_700_000_000;

/// A request as the edge forwards it: every trust header present, signed.
fn signed_request(key: &SigningKey) -> http::Request<()> {
    let mut b = http::Request::builder().method("GET").uri("https://origin.example/api/orders?id=7&page=2");
    for (name, value) in [
        (trust::CLIENT_IP, "203.0.113.7"),
        (trust::COUNTRY, "DE"),
        (trust::ASN, "3320"),
        (trust::COLO, "FRA"),
        (trust::REQUEST_ID, "5f0c6e1e-2f4b-4c2e-9a53-0d6f3f1b2a77"),
        (trust::USER, "alice"),
        (trust::CLAIMS, "eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl19"),
        (trust::BOT_SCORE, "87"),
        (trust::BOT_CLASS, ""),
    ] {
        b = b.header(name, value);
    }
    let Ok(mut req) = b.header("accept", "application/json").body(()) else {
        panic!("benchmark request must build");
    };
    if let Err(e) = Signer::new(key.clone()).sign(&mut req, NOW, "5f0c6e1e") {
        panic!("benchmark request must sign: {e}");
    }
    req
}

fn bench(c: &mut Criterion, name: &str, key: SigningKey) {
    let req = signed_request(&key);
    let verifier = Verifier::new(KeySet::new().with(key.verifying_key()));
    assert!(verifier.verify(&req, NOW + 1).is_ok(), "benchmark signature must verify");
    c.bench_function(name, |b| b.iter(|| black_box(verifier.verify(black_box(&req), NOW + 1))));
}

/// What the edge pays per forwarded request before the key operation: the
/// signature base and `Signature-Input` over its covered components (HMAC,
/// whose key operation is a small part, so the base dominates).
fn bench_sign_hmac(c: &mut Criterion) {
    let Ok(key) = SigningKey::hmac("edge-bench-hmac", b"0123456789abcdef0123456789abcdef") else {
        panic!("HMAC key must build");
    };
    let signer = Signer::new(key);
    let req = signed_request(signer.key());
    c.bench_function("sign/hmac_signature_headers", |b| {
        b.iter(|| black_box(signer.signature_headers(black_box(&req), NOW, "5f0c6e1e-2f4b-4c2e-9a53-0d6f3f1b2a77")))
    });
}

fn bench_ed25519(c: &mut Criterion) {
    bench(c, "verify/ed25519", SigningKey::ed25519_from_seed("edge-bench", &[7; 32]));
}

fn bench_hmac(c: &mut Criterion) {
    let Ok(key) = SigningKey::hmac("edge-bench-hmac", b"0123456789abcdef0123456789abcdef") else {
        panic!("HMAC key must build");
    };
    bench(c, "verify/hmac_sha256", key);
}

criterion_group!(benches, bench_ed25519, bench_hmac, bench_sign_hmac);
criterion_main!(benches);
