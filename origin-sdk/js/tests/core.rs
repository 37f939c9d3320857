//! The binding's core natively: the same request the edge signs, through the
//! JS-facing entry point (`Core::check_lines`), outcome as the JS side reads it.

use origin_sdk::{trust, Signer, SigningKey};
use origin_sdk_js::Core;
use serde_json::Value;

const NOW: u64 = 1_700_000_000;

fn key(id: &str, seed: u8) -> SigningKey {
    SigningKey::ed25519_from_seed(id, &[seed; 32])
}

fn spec(keys: &[&SigningKey]) -> String {
    keys.iter().map(|k| format!("{}:{}", k.keyid(), k.verifying_key().public_key_base64().unwrap_or_default())).collect::<Vec<_>>().join(",")
}

/// Edge-shaped signed request as (name, value) lines, plus forged extras.
fn signed(key: &SigningKey, nonce: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut req = http::Request::get("/orders?id=7").header("host", "origin.example").body(()).unwrap();
    for h in trust::ALL {
        req.headers_mut().insert(h, http::HeaderValue::from_static(""));
    }
    req.headers_mut().insert(trust::CLIENT_IP, "203.0.113.9".parse().unwrap());
    req.headers_mut().insert(trust::USER, "alice".parse().unwrap());
    Signer::new(key.clone()).sign(&mut req, NOW, nonce).unwrap();
    let mut lines: Vec<(String, String)> =
        req.headers().iter().map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap().to_string())).collect();
    lines.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    lines
}

fn check(core: &Core, lines: &[(String, String)], now: u64) -> Value {
    let out = core.check_lines("GET", "/orders?id=7", lines.iter().map(|(n, v)| (n.as_str(), v.as_str())), now as f64);
    serde_json::from_str(&out.to_json()).unwrap()
}

fn core(keys: &str) -> Core {
    Core::from_options(&serde_json::json!({ "keys": keys }).to_string()).unwrap()
}

#[test]
fn verifies_strips_and_refuses_replay() {
    let k = key("edge-2026", 1);
    let core = core(&spec(&[&k]));
    let lines = signed(&k, "n-1", &[("X-Edge-Injected", "1")]);
    let out = check(&core, &lines, NOW + 1);
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["facts"]["clientIp"], "203.0.113.9");
    assert_eq!(out["facts"]["user"], "alice");
    assert_eq!(out["facts"]["keyid"], "edge-2026");
    assert_eq!(out["strip"], serde_json::json!(["x-edge-injected"]));
    let again = check(&core, &lines, NOW + 1);
    assert_eq!(again["reason"], "replayed", "{again}");
    assert!(again["strip"].as_array().unwrap().len() >= 9, "replay strips every trust header: {again}");
}

#[test]
fn forged_fact_and_unknown_key_refused() {
    let k = key("edge-2026", 1);
    let core = core(&spec(&[&k]));
    let mut lines = signed(&k, "n-2", &[]);
    for (n, v) in lines.iter_mut() {
        if n == trust::USER {
            *v = "admin".into();
        }
    }
    assert_eq!(check(&core, &lines, NOW)["reason"], "bad_signature");
    let other = key("edge-2027", 2);
    assert_eq!(check(&core, &signed(&other, "n-3", &[]), NOW)["reason"], "unknown_keyid");
    assert_eq!(check(&core, &signed(&k, "n-4", &[]), NOW + 3600)["reason"], "expired");
}

#[test]
fn rotated_keys_both_accepted() {
    let (old, new) = (key("edge-2025", 3), key("edge-2026", 4));
    let core = core(&spec(&[&old, &new]));
    for (k, n) in [(&old, "a"), (&new, "b")] {
        let out = check(&core, &signed(k, n, &[]), NOW);
        assert_eq!(out["ok"], true, "{out}");
        assert_eq!(out["facts"]["keyid"], k.keyid());
    }
}

#[test]
fn bad_options_name_the_problem() {
    for (opts, needle) in [
        (r#"{"keys": 5}"#, "keys"),
        (r#"{"keys": ""}"#, "no key"),
        (r#"{"keys": "k:notbase64!"}"#, "base64"),
        (r#"{"keys": "k:AAAA", "maxSkew": -1}"#, "maxSkew"),
        (r#"{"keys": "k:AAAA", "bogus": 1}"#, "bogus"),
        ("not json", "invalid options"),
    ] {
        let e = Core::from_options(opts).err().unwrap_or_default();
        assert!(e.contains(needle), "{opts}: {e}");
    }
}

#[test]
fn unusable_clock_and_request_refused_not_panicking() {
    let k = key("edge-2026", 1);
    let core = core(&spec(&[&k]));
    for now in [f64::NAN, -1.0, f64::INFINITY] {
        let out: Value = serde_json::from_str(&core.check_lines("GET", "/", std::iter::empty(), now).to_json()).unwrap();
        assert_eq!(out["reason"], "malformed");
    }
    let out: Value = serde_json::from_str(&core.check_lines("GET", "/", [("x", "\u{1F600}")], NOW as f64).to_json()).unwrap();
    assert_eq!(out["reason"], "malformed");
}
