#![allow(dead_code)]
//! Helpers shared by the integration tests.

use origin_sdk::{trust, KeySet, Signer, SigningKey, Verifier};

pub const NOW: u64 = 1_700_000_000;

pub fn key() -> SigningKey {
    SigningKey::ed25519_from_seed("edge-test", &[9; 32])
}

pub fn hmac_key() -> SigningKey {
    SigningKey::hmac("edge-hmac", b"0123456789abcdef0123456789abcdef").unwrap()
}

pub fn verifier() -> Verifier {
    Verifier::new(KeySet::new().with(key().verifying_key()).with(hmac_key().verifying_key()))
}

/// A request as the edge forwards it: all trust headers present.
pub fn request() -> http::Request<()> {
    let mut b = http::Request::builder().method("POST").uri("https://origin.example/api/items?x=1&y=2");
    for (name, value) in [
        (trust::CLIENT_IP, "2001:db8::1"),
        (trust::COUNTRY, "NL"),
        (trust::ASN, "13335"),
        (trust::COLO, "AMS"),
        (trust::REQUEST_ID, "req-123"),
        (trust::USER, "alice"),
        (trust::CLAIMS, "eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl19"),
        (trust::BOT_SCORE, "87"),
        (trust::BOT_CLASS, ""),
    ] {
        b = b.header(name, value);
    }
    b.header("content-type", "application/json").body(()).unwrap()
}

pub fn signed_with(signer: &Signer) -> http::Request<()> {
    let mut r = request();
    signer.sign(&mut r, NOW, "nonce-1").unwrap();
    r
}

pub fn signed() -> http::Request<()> {
    signed_with(&Signer::new(key()))
}

/// Parses a message in HTTP/1.1 text form (request only).
pub fn parse_http(text: &str) -> http::Request<Vec<u8>> {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let start = lines.next().unwrap();
    let mut parts = start.split(' ');
    let method = parts.next().unwrap();
    let target = parts.next().unwrap();
    let mut b = http::Request::builder().method(method).uri(target);
    for line in lines {
        let (n, v) = line.split_once(':').unwrap();
        b = b.header(n.trim(), v.trim());
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}
