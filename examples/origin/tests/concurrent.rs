//! The SDK under concurrent verification, over real HTTP: valid signed
//! requests mixed with forged, replayed, reordered and truncated ones. Every
//! forged one is refused, every valid one accepted, whatever the interleaving.

use std::sync::Arc;

use origin_sdk::{trust, EdgeAuthLayer, KeySet, Signer, SigningKey, Verifier};
use axum::http;
use serde_json::Value;

const NOW: u64 = 1_700_000_000;
const VALID: usize = 200;

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed("edge-1", &[3; 32])
}

/// A request as the edge sends it: (header name, value) in wire order.
type Wire = Vec<(String, String)>;

fn signed(nonce: &str, created: u64, key: &SigningKey, port: u16) -> Wire {
    let mut b = http::Request::builder().method("GET").uri(format!("http://127.0.0.1:{port}/orders?id=7"));
    for h in trust::ALL {
        b = b.header(h, "");
    }
    let mut req = b.body(()).expect("request");
    req.headers_mut().insert(trust::COUNTRY, "FR".parse().expect("value"));
    req.headers_mut().insert(trust::REQUEST_ID, nonce.parse().expect("value"));
    Signer::new(key.clone()).sign(&mut req, created, nonce).expect("sign");
    req.headers().iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string())).collect()
}

fn set(wire: &mut Wire, name: &str, value: String) {
    for (n, v) in wire.iter_mut() {
        if n == name {
            *v = value.clone();
        }
    }
}

fn get(wire: &Wire, name: &str) -> String {
    wire.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Accepted,
    Refused,
    /// One of a pair of identical requests: exactly one of the two passes.
    ReplayPair(usize),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_refused_valid_accepted_under_concurrency() {
    let keys = KeySet::new().with(key().verifying_key());
    let app = example_origin::router_with_layer("origin".into(), EdgeAuthLayer::new(Verifier::new(keys)).clock(|| NOW));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let other = SigningKey::ed25519_from_seed("edge-1", &[9; 32]);
    let mut cases: Vec<(Wire, Expect, &str)> = Vec::new();
    for i in 0..VALID {
        let n = |kind: &str| format!("{kind}-{i}");
        cases.push((signed(&n("ok"), NOW, &key(), port), Expect::Accepted, "valid"));
        // Header lines in another order: the signature covers values, not wire order.
        let mut reversed = signed(&n("rev"), NOW, &key(), port);
        reversed.reverse();
        cases.push((reversed, Expect::Accepted, "header lines reordered"));
        // The same signed request twice, concurrently: the replay cache lets one through.
        let twice = signed(&n("dup"), NOW, &key(), port);
        cases.push((twice.clone(), Expect::ReplayPair(i), "replayed"));
        cases.push((twice, Expect::ReplayPair(i), "replayed"));

        let mut tampered = signed(&n("tamper"), NOW, &key(), port);
        set(&mut tampered, trust::COUNTRY, "US".into());
        cases.push((tampered, Expect::Refused, "trust header changed"));

        let mut reordered = signed(&n("order"), NOW, &key(), port);
        let input = get(&reordered, "signature-input").replacen("\"@method\" \"@authority\"", "\"@authority\" \"@method\"", 1);
        set(&mut reordered, "signature-input", input);
        cases.push((reordered, Expect::Refused, "covered components reordered"));

        let mut truncated = signed(&n("trunc"), NOW, &key(), port);
        let sig = get(&truncated, "signature");
        let cut = format!("{}:", &sig[..sig.len().saturating_sub(12)]);
        set(&mut truncated, "signature", cut);
        cases.push((truncated, Expect::Refused, "signature truncated"));

        cases.push((signed(&n("key"), NOW, &other, port), Expect::Refused, "signed with another key"));
        cases.push((signed(&n("old"), NOW - 3600, &key(), port), Expect::Refused, "expired"));
        cases.push((signed(&n("future"), NOW + 3600, &key(), port), Expect::Refused, "created in the future"));
        let mut stripped = signed(&n("strip"), NOW, &key(), port);
        stripped.retain(|(n, _)| n != trust::USER);
        cases.push((stripped, Expect::Refused, "covered header removed"));
    }

    let client = reqwest::Client::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for (wire, expect, what) in cases {
        let (client, limit) = (client.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore");
            let mut req = client.get(format!("http://127.0.0.1:{port}/orders?id=7"));
            for (n, v) in &wire {
                if n != "host" {
                    req = req.header(n.as_str(), v.as_str());
                }
            }
            let resp = req.send().await.expect("send");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (expect, what, status, body)
        }));
    }
    let mut replay_passed = vec![0usize; VALID];
    let (mut accepted, mut refused) = (0, 0);
    for t in tasks {
        let (expect, what, status, body) = t.await.expect("task");
        match expect {
            Expect::Accepted => {
                assert_eq!(status, 200, "{what} refused: {body}");
                assert_eq!(body["facts"]["country"], "FR");
                accepted += 1;
            }
            Expect::Refused => {
                assert_eq!(status, 401, "{what} accepted: {body}");
                refused += 1;
            }
            Expect::ReplayPair(i) => {
                assert!(status == 200 || status == 401, "{what}: {status}");
                replay_passed[i] += usize::from(status == 200);
            }
        }
    }
    assert!(replay_passed.iter().all(|&n| n == 1), "each replayed pair must pass exactly once: {replay_passed:?}");
    assert_eq!((accepted, refused), (2 * VALID, 7 * VALID));
}
