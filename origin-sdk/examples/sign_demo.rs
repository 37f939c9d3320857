//! Signs a sample edge request and prints it as JSON for
//! `tests/py/verify_capture.py` (independent verification with Python's
//! `http-message-signatures`).
//!
//! `cargo run -p origin-sdk --example sign_demo [--tamper]`

use origin_sdk::{trust, Signer, SigningKey};
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tamper = std::env::args().any(|a| a == "--tamper");
    let key = SigningKey::ed25519_from_seed("edge-demo", &[0x5a; 32]);
    let url = "https://origin.example/api/orders?id=42&sort=desc";
    let mut req = http::Request::get(url).body(())?;
    let facts = [
        (trust::CLIENT_IP, "198.51.100.7"),
        (trust::COUNTRY, "DE"),
        (trust::ASN, "3320"),
        (trust::COLO, "FRA"),
        (trust::REQUEST_ID, "8a1f0c"),
        (trust::USER, "alice"),
        (trust::CLAIMS, ""),
        (trust::BOT_SCORE, "91"),
        (trust::BOT_CLASS, "human"),
    ];
    for (name, value) in facts {
        req.headers_mut().insert(name, http::HeaderValue::from_static(value));
    }
    req.headers_mut().insert(http::header::HOST, http::HeaderValue::from_static("origin.example"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    Signer::new(key.clone()).sign(&mut req, now, "demo-nonce-1")?;
    if tamper {
        req.headers_mut().insert(trust::USER, http::HeaderValue::from_static("mallory"));
    }
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect();
    let out = serde_json::json!({
        "method": req.method().as_str(),
        "url": url,
        "headers": headers,
        "public_key_b64": key.verifying_key().public_key_base64(),
        "keyid": key.keyid(),
    });
    println!("{out}");
    Ok(())
}
